"""A pane's scrolling list of turns that keeps the newest text in view."""

from __future__ import annotations

from textual.containers import VerticalScroll


class Transcript(VerticalScroll):
    """Follows new text once the turns overflow the pane, until the user scrolls up.

    Textual's anchor does the following (and lets go when the user scrolls), but anchoring a
    transcript shorter than the pane pins it to the bottom; so it anchors on the first resize
    that makes the content overflow.
    """

    def watch_virtual_size(self) -> None:
        # container_size is 0 until the first layout, when max_scroll_y would wrongly say "overflow".
        if not self.is_anchored and self.container_size.height and self.max_scroll_y > 0:
            self.anchor()

    def reset(self) -> None:
        """Forget the anchor (the pane was cleared)."""
        self.anchor(False)
