"""RemoteEngine against llama-cpp-python's own OpenAI-compatible server (the `server` extra) running
the bundled SmolLM2 on 127.0.0.1, started through duel's `python -m engines.llama_server` so its
weights are placed as everywhere else in duel (bare `llama_cpp.server` crashes on AMX CPUs). Kept
short: a few tokens each.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from chat_server import clear_remote_env

from engines.base import EngineError, GenerationParams, LoadOptions

pytestmark = pytest.mark.e2e

pytest.importorskip(
    "uvicorn", reason="llama-cpp-python's server extra is not installed (pip install 'duel[server]')"
)

REPO = Path(__file__).resolve().parents[1]
ALIAS = "SmolLM2-135M-Instruct"
HELLO = [{"role": "user", "content": "Say hello in five words."}]


@dataclass
class LlamaServer:
    process: subprocess.Popen
    url: str
    log: Path

    def stop(self) -> None:
        """SIGTERM, wait, then SIGKILL: the server does not always stop on SIGTERM."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(model: Path, log_dir: Path, weights: str | None = None) -> LlamaServer:
    port = _free_port()
    log = log_dir / f"llama-server-{port}.log"
    command = [
        sys.executable,
        "-m",
        "engines.llama_server",
        *(["--weights", weights] if weights else []),
        "--model",
        str(model),
        "--model_alias",
        ALIAS,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--n_ctx",
        "512",
        "--n_threads",
        "2",
        "--n_threads_batch",
        "2",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": ""}
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")  # this tree's engines/
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    server = LlamaServer(process, f"http://127.0.0.1:{port}/v1", log)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"engines.llama_server exited early: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                pass
        except OSError:
            time.sleep(0.25)
            continue
        try:
            import urllib.request

            with urllib.request.urlopen(f"{server.url}/models", timeout=5) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"engines.llama_server did not answer within 120 s: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def smollm2_path(bundled_models: dict[str, Path]) -> Path:
    return bundled_models["smollm2-135m"]


@pytest.fixture(scope="module")
def llama_server(smollm2_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    server = start_server(smollm2_path, tmp_path_factory.mktemp("llama-server"))
    yield server
    server.stop()


@pytest.fixture
def no_remote_env(monkeypatch: pytest.MonkeyPatch) -> None:
    clear_remote_env(monkeypatch)


@pytest.mark.timeout(300)
def test_streams_a_chat_with_consistent_stats(llama_server: LlamaServer, no_remote_env: None) -> None:
    from engines.factory import open_engine

    engine = open_engine(f"remote:{llama_server.url}", LoadOptions(n_ctx=512))
    info = engine.describe()
    assert info.display_name == ALIAS and info.family == "SmolLM2" and info.source == "remote"

    chunks = list(engine.stream_chat(HELLO, GenerationParams(max_tokens=8, temperature=0.0, seed=1)))

    texts = [c.text for c in chunks if c.text]
    stats = chunks[-1].stats
    assert stats is not None and "".join(texts).strip()
    assert stats.finish_reason in ("stop", "length")
    assert 1 <= stats.completion_tokens <= 8
    if engine.last_token_count_source == "chunks":
        assert stats.completion_tokens == len(texts)
    else:
        assert engine.last_token_count_source == "usage"
    assert 0 < stats.ttft_s <= stats.total_s
    if stats.completion_tokens > 1:
        assert stats.tokens_per_s > 0
    assert engine.supports_loglik is False


@pytest.mark.timeout(300)
def test_server_killed_mid_stream_is_an_engine_error_not_a_hang(
    smollm2_path: Path, tmp_path: Path, no_remote_env: None
) -> None:
    from engines.remote import RemoteEngine

    server = start_server(smollm2_path, tmp_path)
    try:
        engine = RemoteEngine.from_reference(f"remote:{server.url}#{ALIAS}?timeout=20&retries=0")
        received: list[str] = []
        with pytest.raises(EngineError, match="broke off the reply|ended the stream"):
            for chunk in engine.stream_chat(HELLO, GenerationParams(max_tokens=200, temperature=0.0)):
                if chunk.text:
                    received.append(chunk.text)
                if len(received) == 2:
                    server.process.kill()  # a crash, not a clean shutdown
                    server.process.wait(timeout=10)
        assert len(received) >= 2
    finally:
        server.stop()
    with pytest.raises(EngineError, match="is not reachable"):
        RemoteEngine.from_reference(f"remote:{server.url}#{ALIAS}")


@pytest.mark.timeout(300)
@pytest.mark.parametrize("weights", ["plain", "auto"])
def test_server_places_the_weights_as_duel_does(weights: str, tmp_path: Path) -> None:
    """The server entry point applies the same choice: its own load log shows the buffers it used."""
    from tiny_models import cpu_repacks_q4_0, write_tiny_model

    from engines.weights import REPACK, choose, cpu_report, unexpected_buffers, weight_buffers

    model = write_tiny_model("qwen2", tmp_path / "tiny-q4_0.gguf", quantize="Q4_0")
    server = start_server(model, tmp_path, weights)
    server.stop()
    log = server.log.read_text(encoding="utf-8", errors="replace")
    placement, report = choose(weights), cpu_report()
    assert f"duel: weights {placement.summary()} (from --weights)" in log
    buffers = weight_buffers(log.splitlines())
    assert "CPU_Mapped" in buffers, log[-2000:]
    assert unexpected_buffers(placement, buffers, report.extra_bufts or ()) == []
    if weights == "plain":
        assert REPACK not in buffers
    elif REPACK in (report.extra_bufts or ()) and cpu_repacks_q4_0(report.cpu_features):
        assert REPACK in buffers  # auto keeps the repacked weights wherever they are safe
