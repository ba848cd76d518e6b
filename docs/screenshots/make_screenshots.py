"""Regenerate the README screenshots: the chat with the two bundled models, settings, picker, help.

Run from the repository root: `python docs/screenshots/make_screenshots.py` (uses DUEL_HOME or the
user's data dir for the assembled Qwen; conversations go to a temporary store).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tui.app import DuelApp  # noqa: E402
from tui.chat_state import PaneSettings  # noqa: E402
from tui.conversation_store import ConversationStore  # noqa: E402
from tui.pair import ModelPair  # noqa: E402
from tui.screens.model_picker import ModelPickerScreen  # noqa: E402

HERE = Path(__file__).resolve().parent
PROMPT = "Write a Python function that checks whether a string is a palindrome."


async def main() -> None:
    settings = PaneSettings(max_tokens=160, temperature=0.0, seed=0, n_ctx=2048)
    with tempfile.TemporaryDirectory() as tmp:
        app = DuelApp(
            ModelPair("qwen2.5-coder-0.5b", "smollm2-135m", settings=(settings, settings)),
            store=ConversationStore(Path(tmp) / "conversations.sqlite3"),
            reopen_last=False,
        )
        async with app.run_test(size=(160, 45)) as pilot:
            while not all(p.info is not None or p.load_error for p in app.chat.panes):
                await pilot.pause(0.1)
            app.chat.prompt_box.value = PROMPT
            await pilot.press("enter")
            while not all(p.turns and p.turns[0].settled for p in app.chat.panes):
                await pilot.pause(0.2)
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "chat.svg"))
            await pilot.press("f2")
            await pilot.pause(0.3)
            app.save_screenshot(str(HERE / "settings.svg"))
            await pilot.press("escape", "ctrl+l")
            while not (isinstance(app.screen, ModelPickerScreen) and app.screen.models is not None):
                await pilot.pause(0.1)
            await pilot.pause(0.3)
            app.save_screenshot(str(HERE / "model_picker.svg"))
            await pilot.press("escape", "f1")
            await pilot.pause(0.3)
            app.save_screenshot(str(HERE / "help.svg"))
    print(f"screenshots written to {HERE}")


if __name__ == "__main__":
    asyncio.run(main())
