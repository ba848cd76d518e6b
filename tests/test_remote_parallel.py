"""RemoteEngine.generate_many against a local server that answers each request after a delay:
N requests in flight, same results as one at a time, and one failing request failing alone."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from chat_server import Reply, server_factory

from engines.base import EngineError, GenerationParams, GenerationRequest
from engines.remote import RemoteEngine

FAST = "retries=2&retry_base_s=0.01&timeout=5"


@pytest.fixture
def make_server(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    yield from server_factory(monkeypatch)


def item_of(body: dict) -> int:
    return int(re.search(r"item (\d+)", body["messages"][-1]["content"]).group(1))


def requests(n: int) -> list[GenerationRequest]:
    return [
        GenerationRequest(({"role": "user", "content": f"item {i}"},), GenerationParams(max_tokens=8))
        for i in range(n)
    ]


class Script:
    """Per-item answers: `answer <i>` after `delay_s`; `faults[i]` lists replies for its first tries."""

    def __init__(self, delay_s: float = 0.05, faults: dict[int, list[Reply]] | None = None) -> None:
        self.delay_s = delay_s
        self.faults = faults or {}
        self.tries: Counter[int] = Counter()
        self.lock = threading.Lock()

    def __call__(self, body: dict) -> Reply:
        item = item_of(body)
        with self.lock:
            attempt = self.tries[item]
            self.tries[item] += 1
        planned = self.faults.get(item, [])
        if attempt < len(planned):
            return planned[attempt]
        return Reply(words=("answer", f" {item}"), hang_s=self.delay_s)


def run(engine: RemoteEngine, n: int, parallel: int, **kw) -> tuple[list[int], dict]:
    order, results = [], {}
    for index, result in engine.generate_many(requests(n), parallel, **kw):
        assert index not in results
        order.append(index)
        results[index] = result
    return order, results


def test_n_requests_in_flight_give_the_same_results_as_one_at_a_time(make_server) -> None:
    serial = make_server(route=Script())
    parallel = make_server(route=Script())
    one = RemoteEngine.from_reference(f"remote:{serial.url}#stub-model?{FAST}")
    many = RemoteEngine.from_reference(f"remote:{parallel.url}#stub-model?{FAST}")

    order1, results1 = run(one, 12, parallel=1)
    _, results8 = run(many, 12, parallel=8)

    assert serial.most_in_flight == 1 and order1 == list(range(12))
    assert parallel.most_in_flight == 8
    assert {i: r.text for i, r in results8.items()} == {i: f"answer {i}" for i in range(12)}
    assert {i: r.text for i, r in results1.items()} == {i: r.text for i, r in results8.items()}
    assert all(r.finish_reason == "stop" and r.stats.completion_tokens == 2 for r in results8.values())


def test_results_come_back_as_they_finish(make_server) -> None:
    script = Script()
    script.faults[0] = [Reply(words=("answer", " 0"), hang_s=0.6)]
    server = make_server(route=script)
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    order, _ = run(engine, 4, parallel=4)

    assert order[-1] == 0, "the slow first request does not hold back the others"


def test_a_503_on_one_request_is_retried_for_that_request_alone(make_server) -> None:
    script = Script(faults={3: [Reply(status=503)]})
    server = make_server(route=script)
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    _, results = run(engine, 6, parallel=4)

    assert all(results[i].text == f"answer {i}" for i in range(6))
    assert script.tries[3] == 2 and all(script.tries[i] == 1 for i in range(6) if i != 3)


def test_a_request_that_keeps_failing_fails_alone_with_its_reason(make_server) -> None:
    script = Script(faults={2: [Reply(status=503)] * 10})
    server = make_server(route=script)
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    _, results = run(engine, 5, parallel=4)

    failed = results[2]
    assert failed.finish_reason == "error" and failed.text == ""
    assert "HTTP 503 after 3 attempts" in str(failed.error)
    assert script.tries[2] == 3, "the backoff retries of the request, not more on top"
    assert all(results[i].text == f"answer {i}" for i in (0, 1, 3, 4))


def test_a_dropped_connection_is_retried_then_fails_that_request_alone(make_server) -> None:
    dropped = Reply(words=("ans", "wer"), drop_after=1)
    script = Script(faults={1: [dropped], 4: [dropped] * 10})
    server = make_server(route=script)
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    _, results = run(engine, 6, parallel=3)

    assert results[1].text == "answer 1" and script.tries[1] == 2
    assert results[4].finish_reason == "error" and "broke off the reply" in str(results[4].error)
    assert script.tries[4] == 3  # the first try and `retries` (2) more
    assert all(results[i].text == f"answer {i}" for i in (0, 2, 3, 5))


def test_refused_credentials_end_the_batch_with_one_error(make_server) -> None:
    server = make_server(route=lambda body: Reply(status=401))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")

    with pytest.raises(EngineError, match="HTTP 401"):
        run(engine, 4, parallel=2)


def test_a_server_that_goes_away_ends_the_batch(make_server) -> None:
    server = make_server(route=Script())
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")
    server.stop()

    with pytest.raises(EngineError, match="not reachable"):
        run(engine, 3, parallel=3)


def test_cancelling_returns_every_unfinished_request_as_cancelled(make_server) -> None:
    server = make_server(route=Script(delay_s=0.3))
    engine = RemoteEngine.from_reference(f"remote:{server.url}#stub-model?{FAST}")
    results: dict = {}

    for index, result in engine.generate_many(requests(10), 2, should_stop=lambda: len(results) >= 2):
        results[index] = result

    assert sorted(results) == list(range(10))
    finished = [i for i, r in results.items() if r.finish_reason == "stop"]
    assert len(finished) == 2
    assert sum(r.finish_reason == "cancelled" for r in results.values()) == 8
    assert len(server.posts()) <= 4, "nothing new is sent after the stop"
