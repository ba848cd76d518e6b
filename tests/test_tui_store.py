"""The chat's plain parts: history fitting, stats text, the conversation store, the export files."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import pytest

from engines.base import ContextOverflowError, Stats
from engines.scripted import ScriptedEngine
from models import paths
from models.errors import DuelError
from models.info import ModelInfo
from tui.chat_state import (
    PaneSettings,
    PaneTurn,
    build_messages,
    fit_to_context,
    format_stats,
    history_pairs,
)
from tui.conversation_store import MIGRATIONS, ConversationStore
from tui.export import PaneExport, build_document, render_markdown, write_exports

STATS = Stats(prompt_tokens=12, completion_tokens=21, ttft_s=0.25, total_s=1.25, finish_reason="stop")


def test_only_finished_answers_go_back_into_the_history() -> None:
    turns = [
        PaneTurn(0, "a", answer="A", finish_reason="stop"),
        PaneTurn(1, "b", answer="B…", finish_reason="cancelled"),
        PaneTurn(2, "c", answer="", finish_reason="error"),
        PaneTurn(3, "d", answer="D", finish_reason="length"),
    ]
    assert history_pairs(turns) == [("a", "A"), ("d", "D")]
    assert build_messages("sys", [("a", "A")], "q") == [
        {"role": "system", "content": "sys"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "A"},
        {"role": "user", "content": "q"},
    ]
    assert build_messages("  ", [], "q") == [{"role": "user", "content": "q"}]


def test_fit_to_context_drops_oldest_turns_then_refuses() -> None:
    engine = ScriptedEngine("x", n_ctx=60)
    pairs = [(f"question {i}", " ".join(["word"] * 10)) for i in range(5)]
    fitted = fit_to_context(engine.count_chat_tokens, "", pairs, "last question", 60, max_tokens=512)
    # The newest turns are kept, the oldest dropped, and there is room left for a reply.
    assert fitted.dropped_turns > 0
    assert fitted.messages[-1] == {"role": "user", "content": "last question"}
    assert fitted.messages[-3]["content"] == "question 4"
    assert fitted.prompt_tokens == engine.count_chat_tokens(fitted.messages)
    assert fitted.prompt_tokens + fitted.max_tokens <= 60 and fitted.max_tokens >= 60 // 4
    roomy = fit_to_context(engine.count_chat_tokens, "", pairs, "q", 4096, max_tokens=100)
    assert roomy.dropped_turns == 0 and roomy.max_tokens == 100
    with pytest.raises(ContextOverflowError, match="context full"):
        fit_to_context(engine.count_chat_tokens, "", [], " ".join(["w"] * 70), 60, max_tokens=10)


def test_stats_line_reads_like_the_issue_asks() -> None:
    assert format_stats(STATS) == "TTFT 0.25 s · 20.0 tok/s · 21 tokens · 1.25 s · stop"


def test_settings_are_validated() -> None:
    with pytest.raises(ValueError):
        PaneSettings(temperature=3)
    with pytest.raises(ValueError):
        PaneSettings(max_tokens=0)
    params = PaneSettings(temperature=0, seed=7, max_tokens=9).generation_params()
    assert (params.temperature, params.seed, params.max_tokens) == (0, 7, 9)


def test_store_saves_each_message_and_loads_them_back() -> None:
    store = ConversationStore()
    assert store.path == paths.conversations_db_file()
    assert store.schema_version == len(MIGRATIONS)
    cid = store.create_conversation("hash maps", "a", "b", {"left": {"temperature": 0.1}})
    for pane in ("left", "right"):
        store.add_message(cid, turn=0, pane=pane, role="user", content="What?", model=pane)
    store.add_message(
        cid,
        turn=0,
        pane="left",
        role="assistant",
        content="An answer",
        model="m1",
        stats=STATS,
        finish_reason="stop",
        notice="trimmed",
    )
    # Committed per message: another connection sees it at once.
    other = sqlite3.connect(store.path)
    assert other.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 3
    loaded = store.load(cid)
    left = loaded.turns["left"][0]
    assert (left.prompt, left.answer, left.model, left.notice) == ("What?", "An answer", "m1", "trimmed")
    assert left.stats == STATS and left.settled
    right = loaded.turns["right"][0]  # its answer never came: shown as cancelled, with a note
    assert right.finish_reason == "cancelled" and "no answer was saved" in right.notice
    assert loaded.settings == {"left": {"temperature": 0.1}}
    store.delete_answers(cid, 0)
    assert store.load(cid).turns["left"][0].answer == ""
    second = store.create_conversation("later", "a", "b", {})
    store.add_message(second, turn=0, pane="left", role="user", content="x")
    assert [c.title for c in store.list_conversations()] == ["later", "hash maps"]
    assert store.latest_id() == second
    assert store.list_conversations()[1].turns == 1


def test_store_refuses_a_newer_schema(tmp_path) -> None:
    path = tmp_path / "c.sqlite3"
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(DuelError, match="newer duel"):
        ConversationStore(path)


def test_store_reopens_an_existing_file_without_migrating_again(tmp_path) -> None:
    path = tmp_path / "c.sqlite3"
    first = ConversationStore(path)
    cid = first.create_conversation("t", "a", "b", {})
    first.close()
    again = ConversationStore(path)
    assert again.latest_id() == cid and again.schema_version == len(MIGRATIONS)


def _doc() -> dict:
    info = ModelInfo("qwen", None, "qwen2", "Qwen2.5", parameters=494_000_000, quantization="Q4_K_M")
    left = [
        PaneTurn(
            0, "Explain | pipes", model="qwen", answer="Pipes **connect**.", stats=STATS, finish_reason="stop"
        )
    ]
    right = [
        PaneTurn(
            0,
            "Explain | pipes",
            model="smol",
            answer="Partial",
            finish_reason="error",
            error="boom",
            stats=STATS.__class__(3, 1, 0.1, 0.2, "error"),
        )
    ]
    return build_document(
        "pipes",
        7,
        {
            "left": PaneExport("qwen", info, PaneSettings(temperature=0.0), left),
            "right": PaneExport("scripted:smol", None, PaneSettings(system_prompt="Be brief."), right),
        },
        now=datetime(2026, 11, 27, 12, 0, 0),
    )


def test_export_document_and_markdown_carry_both_panes() -> None:
    doc = _doc()
    assert doc["panes"]["left"]["model"]["quantization"] == "Q4_K_M"
    assert doc["panes"]["left"]["settings"]["temperature"] == 0.0
    assert doc["turns"][0]["answers"]["right"]["error"] == "boom"
    md = render_markdown(doc)
    assert "| Quantization | Q4_K_M | — |" in md
    assert "| System prompt | — | Be brief. |" in md
    assert "> Explain | pipes" in md
    assert "### Left — qwen" in md and "Pipes **connect**." in md
    assert "**Error:** boom" in md
    assert f"*{format_stats(STATS)}*" in md


def test_write_exports_never_overwrites() -> None:
    doc = _doc()
    first = write_exports(doc)
    second = write_exports(doc)
    assert first[0].parent == paths.exports_dir()
    assert first[0].name == "conversation-7-20261127-120000.md"
    assert second[0] != first[0] and second[0].exists()
    assert json.loads(first[1].read_text())["turns"][0]["prompt"] == "Explain | pipes"
