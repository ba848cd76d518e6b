"""The judge: its verdicts, both orders, several seeds, and votes kept apart from human votes."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from benchmarks.arena.judge import Judgement, judge_messages, parse_verdict
from benchmarks.arena.judge_run import JudgeRequest, JudgeRun, plan_battles
from benchmarks.arena.leaderboard import build_leaderboard
from benchmarks.arena.prompts import ArenaPrompt
from benchmarks.arena.store import ArenaStore
from engines.base import Chunk, GenerationParams, Message, ShouldStop, Stats, TemplateInUse
from engines.factory import open_engine
from engines.scripted import ScriptedEngine
from tui.cli import main


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("A is clearer and correct.\n[[A]]", "A"),
        ("Both fine. [[C]]", "C"),
        ("[[ b ]]", "B"),
        ("Use [[A]] if A is better, [[B]] if B, [[C]] for a tie.\nAnswer B explains more.\n[[B]]", "B"),
        ("[[A]] or [[B]]", None),
        ("[[A]] if Answer A is better, [[B]] if Answer B is better, or [[C]] for a tie.", None),  # an echo
        (
            "[[A]] if Answer A is better, [[B]] if Answer B is better, or [[C]] for a tie.\n[[A]]",
            "A",
        ),  # two verdicts on the last line: ambiguous
        ("My verdict: B", "B"),
        ("Answer B is more complete.\nVerdict is A", "A"),
        ("Reasons...\nB", "B"),
        ("I think Answer A is better overall.", "A"),
        ("Answer A is better here, but Answer B is better there.", None),
        ("Both answers have strengths.", None),
        ("", None),
    ],
)
def test_parse_verdict(text: str, verdict: str | None) -> None:
    assert parse_verdict(text) == verdict


def test_both_orders_are_combined() -> None:
    assert Judgement("A", "B", "", "").outcome == "a"  # a first: A; b first: B (= a again)
    assert Judgement("B", "A", "", "").outcome == "b"
    assert Judgement("C", "C", "", "").outcome == "tie"
    assert Judgement("A", "A", "", "").outcome == "tie"  # always the first place: disagreement
    assert not Judgement("A", "A", "", "").consistent
    assert Judgement("A", "C", "", "").outcome == "tie"
    assert Judgement("A", None, "", "").outcome is None
    assert Judgement(None, "B", "", "").to_json()["outcome"] is None


def test_the_judge_prompt_shows_both_answers_in_the_given_order() -> None:
    messages = judge_messages("Q?", "first answer", "second answer")
    assert messages[0]["role"] == "system" and "order" in messages[0]["content"]
    user = messages[1]["content"]
    assert user.index("first answer") < user.index("second answer") < user.index("[[A]] if Answer A")
    assert "[Answer A]\nfirst answer\n[End of Answer A]" in user


class LengthJudge(ScriptedEngine):
    """A judge that prefers the longer answer (and says so in the [[X]] format)."""

    def stream_chat(
        self, messages: Sequence[Message], params: GenerationParams, should_stop: ShouldStop | None = None
    ) -> Iterator[Chunk]:
        text = messages[-1]["content"]
        a = re.search(r"\[Answer A\]\n(.*?)\n\[End of Answer A\]", text, re.S).group(1)  # type: ignore[union-attr]
        b = re.search(r"\[Answer B\]\n(.*?)\n\[End of Answer B\]", text, re.S).group(1)  # type: ignore[union-attr]
        verdict = "A" if len(a) > len(b) else "B" if len(b) > len(a) else "C"
        yield Chunk(text=f"The longer one is better.\n[[{verdict}]]")
        yield Chunk(stats=Stats(10, 8, 0.01, 0.02, "stop"))

    @property
    def template(self) -> TemplateInUse:
        return TemplateInUse("builtin:scripted")


def _opener(ref: str, options=None, progress=None):  # noqa: ANN001, ANN202
    if ref == "length-judge":
        return LengthJudge("length-judge")
    return open_engine(ref, options)


PROMPTS = tuple(ArenaPrompt(f"p{i}", "facts", f"Question number {i}?") for i in range(6))
POOL = ("scripted:long?tokens=40", "scripted:mid?tokens=20", "scripted:short?tokens=4")


def test_a_judge_run_rates_the_longer_answers_higher(tmp_path: Path) -> None:
    request = JudgeRequest(
        judge="length-judge", pool=POOL, prompts=PROMPTS, rounds=2, seeds=(0, 1, 2), max_tokens=64
    )
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        summary = JudgeRun(request, store=store, open_engine=_opener).run()
        assert (summary.planned, summary.battles, summary.votes) == (36, 36, 36)
        assert summary.no_verdict == 0 and summary.disagreements == 0
        assert summary.first_picks * 2 == summary.decisive_verdicts  # a fair judge: half first place
        table = summary.table()
        assert [row[0] for row in table] == list(POOL)
        assert all(row[3] == 3 and row[2] is not None for row in table)  # mean ± sd over 3 seeds
        battles = store.battles("judge:length-judge")
        assert len(battles) == 36 and store.battles("human") == []
        first = battles[0]
        assert first.source == "judge" and first.detail["consistent"] is True
        assert first.detail["order_a_first"]["raw"].endswith("]]") and first.detail["seed"] == 0
        assert first.conversation_a[0]["content"].startswith("Question number")
        assert first.stats_a[0]["completion_tokens"] in (4, 20, 40)
        assert first.settings["seed"] == plan_battles(request)[0].sample_seed
        board = build_leaderboard("judge:length-judge", store=store)
        assert board.models == list(POOL)
        assert board.standings[0].wins == board.standings[0].votes  # the longest always wins
    with ArenaStore(tmp_path / "a.sqlite3") as store, pytest.raises(Exception, match="no votes from human"):
        build_leaderboard("human", store=store)


def test_the_seeds_vary_the_pairs_and_the_answers() -> None:
    request = JudgeRequest(judge="j", pool=POOL, prompts=PROMPTS, seeds=(0, 1))
    plan = plan_battles(request)
    by_seed = {s: [(b.pairing, b.sample_seed) for b in plan if b.seed == s] for s in (0, 1)}
    assert by_seed[0] != by_seed[1]
    assert plan == plan_battles(request)  # the same seeds give the same plan
    assert len({b.sample_seed for b in plan}) == len(plan)


def _judge_cli(judge: str, prompts: int, seeds: int) -> int:
    pool = "scripted:x,scripted:y"
    return main(["arena", "judge", "--judge", judge, "--pool", pool, "--limit", str(prompts),
                 "--seeds", str(seeds), "--max-tokens", "8"])  # fmt: skip


def test_a_judge_that_always_picks_the_first_place_gives_ties(capsys: pytest.CaptureFixture[str]) -> None:
    judge = "scripted:first?reply=Answer A is better. [[A]]"
    assert _judge_cli(judge, prompts=3, seeds=2) == 0
    out = capsys.readouterr().out
    assert "6 of 6 battles judged: 6 votes (6 ties because the two orders disagreed)" in out
    assert "answer shown first in 100% of its 12" in out
    board = build_leaderboard(f"judge:{judge}")
    assert all(s.ties == s.votes for s in board.standings)


def test_unreadable_verdicts_are_counted_and_left_out(capsys: pytest.CaptureFixture[str]) -> None:
    judge = "scripted:mumble?reply=hard to say"
    assert _judge_cli(judge, prompts=2, seeds=1) == 0
    assert "0 votes" in capsys.readouterr().out
    with ArenaStore() as store:
        assert store.voters() == {f"judge:{judge}": {"voted": 0, "no_verdict": 2}}
        assert all(
            b.detail["order_a_first"]["raw"] == "hard to say" for b in store.battles(status="no_verdict")
        )
    assert main(["leaderboard", "--voter", f"judge:{judge}"]) == 0
    assert "no votes" in capsys.readouterr().out


def test_cli_judge_bad_input_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["arena", "judge", "--judge", "scripted:j", "--pool", "scripted:x"]) == 2
    assert "two or more" in capsys.readouterr().err
    assert main(["arena", "judge", "--judge", "scripted:j", "--pool", "a,b", "--prompts", "nope.jsonl"]) == 2
    assert "no such prompts file" in capsys.readouterr().err
    assert main(["arena", "judge", "--judge", "scripted:j", "--pool", "a,b", "--rounds", "0"]) == 2


@pytest.mark.e2e
def test_a_bundled_model_judges_two_prompts(bundled_models: dict[str, Path]) -> None:
    smol = str(bundled_models["smollm2-135m"])
    qwen = str(bundled_models["qwen2.5-coder-0.5b"])
    request = JudgeRequest(
        judge=qwen,
        pool=(smol, "scripted:contestant?tokens=12"),
        prompts=PROMPTS[:2],
        seeds=(0,),
        max_tokens=16,
        judge_max_tokens=24,
        n_ctx=1024,
    )
    with ArenaStore() as store:
        summary = JudgeRun(request, store=store).run()
        assert summary.battles == 2 and summary.votes + summary.no_verdict == 2
        battles = store.battles(f"judge:{qwen}", status=None)
        assert len(battles) == 2
        for battle in battles:
            assert battle.status in ("voted", "no_verdict")
            assert battle.detail["order_a_first"]["raw"].strip()  # the judge really wrote something
            assert battle.detail["order_b_first"]["raw"].strip()
            smol_side = "a" if battle.model_a == smol else "b"
            stats = battle.stats_a if smol_side == "a" else battle.stats_b
            assert 0 < stats[0]["completion_tokens"] <= 16
            assert len(battle.sha256_a if smol_side == "a" else battle.sha256_b) == 64
