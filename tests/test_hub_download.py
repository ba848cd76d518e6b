"""Downloads from a hub: real HTTP against tests/hub_server.py on 127.0.0.1 (no mock objects).

The endpoint is set through HF_ENDPOINT (see `point_huggingface_hub_at`); models.hub reads it on
every call, so nothing in huggingface_hub's import-time constants needs patching for it.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import time
from pathlib import Path

import pytest
from hub_server import FakeRepo, HubServer, point_huggingface_hub_at

from models import hub

REPO = "acme/Tiny-Chat-GGUF"
Q4 = "tiny-chat-Q4_K_M.gguf"
Q8 = "tiny-chat-Q8_0.gguf"


def payload(n: int, seed: int) -> bytes:
    """Deterministic bytes that differ everywhere (a shifted copy would not match)."""
    out = bytearray()
    counter = 0
    while len(out) < n:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:n])


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    srv = HubServer().start()
    point_huggingface_hub_at(srv.url, tmp_path / "hf-home", monkeypatch)
    srv.add(FakeRepo(REPO, {Q4: payload(300_000, 1), Q8: payload(500_000, 2), "README.md": b"# tiny\n"}))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from tiny_models import write_tiny_model

    return write_tiny_model("qwen2", tmp_path_factory.mktemp("tiny") / "m.gguf").read_bytes()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_pull_one_file_gets_the_exact_bytes_into_the_models_dir(server: HubServer, duel_home: Path) -> None:
    result = hub.pull(f"hf:{REPO}/{Q4}")

    expected = server.repos[REPO].files[Q4]
    assert result.path == duel_home / "data" / "models" / "hf" / "acme" / "Tiny-Chat-GGUF" / Q4
    assert result.path.read_bytes() == expected
    assert sha(result.path.read_bytes()) == sha(expected)
    assert result.downloaded_bytes == len(expected)
    assert str(result.ref) == f"hf:{REPO}/{Q4}"
    assert not list(result.path.parent.glob("*.part*")), "no partial files are left behind"
    gets = server.file_requests(Q4)
    assert len(gets) == 1 and gets[0].range is None
    assert not any(r.authorized for r in server.requests), "no token was configured, none may be sent"


def test_pull_again_uses_the_file_on_disk_without_the_network(server: HubServer) -> None:
    first = hub.pull(f"hf:{REPO}/{Q4}")
    server.stop()  # a second pull must not need the hub at all

    again = hub.pull(f"hf:{REPO}/{Q4}")

    assert again.path == first.path
    assert again.downloaded_bytes == 0


def test_pull_by_quantization_picks_that_file(server: HubServer) -> None:
    result = hub.pull(REPO, quant="q8_0")

    assert result.path.name == Q8
    assert result.path.read_bytes() == server.repos[REPO].files[Q8]
    assert result.ref.filename == Q8
    assert not server.file_requests(Q4), "the other quantization is not downloaded"


def test_pull_without_quant_defaults_to_q4_k_m(server: HubServer) -> None:
    assert hub.pull(f"hf:{REPO}").path.name == Q4


def test_a_dropped_connection_is_resumed_with_a_range_request(
    server: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    # huggingface_hub resumes from the last whole read chunk (10 MB normally); make chunks small
    # so a drop inside this 500 kB file is resumed rather than restarted.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)
    server.drop_once[Q8] = 200_000  # the first GET stops after these bytes

    result = hub.pull(f"hf:{REPO}/{Q8}")

    assert result.path.read_bytes() == server.repos[REPO].files[Q8]
    ranges = [g.range for g in server.file_requests(Q8)]
    assert len(ranges) == 2 and ranges[0] is None
    assert ranges[1] == f"bytes={3 * 64 * 1024}-", "the second request continues after the chunks it had"


def test_an_interrupted_pull_continues_on_the_next_run(
    server: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from huggingface_hub import constants

    # Small read chunks, so the progress callback runs (and can interrupt) mid-file.
    monkeypatch.setattr(constants, "DOWNLOAD_CHUNK_SIZE", 64 * 1024)

    def ctrl_c_in_second_chunk(done: int, total: int, label: str) -> None:
        # huggingface_hub reports a chunk just before writing it: the first one is on disk now.
        if done >= 2 * 64 * 1024:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        hub.pull(f"hf:{REPO}/{Q8}", progress=ctrl_c_in_second_chunk)
    target = hub.local_path(REPO, Q8)
    assert not target.exists(), "an incomplete file must never appear under the final name"

    seen: list[int] = []
    result = hub.pull(f"hf:{REPO}/{Q8}", progress=lambda done, total, label: seen.append(done))

    assert result.path.read_bytes() == server.repos[REPO].files[Q8]
    ranges = [g.range for g in server.file_requests(Q8)]
    assert ranges[0] is None and ranges[-1] is not None and ranges[-1].startswith("bytes=")
    resumed_from = int(ranges[-1][len("bytes=") : -1])
    assert resumed_from == 64 * 1024
    assert result.downloaded_bytes == len(server.repos[REPO].files[Q8]) - resumed_from
    assert seen and seen[0] >= resumed_from, "progress starts where the earlier run stopped"


def test_a_corrupt_partial_file_is_caught_by_the_sha256_check(server: HubServer) -> None:
    target = hub.local_path(REPO, Q4)
    target.parent.mkdir(parents=True)
    # A leftover part of the right file version but with wrong bytes (a disk error, say).
    Path(str(target) + ".part").write_bytes(b"\0" * 1000)
    Path(str(target) + ".part.etag").write_text(sha(server.repos[REPO].files[Q4]))

    with pytest.raises(hub.HubError, match="sha256"):
        hub.pull(f"hf:{REPO}/{Q4}")
    assert not target.exists()
    assert hub.pull(f"hf:{REPO}/{Q4}").path.read_bytes() == server.repos[REPO].files[Q4]


def test_cdn_redirect_is_followed_and_the_token_stays_on_the_hub(
    server: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.cdn_redirect = True
    monkeypatch.setenv("HF_TOKEN", "hf_secret_value_123")

    result = hub.pull(f"hf:{REPO}/{Q4}")

    assert result.path.read_bytes() == server.repos[REPO].files[Q4]
    heads = server.file_requests(Q4, method="HEAD")
    cdn_gets = [r for r in server.requests if r.method == "GET" and r.path.startswith("/cdn/")]
    assert heads and heads[0].authorized, "the hub itself gets the token"
    assert cdn_gets and not any(r.authorized for r in cdn_gets), "the CDN never does"


def test_gated_repo_without_token_says_how_to_get_access(server: HubServer, duel_home: Path) -> None:
    server.add(FakeRepo("meta/Gated-GGUF", {Q4: payload(5000, 3)}, gated=True))

    with pytest.raises(hub.HubAccessError) as info:
        hub.pull(f"hf:meta/Gated-GGUF/{Q4}")

    message = str(info.value)
    assert "gated" in message and "HF_TOKEN" in message and "\n" not in message
    assert not hub.local_path("meta/Gated-GGUF", Q4).exists()


def test_gated_repo_with_a_token_downloads_and_the_token_is_never_written(
    server: HubServer,
    duel_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_gguf: bytes,
) -> None:
    from tui.cli import main

    secret = "hf_test_token_do_not_leak_42"
    server.tokens.add(secret)
    server.add(FakeRepo("meta/Gated-GGUF", {Q4: tiny_gguf}, gated=True))
    monkeypatch.setenv("HF_TOKEN", secret)

    assert main(["models", "pull", f"hf:meta/Gated-GGUF/{Q4}", "--name", "gated-tiny"]) == 0

    out = capsys.readouterr()
    assert hub.local_path("meta/Gated-GGUF", Q4).read_bytes() == server.repos["meta/Gated-GGUF"].files[Q4]
    assert secret not in out.out + out.err
    for path in duel_home.rglob("*"):
        if path.is_file() and path.stat().st_size < 10_000_000:
            assert secret.encode() not in path.read_bytes(), f"token written to {path}"


def test_gated_repo_with_a_token_lacking_access(server: HubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    server.add(FakeRepo("meta/Gated-GGUF", {Q4: payload(5000, 3)}, gated=True))
    monkeypatch.setenv("HF_TOKEN", "hf_not_on_the_list")

    with pytest.raises(hub.HubAccessError, match="no access"):
        hub.pull(f"hf:meta/Gated-GGUF/{Q4}")


def test_missing_file_lists_the_gguf_files_that_exist(server: HubServer) -> None:
    with pytest.raises(hub.HubNotFoundError) as info:
        hub.pull(f"hf:{REPO}/tiny-chat-Q5_K_M.gguf")

    message = str(info.value)
    assert "tiny-chat-Q5_K_M.gguf" in message and Q4 in message and Q8 in message
    assert "README.md" not in message
    assert server.file_requests("tiny-chat-Q5_K_M.gguf", method="HEAD"), "the hub was asked (a 404)"


def test_missing_quantization_lists_the_ones_there(server: HubServer) -> None:
    with pytest.raises(hub.HubNotFoundError, match=r"no IQ2_XS file; quantizations: Q4_K_M, Q8_0"):
        hub.pull(REPO, quant="IQ2_XS")


def test_missing_repo(server: HubServer) -> None:
    with pytest.raises(hub.HubNotFoundError, match="no such repo"):
        hub.pull("hf:nobody/Nothing-GGUF/x-Q4_K_M.gguf")


def test_split_model_downloads_every_part(server: HubServer) -> None:
    parts = {f"big/big-Q4_K_M-{i:05d}-of-00003.gguf": payload(40_000 + i, 10 + i) for i in (1, 2, 3)}
    server.add(FakeRepo("acme/Big-GGUF", {**parts, "big/big-Q8_0.gguf": payload(1000, 9)}))

    by_file = hub.pull("hf:acme/Big-GGUF/big/big-Q4_K_M-00001-of-00003.gguf")

    assert by_file.path.name == "big-Q4_K_M-00001-of-00003.gguf"
    assert len(by_file.files) == 3
    for name, data in parts.items():
        assert hub.local_path("acme/Big-GGUF", name).read_bytes() == data
    assert {p.parent for p in by_file.files} == {by_file.path.parent}, "parts side by side"
    by_quant = hub.pull("acme/Big-GGUF", quant="Q4_K_M")
    assert by_quant.path == by_file.path and by_quant.downloaded_bytes == 0


def test_disk_too_small_is_refused_before_downloading(
    server: HubServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = shutil.disk_usage

    def tiny_disk(path: str | os.PathLike[str]):
        usage = real(path)
        return type(usage)(usage.total, usage.total - 1000, 1000)

    monkeypatch.setattr(shutil, "disk_usage", tiny_disk)  # as models/hub/download.py sees it

    with pytest.raises(hub.DiskSpaceError, match=r"needs 488 KiB and .* has 1000 B free"):
        hub.pull(f"hf:{REPO}/{Q8}")
    assert not server.file_requests(Q8), "nothing was downloaded"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_server_is_one_clear_offline_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    point_huggingface_hub_at(f"http://127.0.0.1:{closed_port()}", tmp_path / "hf-home", monkeypatch)

    start = time.monotonic()
    with pytest.raises(hub.HubOfflineError, match="cannot reach the Hugging Face hub") as info:
        hub.pull(f"hf:{REPO}/{Q4}")
    assert time.monotonic() - start < 10, "offline is reported at once, not after minutes of retries"
    assert "\n" not in str(info.value)


def test_cli_pull_registers_the_model_and_resolve_finds_it(
    server: HubServer, capsys: pytest.CaptureFixture[str], tiny_gguf: bytes
) -> None:
    from models.resolve import resolve
    from tui.cli import main

    server.add(FakeRepo("acme/Qwen-Tiny-GGUF", {"qwen-tiny-Q4_K_M.gguf": tiny_gguf}))

    code = main(["models", "pull", "acme/Qwen-Tiny-GGUF", "--quant", "Q4_K_M"])

    out = capsys.readouterr().out
    assert code == 0
    assert "use it with: -m hf:acme/Qwen-Tiny-GGUF/qwen-tiny-Q4_K_M.gguf" in out
    assert "registered as qwen-tiny-q4_k_m" in out
    by_name = resolve("qwen-tiny-q4_k_m")
    assert by_name.architecture == "qwen2" and by_name.family == "Qwen2.5"
    by_ref = resolve("hf:acme/Qwen-Tiny-GGUF/qwen-tiny-Q4_K_M.gguf")
    assert by_ref.source == "hf" and by_ref.name == "hf:acme/Qwen-Tiny-GGUF/qwen-tiny-Q4_K_M.gguf"
    assert by_ref.path == by_name.path


def test_cli_pull_errors_are_one_line_exit_2(server: HubServer, capsys: pytest.CaptureFixture[str]) -> None:
    from tui.cli import main

    code = main(["models", "pull", f"hf:{REPO}/nope-Q4_K_M.gguf"])

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("duel: error: ") and Q4 in err


def test_a_file_in_the_huggingface_hub_cache_is_used_in_place(server: HubServer) -> None:
    from huggingface_hub import hf_hub_download

    # Another tool (or `hf download`) fetched it into the shared cache earlier.
    cached = Path(hf_hub_download(REPO, Q4, cache_dir=str(hub.hub_cache_dir()), endpoint=server.url))
    gets_before = len(server.file_requests(Q4))

    result = hub.pull(f"hf:{REPO}/{Q4}")

    assert result.path == cached and result.downloaded_bytes == 0
    assert result.path.read_bytes() == server.repos[REPO].files[Q4]
    assert len(server.file_requests(Q4)) == gets_before, "nothing downloaded twice"
    assert not hub.local_path(REPO, Q4).exists()


def test_the_test_hub_speaks_the_listing_endpoints_huggingface_hub_calls(server: HubServer) -> None:
    from huggingface_hub import HfApi

    api = HfApi(endpoint=server.url)
    server.add(FakeRepo("acme/Nested", {"a/b/m-Q4_K_M.gguf": b"x" * 2000, "top.txt": b"t"}))

    assert sorted(api.list_repo_files(REPO)) == sorted(server.repos[REPO].files)
    assert sorted(api.list_repo_files("acme/Nested")) == ["a/b/m-Q4_K_M.gguf", "top.txt"]
    commit = server.repos[REPO].commit
    info = api.model_info(REPO, revision=commit, files_metadata=True)
    sizes = {s.rfilename: s.size for s in info.siblings}
    assert info.sha == commit and sizes[Q8] == 500_000
    hashes = {s.rfilename: s.lfs.sha256 for s in info.siblings if s.lfs}
    assert hashes[Q4] == sha(server.repos[REPO].files[Q4])
