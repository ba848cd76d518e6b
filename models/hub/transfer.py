"""The one place duel uses huggingface_hub's private streaming download (`file_download.http_get`).

It is not public API, but it is what makes a resumable download cheap: it streams a GET with a Range
header into an open file, and when the connection drops in the middle it reconnects from the last
byte it wrote. Everything about it is fenced in here, so a huggingface_hub release that changes it
breaks (and is fixed in) this module only: its import, its keyword arguments and the tqdm-like
progress object it drives.
"""

from __future__ import annotations

import functools
from typing import Any, BinaryIO

from models.progress import ProgressFn


class _ProgressAdapter:
    """Stands in for huggingface_hub's tqdm bar and reports to a duel progress callback instead."""

    def __init__(self, report: ProgressFn | None, offset: int, grand_total: int, label: str, **kwargs: Any):
        self._report = report
        self._offset = offset
        self._total = grand_total
        self._label = label
        self.n = int(kwargs.get("initial") or 0)
        self._emit()

    def _emit(self) -> None:
        if self._report is not None:
            self._report(self._offset + self.n, self._total, self._label)

    def update(self, n: int = 1) -> None:
        self.n += n
        self._emit()

    def close(self) -> None:
        pass

    def __enter__(self) -> _ProgressAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()



def stream_to_file(
    url: str,
    fh: BinaryIO,
    *,
    resume_from: int,
    headers: dict[str, str],
    expected_size: int | None,
    label: str,
    progress: ProgressFn | None,
    offset: int = 0,
    grand_total: int = 0,
) -> None:
    """GET `url` into `fh` (positioned at `resume_from`), asking only for the bytes after it.

    Progress goes to `progress(offset + bytes of this file so far, grand_total, label)`, so a model
    split into parts reports one bar over all of them. Network errors propagate as huggingface_hub
    raises them (models.hub.errors.hub_errors turns them into one-line errors).
    """
    from huggingface_hub.file_download import http_get

    bar = functools.partial(_ProgressAdapter, progress, offset, grand_total or (expected_size or 0), label)
    http_get(
        url,
        fh,
        resume_size=resume_from,
        headers=headers,
        expected_size=expected_size,
        displayed_filename=label,
        tqdm_class=bar,  # type: ignore[arg-type]
    )
