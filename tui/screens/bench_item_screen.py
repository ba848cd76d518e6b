"""One benchmark item in full: the prompt, the expected answer, and each model's answer and score."""

from __future__ import annotations

import json

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from tui.widgets.bench_messages import FeedEntry


def verdict_text(entry: FeedEntry) -> Text:
    if entry.result.error:
        return Text(f"error: {entry.result.error}", style="bold red")
    if entry.correct is None:
        return Text(f"ROUGE-L {entry.primary:.3f}")
    return Text("correct", style="bold green") if entry.correct else Text("wrong", style="bold red")


def output_text(entry: FeedEntry) -> str:
    """The raw answer; log-likelihood answers are the option log-probabilities, one per line."""
    output, logprobs = entry.result.output, entry.result.score.logprobs
    if output is None:
        return "(no output)"
    if logprobs is not None:
        return "\n".join(f"{option}: {value:.4f}" for option, value in logprobs.items())
    try:  # older rows may hold the log-probabilities only as the JSON output
        data = json.loads(output)
    except (ValueError, TypeError):
        return output
    return json.dumps(data, indent=1) if isinstance(data, dict) else output


class BenchItemScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q", "dismiss(None)", "Close")]

    def __init__(self, key: str, entries: dict[str, FeedEntry], labels: dict[str, str]) -> None:
        super().__init__()
        self.key = key
        self.entries = entries
        self.labels = labels

    def compose(self) -> ComposeResult:
        first = next(iter(self.entries.values()))
        with Vertical(id="item-dialog"):
            yield Label(f"{first.result.suite} / {first.result.item_id}", classes="dialog-title")
            with VerticalScroll(id="item-body"):
                yield Label("Prompt", classes="item-heading")
                yield Static(Text(first.prompt), id="item-prompt")
                yield Label("Expected", classes="item-heading")
                yield Static(Text(first.result.target), id="item-target")
                for model_ref, entry in self.entries.items():
                    heading = Text(self.labels.get(model_ref, model_ref), style="bold")
                    heading.append("  ")
                    heading.append_text(verdict_text(entry))
                    timing = f"  {entry.result.latency_s:.2f} s" + (
                        "  (reused from an earlier run)" if entry.cached else ""
                    )
                    heading.append(timing, style="dim")
                    yield Label(heading, classes="item-heading")
                    if entry.task != "summarize":
                        yield Static(Text(f"parsed answer: {entry.answer}"), classes="item-answer")
                    yield Static(Text(output_text(entry)), classes="item-output")
            yield Static("Escape closes", classes="hint")
