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
