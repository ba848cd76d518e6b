"""`duel bench` on both bundled models (real llama.cpp), 5 sentiment items each."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.cli import main

SHA256 = {
    "qwen2.5-coder-0.5b": "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    "smollm2-135m": "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
}


@pytest.mark.e2e
def test_bench_sentiment_on_bundled_models(
    bundled_models: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    qwen, smol = str(bundled_models["qwen2.5-coder-0.5b"]), str(bundled_models["smollm2-135m"])
    assert main(["bench", "sentiment", "-m", qwen, "-m", smol, "--limit", "5", "--ctx", "1024"]) == 0
    out = capsys.readouterr().out
    assert "run 1: complete (10 items computed)" in out
    card_path = tmp_path / "card.json"
    assert main(["scorecard", "last", "--format", "json", "-o", str(card_path)]) == 0
    card = json.loads(card_path.read_text())
    identities = {m["model_ref"]: m["identity"] for m in card["models"]}
    assert identities[qwen]["sha256"] == SHA256["qwen2.5-coder-0.5b"]
    assert identities[smol]["sha256"] == SHA256["smollm2-135m"]
    assert identities[qwen]["quantization"] == "Q4_K_M" and identities[smol]["quantization"] == "Q4_1"
    rows = {r["model"]: r for r in card["results"]}
    for ref in (qwen, smol):
        row = rows[ref]
        assert row["items"] == 5 and row["method"] == "loglik" and row["failures"] == 0
        assert 0.0 <= row["accuracy"] <= 1.0 and row["mean_latency_s"] > 0
        assert row["peak_rss_mb"] > 50 and row["file_size_gb"] > 0.05
    # Every item carries the log-probability of each label, so others can re-score it.
    for item in card["items"]:
        logprobs = json.loads(item["output"])
        assert set(logprobs) == {"positive", "negative", "neutral"}
        assert all(v < 0 for v in logprobs.values())
        assert item["score"]["pred"] == max(logprobs, key=logprobs.get)
    assert len(card["head_to_head"]) == 1 and card["head_to_head"][0]["n"] == 5
