"""Regenerate the README screenshots: the chat with the two bundled models, settings, picker, help;
the arena (a battle of the bundled models, before and after the vote) and the leaderboard.

Run from the repository root: `python docs/screenshots/make_screenshots.py [chat] [arena]
[scorecard]` (chat and arena by default; scorecard: the screen of the latest run in DUEL_HOME, the
README's real run). Uses DUEL_HOME or the user's data dir for the assembled Qwen; conversations and
arena votes go to temporary stores. The leaderboard shows 300 votes simulated from ratings chosen for the
picture (benchmarks/arena/simulate.py), not a measurement: its caption in the README says so.
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
from tui.screens.arena_setup import ArenaSetup  # noqa: E402
from tui.screens.model_picker import ModelPickerScreen  # noqa: E402

HERE = Path(__file__).resolve().parent
PROMPT = "Write a Python function that checks whether a string is a palindrome."


async def chat() -> None:
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


ARENA_PROMPT = "Explain what a hash map is in two sentences."
# Ratings the leaderboard's simulated votes are drawn from (for the picture only).
PICTURE_RATINGS = {
    "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf": 1120.0,
    "qwen2.5-coder-0.5b": 1040.0,
    "smollm2-135m": 880.0,
}


def simulated_votes(path: Path) -> None:
    from benchmarks.arena.simulate import simulate_votes
    from benchmarks.arena.store import ArenaStore, BattleRecord

    q = {"role": "user", "content": "(simulated)"}
    records = [
        BattleRecord(
            model_a=v.model_a,
            model_b=v.model_b,
            conversation_a=[q, {"role": "assistant", "content": "-"}],
            conversation_b=[q, {"role": "assistant", "content": "-"}],
            status="voted",
            vote=v.outcome,
            voter="human",
            tstamp=1.7e9,
        )
        for v in simulate_votes(PICTURE_RATINGS, 300, seed=7, tie_rate=0.2)
    ]
    with ArenaStore(path) as store:
        store.import_battles(records)


async def arena() -> None:
    settings = PaneSettings(max_tokens=120, temperature=0.0, seed=0, n_ctx=2048)
    with tempfile.TemporaryDirectory() as tmp:
        app = DuelApp(
            ModelPair("qwen2.5-coder-0.5b", "smollm2-135m"),
            store=ConversationStore(Path(tmp) / "conversations.sqlite3"),
            start_section="arena",
            arena=ArenaSetup(("qwen2.5-coder-0.5b", "smollm2-135m"), settings),
            arena_store_path=Path(tmp) / "arena.sqlite3",
            arena_seed=2,
        )
        async with app.run_test(size=(160, 30)) as pilot:
            screen = app.screen
            while screen.battle is None or not all(p.info is not None or p.load_error for p in screen.panes):
                await pilot.pause(0.1)
            screen.prompt_box.value = ARENA_PROMPT
            await pilot.press("enter")
            while not screen.can_vote:
                await pilot.pause(0.2)
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "arena.svg"))  # both answers in, names hidden
            screen.set_focus(None)
            await pilot.press("3")  # a tie, for the picture
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "arena_reveal.svg"))
        board_db = Path(tmp) / "board.sqlite3"
        simulated_votes(board_db)
        app = DuelApp(
            ModelPair("scripted:left", "scripted:right"),
            store=ConversationStore(Path(tmp) / "conversations.sqlite3"),
            start_section="leaderboard",
            arena_store_path=board_db,
        )
        async with app.run_test(size=(160, 38)) as pilot:
            while app.screen.board is None:
                await pilot.pause(0.1)
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "leaderboard.svg"))


async def scorecard() -> None:
    """The scorecard screen of the latest run in DUEL_HOME: the README's real run
    (`duel bench all --limit 20 --seed 0`, see make_scorecard_shots.py)."""
    from benchmarks.store import ResultsStore
    from tui.screens.scorecard_screen import ScorecardScreen

    with ResultsStore() as store:
        run_id = store.resolve_run("last").id
    with tempfile.TemporaryDirectory() as tmp:
        app = DuelApp(
            ModelPair("scripted:left", "scripted:right"),
            store=ConversationStore(Path(tmp) / "conversations.sqlite3"),
            reopen_last=False,
        )
        async with app.run_test(size=(160, 45)) as pilot:
            screen = ScorecardScreen(run_id)
            await app.push_screen(screen)
            while screen.card is None:
                await pilot.pause(0.1)
            await pilot.pause(0.5)
            app.save_screenshot(str(HERE / "scorecard.svg"))


async def main(which: list[str]) -> None:
    if "chat" in which:
        await chat()
    if "arena" in which:
        await arena()
    if "scorecard" in which:
        await scorecard()
    print(f"screenshots written to {HERE}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:] or ["chat", "arena"]))
