"""One model on one suite (benchmarks.task): the task tables, and items finishing in any order."""

from __future__ import annotations

from pathlib import Path

from benchmarks import events as ev
from benchmarks.runner import METHODS
from benchmarks.store import ResultsStore
from benchmarks.suites import TASKS, load_suite
from benchmarks.task import ANSWER_SCORERS, Pending, SuiteTask, score_answer
from benchmarks.task import METHODS as METHOD_KINDS
from engines.scripted import ScriptedEngine


class Context:
    """The run a task belongs to, as the runner provides it."""

    def __init__(self, store: ResultsStore) -> None:
        self.store = store
        self.run_id = store.start_or_resume("fp", {"models": ["m"], "suites": ["math"]})[0].id
        self.computed_count = 0
        self.cached_count = 0
        self.events: list[ev.Event] = []

    def emit(self, event: ev.Event) -> None:
        self.events.append(event)

    def should_stop(self) -> bool:
        return False

    def sample_memory(self, model_ref: str) -> None:
        pass


def test_every_task_and_method_has_an_entry() -> None:
    assert set(ANSWER_SCORERS) == set(TASKS)
    assert set(METHOD_KINDS) == set(METHODS) == {"loglik", "generate"}


def test_answers_are_scored_as_the_task_says() -> None:
    sentiment, knowledge, math, summarize = (
        load_suite(n) for n in ("sentiment", "knowledge", "math", "summarize")
    )
    item = sentiment.items[0]
    assert score_answer(sentiment, item, f"It is {item.target}.").score.correct is True
    mc = knowledge.items[0]
    assert score_answer(knowledge, mc, f"The answer is {mc.target}").score.prediction == mc.target
    number = math.items[0]
    scored = score_answer(math, number, f"so #### {number.target}")
    assert scored.score.metric == "exact_match" and scored.score.value == 1.0 and not scored.failed
    assert score_answer(math, number, "no idea").failed
    article = summarize.items[0]
    assert score_answer(summarize, article, "   ").failed
    assert score_answer(summarize, article, article.target).score.value == 1.0


def test_items_finishing_out_of_order_are_stored_and_reported_one_by_one(tmp_path: Path) -> None:
    """The path batched generation takes: each item stored and reported the moment it finishes."""
    suite = load_suite("math")
    items = list(suite.items[:3])
    with ResultsStore(tmp_path / "r.sqlite3") as store:
        ctx = Context(store)
        engine = ScriptedEngine("m")

        def task() -> SuiteTask:
            return SuiteTask(
                ctx, engine, "m", "sha", suite, items, method="generate", shots=0, max_tokens=None
            )

        first = task()
        store.record_suite(suite.manifest, suite.content_version)
        pending = [Pending(i, first.prompt(i), first.cache_key(i, first.prompt(i))) for i in items]
        answers = {items[0].id: f"#### {items[0].target}", items[1].id: "no number", items[2].id: "#### -1"}
        for one in reversed(pending):  # the last item finishes first
            first.finish_text(one, answers[one.item.id], 0.5, None)
        done = [e for e in ctx.events if isinstance(e, ev.ItemDone)]
        assert [(e.result.item_id, e.done, e.total) for e in done] == [
            (i.id, n, 3) for n, i in enumerate(items[::-1], 1)
        ]
        assert [e.running_score for e in done] == [0.0, 0.0, 1 / 3]
        assert [e.result.failed for e in done] == [False, True, False]
        # What was reported is what was stored.
        stored = {r.item_id: r for r in store.run_results(ctx.run_id)}
        assert {e.result.item_id: e.result for e in done} == stored
        # A second pass over the same items reuses all three, reported with TaskStarted.
        ctx.events.clear()
        assert task().run()
        started = next(e for e in ctx.events if isinstance(e, ev.TaskStarted))
        assert started.cached == 3 and started.running_score == 1 / 3
        assert sorted(r.item_id for r in started.reused) == sorted(i.id for i in items)
        assert all(r.cached is False for r in started.reused)  # computed by this run, in its first pass
        assert not any(isinstance(e, ev.ItemDone) for e in ctx.events)
