"""`duel doctor`: the report a user pastes into a bug report, and exit 1 with one line per problem."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from engines.weights import AMX, REPACK, CpuReport, choose
from models import bundled, paths
from tui.cli import main

REPO = Path(__file__).resolve().parents[1]
AMX_XEON = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | AVX512 = 1 | AVX512_VNNI = 1 | AMX_INT8 = 1 | "
    "OPENMP = 1 | REPACK = 1 | "
)


def _doctor(capsys: pytest.CaptureFixture[str], *flags: str) -> tuple[int, dict, list[str]]:
    code = main(["doctor", "--json", *flags])
    out, err = capsys.readouterr()
    return code, json.loads(out), [line for line in err.splitlines() if line]


def test_json_report_has_everything_a_bug_report_needs(
    duel_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import llama_cpp

    code, report, problems = _doctor(capsys)
    assert code == 0 and problems == [] and report["ok"] is True and report["problems"] == []
    assert report["versions"]["llama_cpp_python"] == llama_cpp.__version__
    assert report["versions"]["ggml"] and report["versions"]["ggml_commit"]
    cpu = report["cpu"]
    raw = llama_cpp.llama_print_system_info().decode()
    assert cpu["system_info"] == raw.strip() and "CPU" in cpu["backends"]
    assert isinstance(cpu["gpu_offload"], bool) and all(f in raw for f in cpu["features"])
    auto = choose("auto")
    weights = {k: v for k, v in report["weights"].items() if k != "note"}
    assert weights == {"choice": "auto", "from": "default", "mode": auto.mode,
                       "left_out": sorted(auto.exclude), "reason": auto.reason}
    threads = report["threads"]
    assert threads["one_model"] == threads["cores_available"] and sum(threads["two_models"]) >= 2
    assert 0 < report["memory"]["available_bytes"] <= report["memory"]["total_bytes"]
    models = {m["name"]: m for m in report["models"]["list"]}
    assert set(bundled.BUNDLED) <= set(models)
    assert all(m["needs_bytes"] > m["size_bytes"] and m["fits"] is True for m in models.values())
    folders = report["folders"]
    assert folders["DUEL_HOME"] == str(duel_home)
    assert folders["data"]["path"] == str(paths.data_dir()) and folders["data"]["writable"]
    assert folders["exports"] == {"path": str(paths.exports_dir()), "exists": False, "writable": True}


def test_bundled_files_are_hashed_only_when_their_record_is_stale(
    bundled_models: dict[str, Path], bundled_home: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DUEL_HOME", str(bundled_home))  # Qwen assembled there with its record
    hashed: list[str] = []
    real = bundled.sha256_file

    def counting(path: Path, *args, **kwargs) -> str:  # noqa: ANN002, ANN003
        hashed.append(path.name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(bundled, "sha256_file", counting)
    record = bundled._record_path(bundled.SMOLLM2, bundled_models["smollm2-135m"])
    record.unlink()  # SmolLM2's record gone: doctor hashes it (98 MB) and writes the record again
    code, report, _ = _doctor(capsys)
    states = {m["name"]: m["sha256"] for m in report["models"]["list"]}
    assert code == 0
    assert states == {"qwen2.5-coder-0.5b": "verified", "smollm2-135m": "verified now"}
    assert hashed == [bundled_models["smollm2-135m"].name]  # never the 469 MiB Qwen
    assert record.exists()
    hashed.clear()
    _doctor(capsys)
    assert hashed == []


def test_problems_are_one_line_each_and_exit_1(
    duel_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import engines.weights as weights

    model = tmp_path / "gone.gguf"
    model.write_bytes(b"")
    config = paths.config_file()
    config.parent.mkdir(parents=True)
    config.write_text(f'[engine]\nweights = "all"\n\n[models.gone]\npath = "{model}"\n')
    model.unlink()
    damaged = paths.models_dir() / bundled.QWEN.filename
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"GGUF broken")
    monkeypatch.setattr(weights, "cpu_report", lambda: CpuReport(AMX_XEON, (AMX, REPACK)))

    code, report, problems = _doctor(capsys)
    assert code == 1 and report["ok"] is False and problems == [f"duel doctor: problem: {p}"
                                                               for p in report["problems"]]
    assert len(problems) == 2, problems
    assert "weights 'all' (config.toml [engine] weights) lets llama.cpp use AMX" in problems[0]
    assert "registered model gone:" in problems[1] and str(model) in problems[1]
    qwen = next(m for m in report["models"]["list"] if m["name"] == bundled.QWEN.name)
    assert qwen["sha256"] == "damaged"  # an assembled copy is rebuilt from the parts: not a problem
    assert report["weights"]["mode"] == "all" and "warning" in report["weights"]["reason"]

    code, report, problems = _doctor(capsys, "--weights", "auto")  # the flag wins over the config
    assert report["weights"]["mode"] == "no-amx" and report["weights"]["left_out"] == [AMX]
    assert "note" in report["weights"] and len(problems) == 1

    config.write_text('[engine]\nweights = "turbo"\n')
    code, report, problems = _doctor(capsys)
    assert code == 1 and len(problems) == 1 and "invalid setting engine.weights" in problems[0]
    assert report["weights"]["choice"] == "auto"


def test_text_report_from_a_fresh_shell(duel_home: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DUEL_HOME": str(duel_home), "PYTHONPATH": str(REPO), "COLUMNS": "120"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "tui.cli", "doctor"], capture_output=True, text=True,
                          env=env, timeout=120)
    elapsed = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    for heading in ("versions", "cpu", "weights", "threads", "memory", "models", "folders"):
        assert f"\n{heading}" in "\n" + done.stdout
    assert re.search(rf"^mode\s+{choose('auto').mode}\s*$", done.stdout, re.MULTILINE), done.stdout
    assert done.stdout.rstrip().endswith("no problems found") and done.stderr == ""
    print(f"duel doctor took {elapsed:.2f} s")  # hashing SmolLM2 once included (fresh DUEL_HOME)
