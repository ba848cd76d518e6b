"""RemoteEngine against a small OpenAI-compatible HTTP server on 127.0.0.1 (real HTTP, scripted
answers): retries on 429/5xx, auth headers, usage vs counted chunks, broken streams, timeouts.
The end-to-end test against llama-cpp-python's real server is in test_remote_llama_server.py;
many requests in flight are in test_remote_parallel.py.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from chat_server import Reply, server_factory

from engines.base import ContextOverflowError, EngineError, GenerationParams, LoadOptions
from engines.remote import RemoteEngine, parse_reference

FAST = "retries=3&retry_base_s=0.01&timeout=5"
HELLO = [{"role": "user", "content": "Say hello"}]


@pytest.fixture
def make_server(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    yield from server_factory(monkeypatch)


def run(engine: RemoteEngine, params: GenerationParams | None = None, should_stop=None):
    chunks = list(engine.stream_chat(HELLO, params or GenerationParams(max_tokens=16), should_stop))
    return "".join(c.text for c in chunks), chunks[-1].stats


def test_parse_reference() -> None:
    target = parse_reference(
        "remote:http://host:8000/v1#my-model?key_env=OPENAI_API_KEY&timeout=30&retries=1"
    )
    assert (target.base_url, target.model, target.key_env, target.timeout_s, target.retries) == (
        "http://host:8000/v1",
        "my-model",
        "OPENAI_API_KEY",
        30.0,
        1,
    )
    assert parse_reference("remote:http://host:8000").base_url == "http://host:8000/v1"
    assert parse_reference("remote:https://h/v1/chat/completions#m").base_url == "https://h/v1"
    from_options = parse_reference("remote:http://h/v1#m", LoadOptions(extra={"api_key_env": "MY_KEY"}))
    assert from_options.key_env == "MY_KEY"
    with pytest.raises(EngineError, match="bad remote reference"):
        parse_reference("remote:ftp://h/v1")
    with pytest.raises(EngineError, match="bad setting"):
        parse_reference("remote:http://h/v1#m?retries=many")


def test_streams_text_and_counts_chunks_without_usage(make_server) -> None:
    server = make_server(Reply())
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    text, stats = run(
        engine, GenerationParams(max_tokens=16, temperature=0.2, top_p=0.9, seed=7, stop=("END",))
    )

    assert text == "Hello there!"
    assert stats.completion_tokens == 3 and stats.finish_reason == "stop"
    assert engine.last_token_count_source == "chunks"
    assert stats.prompt_tokens == engine.count_chat_tokens(HELLO), "an estimate, named as such"
    assert 0 < stats.ttft_s <= stats.total_s
    (post,) = server.posts()
    assert post.body["model"] == "stub-model" and post.body["stream"] is True
    assert post.body["max_tokens"] == 16 and post.body["seed"] == 7 and post.body["stop"] == ["END"]
    assert post.body["temperature"] == 0.2 and post.body["top_p"] == 0.9


def test_uses_the_servers_usage_when_given(make_server) -> None:
    server = make_server(Reply(usage={"prompt_tokens": 11, "completion_tokens": 3, "total_tokens": 14}))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    _, stats = run(engine)

    assert (stats.prompt_tokens, stats.completion_tokens) == (11, 3)
    assert engine.last_token_count_source == "usage"


def test_a_server_rejecting_stream_options_is_asked_again_without(make_server) -> None:
    server = make_server(Reply(reject_stream_options=True))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    text, stats = run(engine)

    assert text == "Hello there!" and stats.completion_tokens == 3
    bodies = [p.body for p in server.posts()]
    assert len(bodies) == 2 and "stream_options" in bodies[0] and "stream_options" not in bodies[1]


def test_model_defaults_to_the_first_listed_one(make_server) -> None:
    server = make_server(Reply(), models=("first-model", "second-model"))
    engine = RemoteEngine.from_reference(f"remote:{server.url}")

    run(engine)

    assert server.posts()[0].body["model"] == "first-model"
    info = engine.describe()
    assert info.source == "remote" and info.path is None and info.display_name == "first-model"
    assert engine.supports_loglik is False and "generation" in engine.scoring_note


def test_503_twice_then_success_is_retried(make_server) -> None:
    server = make_server(Reply(status=503), Reply(status=503), Reply())
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    text, stats = run(engine)

    assert text == "Hello there!" and stats.finish_reason == "stop"
    assert len(server.posts()) == 3


def test_429_with_retry_after_is_retried(make_server) -> None:
    server = make_server(Reply(status=429, headers={"Retry-After": "0.05"}), Reply())
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    assert run(engine)[0] == "Hello there!"
    assert len(server.posts()) == 2


def test_persistent_5xx_gives_up_with_one_clear_error(make_server) -> None:
    server = make_server(Reply(status=502))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?retries=2&retry_base_s=0.01")

    with pytest.raises(EngineError, match=r"answered HTTP 502 after 3 attempts") as info:
        run(engine)
    assert "\n" not in str(info.value)
    assert len(server.posts()) == 3


def test_client_errors_are_not_retried(make_server) -> None:
    server = make_server(Reply(status=422, body='{"error": {"message": "bad temperature"}}'))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    with pytest.raises(EngineError, match="HTTP 422: bad temperature"):
        run(engine)
    assert len(server.posts()) == 1


def test_context_overflow_from_the_server(make_server) -> None:
    message = "Requested tokens (9000) exceed context window of 2048"
    server = make_server(Reply(status=400, body=json.dumps({"error": {"message": message}})))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    with pytest.raises(ContextOverflowError, match="exceed context window"):
        run(engine)


def test_no_key_means_no_authorization_header_even_with_an_hf_token(make_server, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_must_not_leave_this_machine")
    server = make_server(Reply())
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    run(engine)

    assert server.seen and all(s.authorization is None for s in server.seen)


def test_api_key_comes_from_the_named_environment_variable(make_server, monkeypatch) -> None:
    monkeypatch.setenv("MY_SERVER_KEY", "sk-local-123")
    server = make_server(Reply())
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?key_env=MY_SERVER_KEY&{FAST}")

    run(engine)

    assert all(s.authorization == "Bearer sk-local-123" for s in server.seen)
    assert "sk-local-123" not in json.dumps(engine.describe().to_json())


def test_connection_dropped_mid_stream_is_an_engine_error(make_server) -> None:
    server = make_server(Reply(words=("a", "b", "c", "d"), drop_after=2))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")
    received: list[str] = []

    with pytest.raises(EngineError, match="after 2 chunks"):
        for chunk in engine.stream_chat(HELLO, GenerationParams(max_tokens=16)):
            received.append(chunk.text)
    assert received == ["a", "b"], "what arrived before the break was delivered"


def test_stream_ending_without_finish_is_an_engine_error(make_server) -> None:
    server = make_server(Reply(finish=None))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    with pytest.raises(EngineError, match="without finishing"):
        run(engine)


def test_should_stop_cancels_the_stream(make_server) -> None:
    server = make_server(Reply(words=tuple(f"w{i} " for i in range(20))))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")
    seen = []

    def stop_after_three() -> bool:
        return len(seen) >= 3

    for chunk in engine.stream_chat(HELLO, GenerationParams(max_tokens=32), stop_after_three):
        if chunk.text:
            seen.append(chunk.text)
        stats = chunk.stats
    assert len(seen) == 3 and stats is not None and stats.finish_reason == "cancelled"


def test_a_silent_server_times_out(make_server) -> None:
    server = make_server(Reply(hang_s=3.0))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?timeout=0.5&retries=0")

    with pytest.raises(EngineError, match="did not answer within 0.5 s"):
        run(engine)


def test_server_down_is_one_clear_error_at_open() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    with pytest.raises(EngineError, match="is not reachable") as info:
        RemoteEngine.from_reference(f"remote:http://127.0.0.1:{port}/v1#m")
    assert "\n" not in str(info.value)


def test_factory_opens_remote_references(make_server) -> None:
    from engines.factory import open_engine

    server = make_server(Reply())
    engine = open_engine(f"remote:{server.url}#stub-model?{FAST}")

    assert isinstance(engine, RemoteEngine)
    assert run(engine)[0] == "Hello there!"
    assert engine.template.source == "server"
