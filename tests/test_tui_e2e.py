"""The chat screen with the two real bundled models (llama.cpp), a few tokens each."""

from __future__ import annotations

import pytest
from textual.widgets import Static
from tui_support import send, wait_ready, wait_settled

from engines.factory import open_engine
from tui.app import DuelApp
from tui.chat_state import PaneSettings
from tui.pair import ModelPair
from tui.widgets.turn_view import TurnView


@pytest.mark.e2e
async def test_both_bundled_models_answer_in_the_tui(bundled_models) -> None:
    qwen, smol = bundled_models["qwen2.5-coder-0.5b"], bundled_models["smollm2-135m"]
    settings = PaneSettings(max_tokens=12, temperature=0.0, seed=1, n_ctx=1024)
    pair = ModelPair(
        str(qwen), str(smol), settings=(settings, settings), open_engine=open_engine, threads=(1, 1)
    )
    app = DuelApp(pair, list_models=list)
    async with app.run_test(size=(140, 40)) as pilot:
        await wait_ready(pilot)
        left, right = app.chat.panes
        assert left.load_error is None and right.load_error is None
        assert (left.info.architecture, right.info.architecture) == ("qwen2", "llama")
        header = str(left.query_one("#model-line", Static).render())
        assert "qwen2" in header and "Q4_K_M" in header
        await send(pilot, "Say hello in one short sentence.")
        await wait_settled(pilot, timeout=120)
        for pane in (left, right):
            turn = pane.turns[0]
            assert turn.error is None, turn.error
            assert turn.answer.strip(), f"{pane.pane} pane wrote nothing"
            assert turn.finish_reason in ("stop", "length")
            assert 0 < turn.stats.completion_tokens <= 12
            stats = str(pane.query(TurnView)[0].query_one(".stats", Static).render())
            assert "tok/s" in stats and "TTFT" in stats


@pytest.mark.e2e
async def test_one_arena_battle_on_the_bundled_models(bundled_models) -> None:
    """Both hidden models stream a short answer; the vote is stored with both files' sha256."""
    from arena_support import all_battles, ask, wait_arena_ready, wait_vote_open
    from tui_support import wait_until

    from models.bundled import BUNDLED
    from tui.screens.arena_setup import ArenaSetup

    refs = {str(path): name for name, path in bundled_models.items()}
    settings = PaneSettings(max_tokens=12, temperature=0.0, seed=1, n_ctx=1024)
    pair = ModelPair("scripted:chat-left", "scripted:chat-right", open_engine=open_engine, threads=(1, 1))
    app = DuelApp(pair, list_models=list, start_section="arena", arena=ArenaSetup(tuple(refs), settings))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await wait_arena_ready(pilot)
        assert all(p.load_error is None for p in screen.panes)
        await ask(pilot, "Say hello in one short sentence.")
        await wait_until(pilot, lambda: all(p.turns and p.turns[0].answer for p in screen.panes), 120)
        # Everything but the answers (a model may say its own name): headers, status, vote bar, footer.
        shown = [screen.query_one("#arena-status"), *screen.query("PaneHeader Static, VoteBar Static")]
        text = " ".join(str(widget.render()) for widget in shown).lower()
        assert "model a" in text and "model b" in text
        assert not any(word in text for word in ("qwen", "smollm", ".gguf", "q4_k_m", "llama"))
        await wait_vote_open(pilot, timeout=120)  # both answers ended and both files hashed
        for pane in screen.panes:
            turn = pane.turns[0]
            assert turn.error is None and turn.answer.strip() and 0 < turn.stats.completion_tokens <= 12
        screen.set_focus(None)
        await pilot.press("3")
        await wait_until(pilot, lambda: screen.battle.revealed)
    (battle,) = all_battles(app)
    assert battle.status == "voted" and battle.vote == "tie"
    assert battle.sha256_a == BUNDLED[refs[battle.model_a]].sha256
    assert battle.sha256_b == BUNDLED[refs[battle.model_b]].sha256
    assert all(s[0]["tokens_per_s"] > 0 for s in (battle.stats_a, battle.stats_b))
