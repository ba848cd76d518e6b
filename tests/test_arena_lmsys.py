"""LMSYS battle format: export, import, round trips, all-or-nothing with the bad line named."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.arena.lmsys import export_lines, import_file, read_battles
from benchmarks.arena.store import ArenaError, ArenaStore, BattleRecord
from tui.cli import main


def _conv(question: str, answer: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


# Records shaped like FastChat's clean_battle data (extra fields included), as a user would download.
FOREIGN = [
    {
        "question_id": "q-001",
        "model_a": "vicuna-13b",
        "model_b": "alpaca-13b",
        "winner": "model_a",
        "judge": "arena_user_973",
        "conversation_a": _conv("Name a prime.", "7"),
        "conversation_b": _conv("Name a prime.", "9"),
        "turn": 1,
        "anony": True,
        "language": "English",
        "tstamp": 1682351591.1322,
    },
    {
        "question_id": "q-002",
        "model_a": "alpaca-13b",
        "model_b": "koala-13b",
        "winner": "tie (bothbad)",
        "judge": "arena_user_12",
        "conversation_a": _conv("2+2?", "5") + _conv("Sure?", "Yes"),
        "conversation_b": _conv("2+2?", "22") + _conv("Sure?", "No"),
        "turn": 2,
        "anony": False,
        "language": "English",
        "tstamp": 1682351600,
    },
    {
        "question_id": "q-003",
        "model_a": "koala-13b",
        "model_b": "vicuna-13b",
        "winner": "model_b",
        "judge": "judge:gpt-4",
        "conversation_a": _conv("Hi", "Hello"),
        "conversation_b": _conv("Hi", "Hi there"),
        "turn": 1,
        "anony": True,
        "language": "English",
        "tstamp": 1682351700.5,
    },
    {
        "model_a": "vicuna-13b",
        "model_b": "koala-13b",
        "winner": "tie",
        "judge": "arena_user_5",
        "tstamp": 1682351800.0,
    },  # like clean_battle_*_public.json: no conversations
]


def _write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _export(store: ArenaStore, voter: str = "all") -> list[dict]:
    return [json.loads(line) for line in export_lines(store.battles(voter))]


def test_import_then_export_gives_back_every_field(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "battles.jsonl", FOREIGN)
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        assert import_file(path, store=store) == (4, 0)
        exported = _export(store)
    assert len(exported) == 4
    for original, out in zip(FOREIGN, exported, strict=True):
        for key, value in original.items():
            assert out[key] == value, key
        assert out.get("conversation_a", []) == original.get("conversation_a", [])
        assert set(out["duel"]) >= {"voter", "settings", "stats_a", "sha256_a"}


def test_who_voted_human_or_judge(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "battles.jsonl", FOREIGN)
    with ArenaStore(tmp_path / "a.sqlite3") as store:
        import_file(path, store=store)
        assert [b.voter_id for b in store.battles("human")] == [
            "arena_user_973",
            "arena_user_12",
            "arena_user_5",
        ]
        assert [b.model_b for b in store.battles("judge:gpt-4")] == ["vicuna-13b"]
    battles = read_battles(path, as_judge="gpt4_pair")
    assert {b.voter for b in battles} == {"judge:gpt4_pair"}


def test_duel_votes_round_trip_through_the_format_without_loss(tmp_path: Path) -> None:
    record = BattleRecord(
        model_a="qwen2.5-coder-0.5b",
        model_b="smollm2-135m",
        settings={"temperature": 0.7, "seed": 3},
        conversation_a=_conv("Q", "A1"),
        conversation_b=_conv("Q", "B1"),
        stats_a=[{"completion_tokens": 2, "tokens_per_s": 31.5, "finish_reason": "stop"}],
        stats_b=[{"completion_tokens": 2, "tokens_per_s": 80.1, "finish_reason": "length"}],
        sha256_a="a" * 64,
        sha256_b="b" * 64,
        source="judge",
        status="voted",
        vote="a",
        voter="judge:qwen",
        tstamp=1.7e9,
        detail={"consistent": True},
    )
    with ArenaStore(tmp_path / "one.sqlite3") as one:
        one.record_battle(record)
        first = _export(one)
    assert first[0]["winner"] == "model_a" and first[0]["judge"] == "judge:qwen" and first[0]["turn"] == 1
    path = _write_jsonl(tmp_path / "out.jsonl", first)
    with ArenaStore(tmp_path / "two.sqlite3") as two:
        assert import_file(path, store=two) == (1, 0)
        again = two.battles("judge:qwen")[0]
        second = _export(two)
    assert (again.stats_b, again.sha256_a, again.settings) == (
        record.stats_b,
        record.sha256_a,
        record.settings,
    )
    assert again.detail == {"consistent": True}
    first[0]["duel"].pop("source"), second[0]["duel"].pop("source")  # "judge" first, then "import"
    first[0]["duel"].pop("session"), second[0]["duel"].pop("session")
    assert second == first


def test_a_malformed_line_names_its_line_and_nothing_is_imported(tmp_path: Path) -> None:
    bad_cases = {
        "{not json": "malformed JSON",
        json.dumps({**FOREIGN[0], "winner": "model_c"}): "'winner' must be",
        json.dumps({k: v for k, v in FOREIGN[0].items() if k != "model_b"}): "'model_b' must be",
        json.dumps({**FOREIGN[0], "model_b": "vicuna-13b"}): "the same model",
        json.dumps({**FOREIGN[0], "tstamp": "yesterday"}): "'tstamp' must be a number",
        json.dumps({**FOREIGN[0], "conversation_a": [{"role": "bot", "content": "x"}]}): "role must be",
        json.dumps([1, 2]): "expected a JSON object",
    }
    for bad, message in bad_cases.items():
        path = tmp_path / "bad.jsonl"
        lines = [json.dumps(r) for r in FOREIGN[:2]] + ["", bad, json.dumps(FOREIGN[2])]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with ArenaStore(tmp_path / "a.sqlite3") as store:
            with pytest.raises(ArenaError, match=message) as caught:
                import_file(path, store=store)
            assert f"{path}:4:" in str(caught.value) and "\n" not in str(caught.value)
            assert store.battles("all") == []


def test_the_cli_reports_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(FOREIGN[0]) + "\n" + '{"model_a": "x"}\n', encoding="utf-8")
    assert main(["arena", "import", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{path}:2:" in err
    assert main(["arena", "export"]) == 0
    assert capsys.readouterr().out == ""  # nothing was imported


def test_cli_import_twice_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write_jsonl(tmp_path / "battles.jsonl", FOREIGN)
    assert main(["arena", "import", str(path)]) == 0
    assert "imported 4 battles" in capsys.readouterr().out
    assert main(["arena", "import", str(path)]) == 0
    assert "imported 0 battles" in capsys.readouterr().out
    assert main(["arena", "export", "--voter", "human"]) == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [json.loads(line)["question_id"] for line in lines]
    assert ids[:2] == ["q-001", "q-002"] and ids[2].startswith("lmsys-")  # the 4th record had none
    assert len(lines) == 3
    out = tmp_path / "votes.jsonl"
    assert main(["arena", "export", "-o", str(out)]) == 0
    assert len(out.read_text().splitlines()) == 4


def test_a_json_array_file_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "clean_battle.json"
    path.write_text(json.dumps(FOREIGN), encoding="utf-8")
    assert [b.vote for b in read_battles(path)] == ["a", "bothbad", "b", "tie"]
    path.write_text(json.dumps([FOREIGN[0], {"model_a": "x"}]), encoding="utf-8")
    with pytest.raises(ArenaError, match="item 2"):
        read_battles(path)


def test_export_into_a_closed_pipe_is_quiet(tmp_path: Path, duel_home: Path) -> None:
    import os
    import subprocess
    import sys

    records = [{**FOREIGN[0], "tstamp": 1.7e9 + k} for k in range(1000)]  # ~600 KB: more than a pipe holds
    import_file(_write_jsonl(tmp_path / "many.jsonl", records))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "arena", "export"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip
    assert proc.stdout is not None and proc.stderr is not None
    assert json.loads(proc.stdout.readline())["model_a"] == "vicuna-13b"
    proc.stdout.close()  # like `| head -1`
    assert proc.wait(timeout=60) == 141
    assert proc.stderr.read() == b""
