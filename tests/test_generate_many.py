"""`Engine.generate_many`: the one-at-a-time default and the scripted engine's batching stand-in
(which the runner's and the TUI's tests drive)."""

from __future__ import annotations

import pytest

from engines.base import (
    ContextOverflowError,
    Engine,
    GenerationParams,
    GenerationRequest,
    GenerationResult,
    collect_reply,
)
from engines.scripted import ScriptedEngine


def requests(n: int, max_tokens: int | list[int] = 12) -> list[GenerationRequest]:
    limits = max_tokens if isinstance(max_tokens, list) else [max_tokens] * n
    return [
        GenerationRequest(({"role": "user", "content": f"q {i}"},), GenerationParams(max_tokens=limits[i]))
        for i in range(n)
    ]


def run_all(iterator) -> tuple[list[int], dict[int, GenerationResult]]:
    order, results = [], {}
    for index, result in iterator:
        assert index not in results, "every request comes back exactly once"
        order.append(index)
        results[index] = result
    return order, results


def test_default_runs_one_by_one_in_order_with_stream_chat_replies() -> None:
    engine = ScriptedEngine("alpha", reply_tokens=8)
    reqs = requests(4, [3, 20, 8, 0])

    order, results = run_all(Engine.generate_many(engine, reqs, parallel=4))

    assert order == [0, 1, 2, 3]
    for index, request in enumerate(reqs):
        expected = collect_reply(engine, request)
        assert results[index].text == expected.text
        assert results[index].finish_reason == expected.finish_reason
        assert results[index].stats.completion_tokens == expected.stats.completion_tokens
    assert [results[i].finish_reason for i in range(4)] == ["length", "stop", "stop", "length"]


def test_default_reports_a_prompt_that_does_not_fit_as_that_requests_failure() -> None:
    engine = ScriptedEngine("alpha", n_ctx=6)
    reqs = requests(2)
    reqs.insert(1, GenerationRequest(({"role": "user", "content": "word " * 50},), GenerationParams()))

    _, results = run_all(Engine.generate_many(engine, reqs))

    assert results[1].finish_reason == "error" and isinstance(results[1].error, ContextOverflowError)
    assert results[1].text == ""
    assert results[0].finish_reason == results[2].finish_reason == "length"  # 24-token replies, 12 max


def test_default_cancels_the_requests_not_finished() -> None:
    engine = ScriptedEngine("alpha", reply_tokens=6)
    done: list[int] = []

    def stop() -> bool:
        return len(done) >= 2

    results = {}
    for index, result in Engine.generate_many(engine, requests(5), should_stop=stop):
        results[index] = result
        if result.finish_reason != "cancelled":
            done.append(index)

    assert sorted(results) == [0, 1, 2, 3, 4]
    assert done == [0, 1]
    assert all(results[i].finish_reason == "cancelled" for i in (2, 3, 4))
    assert len(engine.calls) == 2, "requests after the stop are never started"


def test_scripted_batches_in_flight_and_replies_equal_its_stream() -> None:
    engine = ScriptedEngine("beta", reply_tokens=10)
    reqs = requests(7, [10, 2, 6, 10, 1, 4, 10])

    order, results = run_all(engine.generate_many(reqs, parallel=3))

    assert engine.most_in_flight == 3
    assert order != sorted(order), "short replies finish first"
    assert order[0] == 1  # the 2-token reply of the first three
    for index, request in enumerate(reqs):
        expected = collect_reply(ScriptedEngine("beta", reply_tokens=10), request)
        assert (results[index].text, results[index].finish_reason) == (expected.text, expected.finish_reason)
        assert results[index].stats.completion_tokens == expected.stats.completion_tokens
        assert 0 <= results[index].stats.ttft_s <= results[index].stats.total_s


def test_scripted_slot_limit_gives_a_note_and_fewer_in_flight() -> None:
    engine = ScriptedEngine.from_reference("scripted:gamma?slots=2&tokens=3")
    notes: list[str] = []

    _, results = run_all(engine.generate_many(requests(5), parallel=4, on_note=notes.append))

    assert len(results) == 5 and engine.most_in_flight == 2
    assert len(notes) == 1 and "2 at once instead of 4" in notes[0]


def test_scripted_cancellation_and_overflow() -> None:
    engine = ScriptedEngine("delta", reply_tokens=30, n_ctx=6)
    reqs = requests(4)
    reqs[1] = GenerationRequest(({"role": "user", "content": "word " * 50},), GenerationParams())
    polls = 0

    def stop() -> bool:
        nonlocal polls
        polls += 1
        return polls > 3

    _, results = run_all(engine.generate_many(reqs, parallel=2, should_stop=stop))

    assert sorted(results) == [0, 1, 2, 3]
    assert results[1].finish_reason == "error", "a prompt that does not fit takes no slot"
    assert [results[i].finish_reason for i in (0, 2, 3)] == ["cancelled"] * 3
    assert results[0].stats.completion_tokens == results[2].stats.completion_tokens == 3
    assert results[0].text == "".join(engine.reply_for(reqs[0].messages, reqs[0].params)[:3])
    assert results[3].stats.completion_tokens == 0, "never started"


def test_scripted_failure_mid_stream_raises() -> None:
    from engines.base import EngineError

    engine = ScriptedEngine("eps", fail="stream")
    with pytest.raises(EngineError, match="scripted failure"):
        run_all(engine.generate_many(requests(3), parallel=3))
