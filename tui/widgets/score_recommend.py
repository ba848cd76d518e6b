"""The scorecard's Recommend tab: `duel recommend` for the run's models and suites, laid out at the
widget's width with the same table rule (benchmarks/recommend.py decides; this only shows it)."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text
from textual.events import Resize
from textual.widgets import Static

from benchmarks.recommend import TaskRecommendation
from tui.commands.cli_table import build_table
from tui.commands.recommend_cmd import recommendation_lines, recommendation_table


def recommendation_view(recs: list[TaskRecommendation], width: int) -> RenderableType:
    if not recs:
        return Text("Nothing to recommend: this run has no scored items yet.", style="dim")
    parts: list[RenderableType] = []
    for rec in recs:
        columns, rows, title = recommendation_table(rec)
        table, _ = build_table(columns, rows, width, title=title)
        parts.append(table)
        parts += [Padding(line, (0, 0, 0, 2)) for line in recommendation_lines(rec)]
        parts.append(Text(""))
    hint = (
        "The same as `duel recommend`, for this run's models and suites; there, --json has every field "
        "and --max-memory, --min-tok-s and --price-per-hour add limits and costs."
    )
    parts.append(Text(hint, style="dim"))
    return Group(*parts)


class RecommendView(Static):
    """Shows recommendations; lays the tables out again when its width changes."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.recs: list[TaskRecommendation] | None = None

    def show(self, recs: list[TaskRecommendation]) -> None:
        self.recs = recs
        self._render_recs()

    def on_resize(self, event: Resize) -> None:
        if self.recs is not None:
            self._render_recs()

    def _render_recs(self) -> None:
        self.update(recommendation_view(self.recs or [], max(self.size.width, 60)))
