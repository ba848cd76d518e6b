"""`duel chat`: both models at once, JSON lines, readable output when piped, one-line errors."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.cli import main

REPO = Path(__file__).resolve().parents[1]


def _json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.e2e
def test_json_default_pair_runs_both_bundled_models(
    bundled_models: dict[str, Path], bundled_home: Path, monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DUEL_HOME", str(bundled_home))  # where the fixture assembled the Qwen
    code = main(["chat", "--json", "--max-tokens", "12", "--temperature", "0", "--seed", "1",
                 "--ctx", "300", "Explain a hash map in two sentences."])
    out, err = capfd.readouterr()  # file-descriptor level: llama.cpp's C logging would land here
    assert code == 0, err
    assert err == ""
    records = _json_lines(out)
    assert [r["model"] for r in records] == ["qwen2.5-coder-0.5b", "smollm2-135m"]
    for r in records:
        assert r["text"].strip()
        assert 0 < r["completion_tokens"] <= 12
        assert r["prompt_tokens"] > 0
        assert r["tokens_per_s"] > 0 and r["prompt_tokens_per_s"] > 0
        assert 0 < r["ttft_s"] < r["total_s"]
        assert r["finish_reason"] in ("stop", "length")
        assert r["template"] == "gguf"
        assert r["weights"]["choice"] == "auto" and "CPU_Mapped" in r["weights"]["buffers_mib"]
        # generation speed agrees with the counts and times it was computed from
        expected = (r["completion_tokens"] - 1) / (r["total_s"] - r["ttft_s"])
        assert r["tokens_per_s"] == pytest.approx(expected, rel=0.05)
    assert sum(r["threads"] for r in records) <= max(os.cpu_count() or 1, 2)


@pytest.mark.e2e
def test_same_model_twice_is_allowed(bundled_models: dict[str, Path], capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    smol = str(bundled_models["smollm2-135m"])
    code = main(["chat", "--json", "-m", smol, "-m", smol, "--max-tokens", "6", "--temperature", "0",
                 "--ctx", "256", "Hi"])
    out, err = capsys.readouterr()
    assert code == 0, err
    first, second = _json_lines(out)
    assert first["text"] == second["text"]  # greedy: two copies of one model agree


def test_scripted_pair_splits_threads_and_prints_columns_when_piped(capsys: pytest.CaptureFixture[str]
                                                                     ) -> None:
    code = main(["chat", "-m", "scripted:alpha?tokens=5", "-m", "scripted:beta?tokens=30",
                 "--max-tokens", "20", "--threads", "4", "Hello"])
    out, _ = capsys.readouterr()
    assert code == 0
    assert "[A] alpha" in out and "[B] beta" in out
    for label in ("time to first token", "generation", "prompt processing", "tokens generated",
                  "finish reason"):
        assert label in out
    assert "stop" in out and "length" in out  # alpha ran out of words, beta hit --max-tokens
    assert "\x1b[" not in out  # no terminal control codes in a pipe


def test_json_records_carry_thread_shares(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chat", "--json", "-m", "scripted:alpha", "-m", "scripted:beta", "--threads", "5", "x"])
    out, _ = capsys.readouterr()
    assert code == 0
    records = _json_lines(out)
    assert [r["threads"] for r in records] == [3, 2]
    assert all(r["template"] == "builtin:scripted" for r in records)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-m", "no-such-model", "x"], "no-such-model"),
        (["-m", "/nowhere/model.gguf", "x"], "model.gguf"),
        (["-m", "scripted:a", "-m", "scripted:b", "-m", "scripted:c", "x"], "one or two models"),
        (["-m", "scripted:a", "   "], "prompt is empty"),
        (["-m", "scripted:a?fail=load", "x"], "scripted load failure"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
                                          ) -> None:
    code = main(["chat", *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("duel: error:")


def test_non_gguf_file_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.gguf"
    bogus.write_bytes(b"PK\x03\x04 not a model" * 50)
    assert main(["chat", "-m", str(bogus), "x"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bogus.gguf" in err[0]


def test_failure_in_one_lane_still_shows_the_other(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["chat", "--json", "-m", "scripted:ok", "-m", "scripted:bad?fail=stream", "x"])
    out, err = capsys.readouterr()
    assert code == 2
    assert [r["model"] for r in _json_lines(out)] == ["ok"]
    assert "bad: scripted failure mid-stream" in err


def test_ctrl_c_cancels_both_cleanly(tmp_path: Path) -> None:
    env = {**os.environ, "DUEL_HOME": str(tmp_path), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "chat", "--json", "-m", "scripted:a?delay=0.05&tokens=400",
         "-m", "scripted:b?delay=0.05&tokens=400", "--max-tokens", "400", "x"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    time.sleep(4.0)  # both are generating by now (startup takes ~1 s; each reply takes 20 s)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    records = _json_lines(out)
    assert [r["finish_reason"] for r in records] == ["cancelled", "cancelled"]
    assert all(0 < r["completion_tokens"] < 400 for r in records)
    assert "Traceback" not in err


def test_lane_left_running_gets_the_cores_of_the_one_that_finished(capsys: pytest.CaptureFixture[str]
                                                                    ) -> None:
    code = main(["chat", "--json", "-m", "scripted:quick?tokens=2",
                 "-m", "scripted:slow?delay=0.02&tokens=40", "--threads", "4", "x"])
    out, _ = capsys.readouterr()
    assert code == 0
    quick, slow = _json_lines(out)
    assert (quick["threads"], quick["threads_at_end"]) == (2, 2)
    assert (slow["threads"], slow["threads_at_end"]) == (2, 4)


def test_weights_come_from_the_flag_then_the_config_file(
    tmp_path: Path, duel_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tiny_models import write_tiny_model

    from engines.weights import choose

    model = write_tiny_model("qwen2", tmp_path / "tiny-q4_0.gguf", quantize="Q4_0")

    def weights(*flags: str) -> dict:
        code = main(["chat", "--json", "-m", str(model), "--max-tokens", "3", "--temperature", "0",
                     "--ctx", "256", *flags, "hi"])
        out, err = capsys.readouterr()
        assert code == 0, err
        (record,) = _json_lines(out)
        return record["weights"]

    assert weights()["mode"] == choose("auto").mode
    plain = weights("--weights", "plain")
    assert plain["mode"] == "plain" and "CPU_REPACK" not in plain["buffers_mib"]
    config = duel_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[engine]\nweights = "plain"\n')
    assert weights()["mode"] == "plain"
    assert weights("--weights", "auto")["mode"] == choose("auto").mode  # the flag wins
    config.write_text('[engine]\nweights = "fastest"\n')
    assert main(["chat", "-m", str(model), "hi"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "invalid setting engine.weights" in err


def test_weights_all_on_an_amx_cpu_is_warned_about(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An explicit --weights all is obeyed, but on a CPU whose llama.cpp has AMX it says what it risks."""
    from tiny_models import write_tiny_model

    import engines.weights as weights

    model = write_tiny_model("qwen2", tmp_path / "tiny-q4_0.gguf", quantize="Q4_0")
    real = weights.cpu_report()
    amx_info = "CPU : AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 | "  # the list stays this CPU's
    monkeypatch.setattr(weights, "cpu_report", lambda: weights.CpuReport(amx_info, real.extra_bufts))
    code = main(["chat", "--json", "-m", str(model), "-m", str(model), "--max-tokens", "2", "--ctx", "256",
                 "--weights", "all", "hi"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert [r["weights"]["mode"] for r in _json_lines(out)] == ["all", "all"]  # both lanes, not just one
    assert "warning: " in err and "AMX kernels crash" in err and "#20824" in err
