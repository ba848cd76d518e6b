"""Rich rendering for `duel bench`: one progress bar per model x suite, then the scorecard tables."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from benchmarks import events as ev
from benchmarks.export import METRIC_LABELS, baseline_heading, format_value
from benchmarks.scorecard import Scorecard
from tui.commands.cli_table import Column, print_table
from tui.commands.scorecard_cmd import SCORE_COLUMNS

# Shown after the headline's interval when a suite leads with another metric (drops out last).
ACCURACY = Column("accuracy", "keep", justify="right", drop=6)


class BenchProgressView:
    """Consumes runner events; bars show done/total, ETA and the running score."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TextColumn("{task.fields[score]}"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[tuple[str, str], TaskID] = {}
        self.assembly: dict[str, TaskID] = {}

    def __enter__(self) -> BenchProgressView:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def _score(self, metric: str, value: float | None) -> str:
        label = METRIC_LABELS.get(metric, metric)
        return f"{label} {value:.3f}" if value is not None else f"{label} —"

    def handle(self, event: Any) -> None:
        p = self.progress
        if isinstance(event, ev.RunStarted):
            word = "resuming" if event.resumed else "starting"
            p.console.print(f"{word} run {event.run_id}")
            for plan in event.plan:
                self.tasks[(plan.model_ref, plan.suite)] = p.add_task(
                    f"{plan.model_ref} · {plan.suite}", total=plan.total, start=False, score="",
                    count=f"0/{plan.total}",
                )
        elif isinstance(event, ev.ModelLoading):
            p.console.print(f"loading {event.model_ref}...")
        elif isinstance(event, ev.ModelProgress):
            task = self.assembly.get(event.model_ref)
            if task is None:
                task = p.add_task(f"preparing {event.model_ref}", total=event.total, score="", count="")
                self.assembly[event.model_ref] = task
            count = f"{event.done / 2**20:.0f}/{event.total / 2**20:.0f} MiB"
            p.update(task, completed=event.done, total=event.total, count=count)
        elif isinstance(event, ev.ModelLoaded):
            ident = event.identity
            p.console.print(
                f"loaded {event.model_ref} ({ident.get('file') or ident.get('name')}, "
                f"{ident.get('quantization') or 'n/a'}) in {event.load_s:.1f}s"
            )
        elif isinstance(event, ev.TaskStarted):
            task = self.tasks[(event.model_ref, event.suite)]
            # Reset so the ETA is estimated from items computed now, not from the reused ones.
            p.reset(
                task,
                total=event.total,
                completed=event.cached,
                score=self._score(event.metric, event.running_score),
                count=f"{event.cached}/{event.total}",
            )
            if event.cached:
                p.console.print(
                    f"{event.model_ref} · {event.suite}: {event.cached} items reused from earlier runs"
                )
        elif isinstance(event, ev.ItemDone):
            task = self.tasks[(event.model_ref, event.suite)]
            p.update(
                task,
                completed=event.done,
                count=f"{event.done}/{event.total}",
                score=self._score(event.metric, event.running_score),
            )
        elif isinstance(event, ev.TaskFinished):
            task = self.tasks[(event.model_ref, event.suite)]
            p.stop_task(task)
        elif isinstance(event, ev.Notice):
            p.console.print(f"[yellow]note:[/yellow] {event.text}")
        elif isinstance(event, ev.RunFinished) and event.stopped:
            p.console.print("stopped; finished items are saved")


def print_scorecard(console: Console, card: Scorecard) -> None:
    """One small table per suite (`SCORE_COLUMNS`, see cli_table), each followed by its baselines, each
    model's verdict against always answering the majority answer, and the head-to-head line."""
    from rich.padding import Padding
    from rich.text import Text

    def indented(text: Text) -> None:  # wrapped lines keep the indent
        console.print(Padding(text, (0, 0, 0, 2), expand=False))

    console.print(f"[bold]Scorecard — run {card.run['id']} ({card.run['status']})[/bold]")
    if card.unused_metric:
        console.print(Text(f"note: {card.unused_metric}", style="yellow"))
    for suite, line in card.suites.items():
        rows = [r for r in card.rows if r.suite == suite]
        metric = METRIC_LABELS.get(line.headline, line.headline)
        # A suite led by another metric still shows accuracy (the number people quote).
        with_accuracy = line.headline != "accuracy" and any(r.metric_named("accuracy") for r in rows)
        cells = []
        for row in rows:
            ci = "—" if row.ci_low is None or row.ci_high is None else f"{row.ci_low:.2f}–{row.ci_high:.2f}"
            accuracy = row.metric_named("accuracy")
            cells.append(
                [
                    row.model,
                    format_value(row.value),
                    ci,
                    *([format_value(accuracy.value if accuracy else None)] if with_accuracy else []),
                    str(row.items),
                    str(row.failures),
                    format_value(row.mean_latency_s, 2),
                    format_value(row.tokens_per_s, 1),
                ]
            )
        columns = SCORE_COLUMNS if not with_accuracy else (*SCORE_COLUMNS[:3], ACCURACY, *SCORE_COLUMNS[3:])
        print_table(
            console,
            columns,
            cells,
            title=f"{suite} — {metric} ({rows[0].method})",
            more=f"duel scorecard {card.run['id']} --json has every field",
        )
        indented(Text(baseline_heading(line), style="dim"))
        for row in rows:
            if row.baseline_verdict:
                style = "green" if row.beats_majority else "yellow"
                indented(Text(f"{row.model}: ").append(row.baseline_verdict, style=style))
        for h in card.head_to_head:
            if h.suite != suite:
                continue
            style = "green" if h.winner else "dim"
            text = Text(f"{h.model_a} {h.value_a:.3f} vs {h.model_b} {h.value_b:.3f} — ")
            text.append(h.verdict, style=style)
            if h.settle_text:
                text.append(f"; {h.settle_text}", style="dim")
            indented(text)
