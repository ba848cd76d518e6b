"""Progress reporting for long file work (assembling, verifying, downloading).

Library code takes a plain `progress(done, total, label)` callback so the CLI, the TUI and tests can
each show it their own way; `console_progress` is the CLI's way: a rich bar on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

ProgressFn = Callable[[int, int, str], None]


def no_progress(done: int, total: int, label: str) -> None:
    """The callback used when nobody watches."""


@contextmanager
def console_progress(transient: bool = False) -> Iterator[ProgressFn]:
    """A rich progress bar on stderr; one bar per distinct label, created on first report.

    Nothing is drawn until something reports, so a command that has nothing slow to do (or fails
    first) leaves the terminal untouched.
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    console = Console(stderr=True)
    if not console.is_terminal:
        # Logs and pipes get one line per step instead of a redrawn bar.
        announced: set[str] = set()

        def announce(done: int, total: int, label: str) -> None:
            if label not in announced:
                announced.add(label)
                console.print(f"{label} ({total / 2**20:.0f} MiB)...", highlight=False)

        yield announce
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=transient,
    )
    tasks: dict[str, int] = {}

    def report(done: int, total: int, label: str) -> None:
        if not tasks:
            progress.start()
        if label not in tasks:
            tasks[label] = progress.add_task(label, total=total)
        progress.update(tasks[label], completed=done, total=total)

    try:
        yield report
    finally:
        if tasks:
            progress.stop()
