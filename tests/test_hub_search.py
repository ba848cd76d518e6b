"""`duel models search` against tests/hub_server.py on 127.0.0.1, and its offline catalog fallback."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from hub_server import FakeRepo, HubServer, point_huggingface_hub_at

from models import hub
from tui.cli import main


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    srv = HubServer().start()
    point_huggingface_hub_at(srv.url, tmp_path / "hf-home", monkeypatch)
    srv.add(
        FakeRepo(
            "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
            {
                "qwen2.5-1.5b-instruct-q4_k_m.gguf": b"G" * 4000,
                "qwen2.5-1.5b-instruct-q8_0.gguf": b"G" * 7000,
                "qwen2.5-1.5b-instruct-fp16-00001-of-00002.gguf": b"G" * 6000,
                "qwen2.5-1.5b-instruct-fp16-00002-of-00002.gguf": b"G" * 6000,
                "README.md": b"hello",
            },
            downloads=5000,
        )
    )
    srv.add(FakeRepo("someone/qwen2.5-1.5b-instruct-GGUF", {"model-Q5_K_M.gguf": b"G" * 5000}, downloads=90))
    srv.add(
        FakeRepo(
            "Qwen/Qwen2.5-7B-Instruct-GGUF", {"qwen2.5-7b-instruct-q4_k_m.gguf": b"G" * 9000}, downloads=9000
        )
    )
    srv.add(FakeRepo("Qwen/Qwen2.5-1.5B-Instruct", {"model.safetensors": b"S" * 3000}, tags=("safetensors",)))
    srv.add(
        FakeRepo(
            "meta-llama/Llama-3.2-1B-Instruct-GGUF",
            {"llama-Q4_K_M.gguf": b"G" * 3000},
            gated=True,
            downloads=70,
        )
    )
    yield srv
    srv.stop()


def test_search_finds_gguf_repos_matching_every_word(server: HubServer) -> None:
    hits = hub.search(["qwen2.5", "1.5b", "instruct", "gguf"])

    assert [h.repo_id for h in hits] == [
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        "someone/qwen2.5-1.5b-instruct-GGUF",
    ]
    top = hits[0]
    assert top.quants == ["F16", "Q4_K_M", "Q8_0"]
    assert top.sizes_known
    sizes = {m.quant: m.size for m in top.models}
    assert sizes == {"Q4_K_M": 4000, "F16": 12000, "Q8_0": 7000}, "split parts are summed into one model"
    assert len(top.files) == 4, "README.md is not a model file"
    searches = [r.path for r in server.requests if r.path == "/api/models"]
    assert searches, "the hub's model search endpoint was used"


def test_search_marks_gated_repos(server: HubServer) -> None:
    (hit,) = hub.search(["llama"])
    assert hit.repo_id == "meta-llama/Llama-3.2-1B-Instruct-GGUF" and hit.gated


def test_cli_search_prints_a_table_and_family_facts(
    server: HubServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["models", "search", "qwen2.5", "1.5b", "instruct", "gguf"]) == 0

    out = capsys.readouterr().out
    assert "Qwen/Qwen2.5-1.5B-Instruct-GGUF" in out
    assert "Q4_K_M" in out and "Q8_0" in out and "F16" in out
    assert "5,000" in out  # downloads
    assert "Qwen2.5" in out and "Apache-2.0" in out, "catalog facts about the family follow the table"
    assert "Qwen/Qwen2.5-1.5B-Instruct " not in out, "repos without GGUF files are filtered out"


def test_cli_search_json(server: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "search", "qwen2.5", "7b", "--json"]) == 0

    data = json.loads(capsys.readouterr().out)
    assert [r["repo"] for r in data["results"]] == ["Qwen/Qwen2.5-7B-Instruct-GGUF"]
    (model,) = data["results"][0]["models"]
    assert model["ref"] == "hf:Qwen/Qwen2.5-7B-Instruct-GGUF/qwen2.5-7b-instruct-q4_k_m.gguf"
    assert model["size"] == 9000
    assert data["suggestions"][0]["family"] == "Qwen2.5" and data["offline"] is None


def test_cli_search_with_no_match(server: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "search", "zzz-nothing"]) == 0
    assert "No GGUF repos on the hub match" in capsys.readouterr().out


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_offline_search_falls_back_to_catalog_suggestions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    point_huggingface_hub_at(f"http://127.0.0.1:{_closed_port()}", tmp_path / "hf-home", monkeypatch)

    assert main(["models", "search", "mixtral"]) == 0

    out = capsys.readouterr().out
    assert "hub not reachable" in out
    assert "Mixtral" in out and "8x7B" in out and "Apache-2.0" in out
    assert "TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF" in out


def test_offline_search_for_an_unknown_family_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    point_huggingface_hub_at(f"http://127.0.0.1:{_closed_port()}", tmp_path / "hf-home", monkeypatch)

    assert main(["models", "search", "zzz-nothing"]) == 2
    assert "cannot reach the Hugging Face hub" in capsys.readouterr().err


def test_hf_hub_offline_is_respected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_huggingface_hub_at("http://127.0.0.1:9", tmp_path / "hf-home", monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")

    with pytest.raises(hub.HubOfflineError, match="HF_HUB_OFFLINE"):
        hub.search(["qwen"])
