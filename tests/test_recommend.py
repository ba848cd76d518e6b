"""`duel recommend`: ranking by the headline metric, ties with the items that would settle them,
constraints with their reasons, the cost formula, how runs are combined, JSON and the table."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from baseline_support import ALWAYS, READER, SUITE, imbalanced_run

from benchmarks import stats
from benchmarks.arena.leaderboard import build_leaderboard
from benchmarks.arena.store import ArenaStore, BattleRecord
from benchmarks.recommend import TASKS, Constraints, cost_per_million, recommend, recommend_task
from benchmarks.scorecard import paired_test
from benchmarks.store import ResultsStore
from engines.base import Stats
from models.paths import results_db_file
from tui.cli import main
from tui.commands.recommend_cmd import TASK_CHOICES
from tui.conversation_store import ConversationStore

COIN = "scripted:coin"


def _set_speed(model: str, tokens: int, seconds: float, rss_mib: int) -> None:
    """Give a model's stored generation results fixed timings and its runs a fixed peak memory."""
    with sqlite3.connect(results_db_file()) as conn:
        conn.execute(
            "UPDATE results SET completion_tokens = ?, latency_s = ? WHERE cache_key IN "
            "(SELECT cache_key FROM run_items WHERE model_ref = ?)",
            (tokens, seconds, model),
        )
        conn.execute("UPDATE run_models SET peak_rss_bytes = ? WHERE model_ref = ?", (rss_mib * 2**20, model))


def _classify(**kwargs) -> object:  # noqa: ANN003
    with ResultsStore() as store:
        rec = recommend_task(store, "classify", **kwargs)
    assert rec is not None
    return rec


def test_a_significant_winner_is_ranked_first_with_its_reason(tmp_path: Path) -> None:
    imbalanced_run(tmp_path)
    rec = _classify()
    assert (rec.suite, rec.metric, rec.items) == (SUITE, "macro_f1", 60)
    first, second = rec.candidates
    assert (first.model, first.rank_label, second.model, second.rank_label) == (READER, "1", ALWAYS, "2")
    assert first.reason == "best macro-F1"
    assert second.reason.startswith(f"below {READER} (p = ")
    assert rec.verdict.startswith(f"use {READER}: best macro-F1 0.866, significantly ahead of {ALWAYS}")
    assert second.baseline.startswith("not better than always answering negative")


def test_a_tie_is_said_with_the_items_that_would_settle_it(tmp_path: Path) -> None:
    imbalanced_run(tmp_path, models=(READER, ALWAYS, COIN), limit=12)
    with ResultsStore() as store:
        rec = recommend_task(store, "classify")
        runs = store.stored_results()
    ranks = {c.model: c.rank_label for c in rec.candidates}
    assert ranks == {READER: "1", ALWAYS: "2=", COIN: "2="}
    # The tie's p-value and items are the scorecard's paired test of the two, recomputed here.
    by_model = {m: sorted((s.result for s in runs if s.result.model_ref == m), key=lambda r: r.item_id)
                for m in (ALWAYS, COIN)}
    coin, always = (next(c for c in rec.candidates if c.model == m) for m in (COIN, ALWAYS))
    leader, other = (coin, always) if coin.quality > always.quality else (always, coin)
    test = paired_test("macro_f1", by_model[leader.model], by_model[other.model], ("negative", "neutral",
                       "positive"), 0)
    assert not test.significant
    assert other.reason.startswith(f"tied with {leader.model} (p = {test.p_value:.2g})")
    # Ties come first for the faster / smaller model; the verdict is about group 1 (one model here).
    assert rec.verdict.startswith(f"use {READER}")
    # A tie at the top: only the two tied models.
    rec = _classify(models=[ALWAYS, COIN])
    assert [c.rank_label for c in rec.candidates] == ["1=", "1="]
    settle = stats.settle_sentence(test.n, stats.items_to_settle(test))
    assert "are tied on macro-F1: the difference is not significant" in rec.verdict and settle in rec.verdict


def test_constraints_leave_models_out_with_a_reason_and_cost_follows_the_formula(tmp_path: Path) -> None:
    imbalanced_run(tmp_path, models=(READER, ALWAYS), method="generate", limit=6)
    _set_speed(READER, 100, 1.0, 900)  # 100 tok/s, 900 MiB
    _set_speed(ALWAYS, 100, 4.0, 300)  # 25 tok/s, 300 MiB
    rec = _classify(limits=Constraints(min_tok_s=50, price_per_hour=0.9))
    by_model = {c.model: c for c in rec.candidates}
    assert by_model[READER].tok_s == 100 and by_model[ALWAYS].tok_s == 25
    assert by_model[ALWAYS].filtered == "25.0 tok/s is under 50" and by_model[ALWAYS].rank is None
    assert by_model[READER].cost_per_1m == pytest.approx(0.9 / (3600 * 100) * 1e6) == pytest.approx(2.5)
    assert cost_per_million(0.9, 25) == pytest.approx(10.0)
    rec = _classify(limits=Constraints(max_memory_gb=0.5))
    by_model = {c.model: c for c in rec.candidates}
    assert by_model[READER].filtered == "peak RSS 900 MiB is over 0.5 GB"
    assert by_model[ALWAYS].filtered is None and by_model[ALWAYS].rank == 1
    rec = _classify(limits=Constraints(max_memory_gb=0.1))
    assert rec.verdict == "no model meets the constraints" and all(c.filtered for c in rec.candidates)


def test_runs_combine_only_with_the_same_suite_version_and_settings(tmp_path: Path) -> None:
    imbalanced_run(tmp_path, models=(READER, ALWAYS), limit=12)  # run 1
    imbalanced_run(tmp_path, models=(COIN,), limit=12)  # run 2: same items and settings
    imbalanced_run(tmp_path, models=(READER,), limit=12, shots=1)  # run 3: other settings
    rec = _classify()
    assert {c.model for c in rec.candidates} == {READER, ALWAYS, COIN} and rec.runs == (1, 2)
    assert rec.settings["shots"] == 0
    assert any("also stored for classify: airline-imbalanced (loglik, 1-shot)" in n for n in rec.notes)
    # A model measured mostly on other items is left out of the comparison, saying so, instead of
    # shrinking everyone's comparison to the few items it shares.
    imbalanced_run(tmp_path, models=("scripted:late",), limit=12, seed=7)
    rec = _classify()
    assert rec.items == 12 and "scripted:late" not in {c.model for c in rec.candidates}
    note = next(n for n in rec.notes if n.startswith("scripted:late is left out: it shares "))
    assert note.endswith(f"of the 12 items the others answered on {SUITE} (rerun it with the same --limit "
                         "and --seed to compare)")


def test_json_and_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                            monkeypatch: pytest.MonkeyPatch) -> None:
    imbalanced_run(tmp_path)
    capsys.readouterr()
    assert main(["recommend", "--json", "--price-per-hour", "0.5"]) == 0
    data = json.loads(capsys.readouterr().out)
    classify = next(t for t in data if t["task"] == "classify")
    assert classify["candidates"][0]["model"] == READER and classify["candidates"][0]["rank_label"] == "1"
    assert {"quality", "ci_low", "tok_s", "peak_rss_mb", "file_size_gb", "cost_per_1m", "filtered",
            "reason", "baseline"} <= set(classify["candidates"][0])
    assert classify["verdict"].startswith(f"use {READER}")
    for width in (60, 80, 140):
        monkeypatch.setenv("COLUMNS", str(width))
        assert main(["recommend", "--task", "classify", "--min-tok-s", "5"]) == 0
        out = capsys.readouterr().out
        assert any(line.lstrip().startswith(("1 ", "—")) and READER in line for line in out.splitlines())
        assert f"left out: {ALWAYS}: tok/s not measured" in " ".join(out.split())
        assert all(len(line.rstrip()) <= width for line in out.splitlines()), out
    assert "why" in out.splitlines()[1]  # wide enough for the reasons


def test_chat_speeds_come_from_saved_replies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = ConversationStore()
    conv = store.create_conversation("t", "scripted:fast", "scripted:slow", {})
    for turn, (model, tokens, seconds) in enumerate((("scripted:fast", 80, 1.0), ("scripted:slow", 20, 1.0),
                                                     ("scripted:fast", 40, 1.0))):
        store.add_message(conv, turn=turn, pane="left", role="user", content="hi")
        store.add_message(conv, turn=turn, pane="left", role="assistant", content="x", model=model,
                          stats=Stats(5, tokens, 0.1, seconds, "stop"))
    store.close()
    assert main(["recommend", "--task", "chat", "--json"]) == 0
    (chat,) = json.loads(capsys.readouterr().out)
    speeds = {c["model"]: (c["tok_s"], c["speed_source"]) for c in chat["candidates"]}
    assert speeds == {"scripted:fast": (60.0, "2 chat replies"), "scripted:slow": (20.0, "1 chat replies")}
    assert all(c["rank"] is None for c in chat["candidates"])
    assert chat["verdict"] == (
        "not ranked: no arena votes yet (vote in `duel arena` or run `duel arena judge`); "
        "scripted:fast is the fastest"
    )


def _battle(a: str, b: str, vote: str) -> BattleRecord:
    turn = [{"role": "user", "content": "q"}]
    return BattleRecord(model_a=a, model_b=b, conversation_a=[*turn, {"role": "assistant", "content": "x"}],
                        conversation_b=[*turn, {"role": "assistant", "content": "y"}], status="voted",
                        vote=vote, voter="human", source="arena", tstamp=1.7e9)


def test_chat_quality_is_the_arena_rating_with_ties_where_intervals_overlap() -> None:
    with ArenaStore() as store:
        for k in range(60):  # good beats weak 55 times in 60; close and good split evenly
            store.record_battle(_battle("scripted:good", "scripted:weak", "a" if k % 12 else "b"))
            store.record_battle(_battle("scripted:good", "scripted:close", "a" if k % 2 else "b"))
    with ResultsStore() as store:
        timed = {"scripted:close": (100, 1.0, 2), "scripted:good": (50, 1.0, 2)}
        rec = recommend_task(store, "chat", chat=timed)
    board = build_leaderboard()
    ratings = {s.model: s for s in board.standings}
    by_model = {c.model: c for c in rec.candidates}
    assert rec.metric == "arena rating" and "120 human arena votes" in rec.metric_reason
    for name in ("scripted:good", "scripted:close", "scripted:weak"):
        assert by_model[name].quality == pytest.approx(ratings[name].rating)
        interval = (by_model[name].ci_low, by_model[name].ci_high)
        assert interval == (ratings[name].ci_low, ratings[name].ci_high)
    # good and close overlap: tied, the faster first; weak lies below both.
    assert [(c.model, c.rank_label) for c in rec.candidates] == [
        ("scripted:close", "1="), ("scripted:good", "1="), ("scripted:weak", "3")
    ]
    assert rec.verdict.startswith("scripted:close and scripted:good are tied on arena rating")
    assert "the pick is scripted:close, faster" in rec.verdict


def test_nothing_stored_and_bad_limits(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recommend"]) == 0
    assert "nothing to recommend yet" in capsys.readouterr().out
    assert main(["recommend", "--max-memory", "0"]) == 2
    assert capsys.readouterr().err.strip() == "duel: error: --max-memory must be more than 0"
    assert TASK_CHOICES == TASKS
    with ResultsStore() as store:
        assert recommend(store) == []
