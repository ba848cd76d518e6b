"""Engines running at once share the cores instead of each taking all of them."""

from __future__ import annotations

import pytest

from engines import threads
from engines.threads import split_threads


@pytest.mark.parametrize(
    ("n_engines", "total", "expected"),
    [(1, 2, [2]), (2, 2, [1, 1]), (2, 8, [4, 4]), (2, 5, [3, 2]), (3, 2, [1, 1, 1]), (2, 1, [1, 1])],
)
def test_split_threads(n_engines: int, total: int, expected: list[int]) -> None:
    shares = split_threads(n_engines, total)
    assert shares == expected
    assert all(s >= 1 for s in shares)
    assert sum(shares) <= max(total, n_engines)


def test_default_total_is_the_cores_this_process_may_use(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3, 4, 5})
    assert split_threads(2) == [3, 3]
    assert split_threads(1) == [6]


def test_zero_engines_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        split_threads(0)


def test_rebalance_gives_the_running_engines_the_whole_budget() -> None:
    from engines.scripted import ScriptedEngine
    from engines.threads import rebalance_threads

    engines = [ScriptedEngine("a"), ScriptedEngine("b"), ScriptedEngine("c")]
    assert rebalance_threads(engines, 4) == [2, 1, 1]
    assert [e.threads for e in engines] == [2, 1, 1]
    assert rebalance_threads(engines[1:], 4) == [2, 2]
    assert [e.threads for e in engines] == [2, 2, 2]
    assert rebalance_threads([], 4) == []
