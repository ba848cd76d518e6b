"""Pilot tests of the benchmark screen (F3) with the scripted engine: progress while running, a
responsive UI, Escape stops cleanly, the runs list resumes reusing the finished items, the item
feed, the scorecard at the end, and bad setups."""

from __future__ import annotations

import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import Input, RadioButton, SelectionList, Static
from tui_bench_support import WIDE, freeze_cursors, sections_app, settle, wait_for, wait_for_scorecard
from tui_support import Opener

from benchmarks import events as ev
from benchmarks.results import ItemResult
from benchmarks.scorecard import build_scorecard
from benchmarks.scoring import score_parsed
from benchmarks.stats import wilson_ci
from benchmarks.store import ResultsStore
from benchmarks.suites import load_suite
from tui.screens.bench_item_screen import BenchItemScreen
from tui.screens.bench_screen import BenchScreen, request_from_config
from tui.screens.model_details import ModelDetailsScreen
from tui.screens.models_screen import ModelsScreen
from tui.screens.runs_screen import RunsScreen
from tui.screens.scorecard_screen import ScorecardScreen
from tui.widgets.bench_feed import BenchFeed
from tui.widgets.bench_form import BenchForm
from tui.widgets.bench_messages import BenchBatch, FeedEntry, TaskScore
from tui.widgets.bench_progress import BenchProgressPanel
from tui.widgets.bench_relay import BenchRelay
from tui.widgets.bench_score_table import BenchScoreTable

SLOW_A = "scripted:alpha?delay=0.01&tokens=4"
SLOW_B = "scripted:beta?delay=0.01&tokens=4"


async def open_bench(
    pilot, limit: str = "", method: str = "loglik", parallel: str = "1"  # noqa: ANN001
) -> BenchScreen:
    """The benchmark screen with its form filled in (by default one answer at a time, so items
    finish one by one as these tests follow them)."""
    await pilot.press("f3")
    screen = pilot.app.screen
    assert isinstance(screen, BenchScreen)
    await wait_for(pilot, lambda: screen.query_one(SelectionList).option_count > 0, "the suite list")
    screen.query_one("#bench-limit", Input).value = limit
    screen.query_one(f"#method-{method}", RadioButton).value = True
    screen.query_one("#bench-parallel", Input).value = parallel
    return screen


def status(screen: BenchScreen) -> str:
    return str(screen.query_one("#bench-status", Static).render())


async def test_run_shows_progress_stays_responsive_and_opens_the_scorecard() -> None:
    app = sections_app(SLOW_A, SLOW_B)
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot, limit="9", method="generate")
        assert bench.query_one("#bench-model-a", Input).value == SLOW_A  # the chat pair by default
        await pilot.press("ctrl+s")
        progress = bench.query_one(BenchProgressPanel)
        await wait_for(
            pilot, lambda: any(0 < r.done < 9 for r in progress.rows.values()), "items in progress"
        )
        assert bench.running
        assert [r.plan.total for r in progress.rows.values()] == [9, 9]
        # Responsive while it runs: another section works, and the run goes on behind it. Its end
        # does not pull the user away; the scorecard waits on the benchmark screen.
        await pilot.press("f5")
        models = app.screen
        assert isinstance(models, ModelsScreen)
        await pilot.press("down")
        await wait_for(pilot, lambda: not bench.running, "the run to end", timeout=30)
        assert app.screen is models
        await pilot.press("f3")
        await wait_for_scorecard(pilot)
        card_screen = app.screen
        await settle(pilot)
        assert bench.last_finished is not None and bench.last_finished.status == "complete"
        run_id = bench.last_finished.run_id
        assert card_screen.run_id == run_id
        # The live table ended on the scorecard's own numbers.
        card = build_scorecard(str(run_id))
        table = bench.query_one(BenchScoreTable)
        for row in card.rows:
            assert row.value is not None and row.ci_low is not None and row.ci_high is not None
            assert table.cell_text(row.model, "sentiment", "score") == f"{row.value:.3f}"
            assert table.cell_text(row.model, "sentiment", "n") == "9"
            assert table.cell_text(row.model, "sentiment", "ci") == f"{row.ci_low:.3f} – {row.ci_high:.3f}"
        assert all(r.state == "done" and r.done == 9 for r in progress.rows.values())
        # The feed holds every item with both models' answers, as stored.
        feed = bench.query_one(BenchFeed)
        assert feed.row_count == 9
        stored = {(i.model_ref, i.item_id): i for i in card.items}
        for entries in feed.entries.values():
            assert set(entries) == {SLOW_A, SLOW_B}
            for model, entry in entries.items():
                item = stored[(model, entry.result.item_id)]
                assert entry.result == item  # the result the runner reported is the one stored


async def test_escape_stops_and_the_runs_list_resumes_reusing_finished_items() -> None:
    opener = Opener()
    app = sections_app(SLOW_A, SLOW_B, open_engine=opener)
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot, limit="12", method="generate")
        await pilot.press("ctrl+s")
        progress = bench.query_one(BenchProgressPanel)
        await wait_for(pilot, lambda: any(r.done >= 3 for r in progress.rows.values()), "a few items")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not bench.running, "the run to stop")
        first = bench.last_finished
        assert first is not None and first.stopped and first.status == "partial"
        assert app.screen is bench  # a stopped run does not open a scorecard
        assert "stopped" in status(bench)
        with ResultsStore() as store:
            assert store.get_run(first.run_id).status == "partial"
            done_before = store.count_run_items(first.run_id)
        assert 3 <= done_before < 24

        await pilot.press("f4")
        runs = app.screen
        assert isinstance(runs, RunsScreen)
        assert runs.statuses[first.run_id] == "partial"
        runs.select(first.run_id)
        await pilot.press("r")
        # The benchmark screen took the run over. The rest is quick: it may have ended already and
        # opened its scorecard (start() clears last_finished, the run's end sets it).
        assert bench.running or bench.last_finished is not None
        card = app.screen
        assert card is bench or (isinstance(card, ScorecardScreen) and card.run_id == first.run_id)
        await wait_for_scorecard(pilot, timeout=30)
        second = bench.last_finished
        assert second is not None and second.run_id == first.run_id and second.status == "complete"
        assert second.cached == done_before  # every finished item was reused...
        assert second.computed == 24 - done_before  # ...and only the rest computed
        with ResultsStore() as store:
            results = store.run_results(first.run_id)
        assert len(results) == 24
        assert len({(r.model_ref, r.item_id) for r in results}) == 24  # no duplicate, none lost


async def test_feed_opens_an_item_in_full() -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot, limit="6")
        await pilot.press("ctrl+s")
        await wait_for_scorecard(pilot)
        await pilot.press("escape")
        assert app.screen is bench
        feed = bench.query_one(BenchFeed)
        feed.focus()
        feed.move_cursor(row=2)
        await pilot.press("enter")
        item_screen = app.screen
        assert isinstance(item_screen, BenchItemScreen)
        key = list(feed.entries)[2]
        suite = load_suite("sentiment")
        item = next(i for i in suite.items if f"sentiment/{i.id}" == key)
        assert str(item_screen.query_one("#item-prompt", Static).render()) == item.text
        assert str(item_screen.query_one("#item-target", Static).render()) == item.target
        assert set(item_screen.entries) == {"scripted:alpha", "scripted:beta"}
        outputs = [str(w.render()) for w in item_screen.query(".item-output")]
        assert all(any(option in out for option in ("positive", "negative", "neutral")) for out in outputs)
        await pilot.press("escape")
        assert app.screen is bench


async def test_the_parallel_field_sets_how_many_answers_generate_at_once_and_resumes_with_the_run() -> None:
    opener = Opener()
    app = sections_app(SLOW_A, SLOW_B, open_engine=opener)
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot, limit="8", method="generate", parallel="4")
        await pilot.press("ctrl+s")
        await wait_for_scorecard(pilot, timeout=30)
        finished = bench.last_finished
        assert finished is not None and finished.status == "complete"
        engines = [engine for ref, _, engine in opener.opened if ref in (SLOW_A, SLOW_B)][-2:]
        assert [e.most_in_flight for e in engines] == [4, 4], "4 answers generated at once, per model"
        bench.query_one("#bench-parallel", Input).value = "2"
        with ResultsStore() as store:
            config = store.get_run(finished.run_id).config
        assert config["parallel"] == 4
        bench.query_one(BenchForm).fill(request_from_config(config))
        assert bench.query_one("#bench-parallel", Input).value == "4"


async def test_bad_setups_are_one_line_errors() -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot)
        error = bench.query_one("#bench-form-error", Static)
        bench.query_one(SelectionList).deselect_all()
        await pilot.press("ctrl+s")
        assert not bench.running and "pick at least one suite" in str(error.render())
        bench.query_one(SelectionList).select("sentiment")
        bench.query_one("#bench-model-b", Input).value = "scripted:alpha"
        await pilot.press("ctrl+s")
        assert not bench.running and "same model" in str(error.render())
        bench.query_one("#bench-model-b", Input).value = "scripted:beta"
        bench.query_one("#bench-parallel", Input).value = "0"
        await pilot.press("ctrl+s")
        assert not bench.running and "at once must be a whole number of at least 1" in str(error.render())
        bench.query_one("#bench-parallel", Input).value = "1"
        bench.query_one("#bench-model-b", Input).value = "no-such-model"
        bench.query_one("#bench-limit", Input).value = "3"
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: not bench.running, "the run to fail")
        assert "unknown model 'no-such-model'" in bench.error
        assert "unknown model" in status(bench)
        assert app.screen is bench


def _result(model: str, item_id: str, answer: str | None, target: str = "positive") -> ItemResult:
    score = score_parsed(answer, target)
    return ItemResult(
        model, "sentiment", item_id, "generate", target, answer, score, answer is None, None, 0.01, 5, 1, "k"
    )


def test_relay_batches_item_events_at_a_bounded_rate() -> None:
    """Item events wait for the next flush; layout events go out at once."""
    posted: list[BenchBatch] = []
    now = [0.0]
    suite = load_suite("sentiment")
    ids = [item.id for item in suite.items[:5]]
    relay = BenchRelay({"sentiment": suite}, posted.append, interval_s=0.1, clock=lambda: now[0])
    relay(ev.RunStarted(1, False, (ev.TaskPlan("m", "sentiment", 5),)))
    relay(ev.ModelLoading("m"))
    assert len(posted) == 2
    relay(ev.TaskStarted("m", "sentiment", 5, 0, "generate", "accuracy", None))
    assert len(posted) == 3
    for done, item_id in enumerate(ids[:3], start=1):
        now[0] += 0.01
        relay(ev.ItemDone(_result("m", item_id, "positive"), done, 5, 1.0))
    assert len(posted) == 3  # 30 ms of items: still buffered
    now[0] += 0.1
    relay(ev.ItemDone(_result("m", ids[3], "positive"), 4, 5, 1.0))
    assert len(posted) == 4
    batch = posted[-1].events
    assert [e.result.item_id for e in batch if isinstance(e, FeedEntry)] == ids[:4]
    scores = [e for e in batch if isinstance(e, TaskScore)]
    assert len(scores) == 1  # only the newest running score of the task is drawn
    score = scores[0]
    assert score.n == 4 and score.value == 1.0 and score.low is not None and score.low < 1.0
    relay(ev.TaskFinished("m", "sentiment", 4, 5, "accuracy", 1.0))
    assert len(posted) == 5


def test_relay_builds_the_feed_from_the_reported_results() -> None:
    """What the runner reports is what the feed shows: no stored row is read back."""
    posted: list[BenchBatch] = []
    suite = load_suite("sentiment")
    first, second, third = suite.items[:3]
    relay = BenchRelay({"sentiment": suite}, posted.append, interval_s=0.0)
    relay(ev.RunStarted(1, True, (ev.TaskPlan("m", "sentiment", 3),)))
    reused = (_result("m", first.id, first.target, first.target),)
    relay(ev.TaskStarted("m", "sentiment", 3, 1, "generate", "accuracy", 1.0, reused))
    relay(ev.ItemDone(_result("m", second.id, None, second.target), 2, 3, 0.5))
    wrong = "negative" if third.target != "negative" else "positive"
    relay(ev.ItemDone(_result("m", third.id, wrong, third.target), 3, 3, 1 / 3))
    entries = [e for batch in posted for e in batch.events if isinstance(e, FeedEntry)]
    assert [(e.result.item_id, e.cached, e.answer, e.correct) for e in entries] == [
        (first.id, True, first.target, True),
        (second.id, False, "unparseable", False),
        (third.id, False, wrong, False),
    ]
    assert entries[0].prompt == first.text and entries[0].task == "classify"
    final = [e for e in posted[-1].events if isinstance(e, TaskScore)][-1]
    # Three items, one right; one failed; the reused item does not count towards the mean latency.
    assert (final.n, final.value, final.failures, final.computed) == (3, 1 / 3, 1, 2)


@pytest.mark.e2e
async def test_e2e_sentiment_run_on_both_bundled_models(bundled_models) -> None:  # noqa: ANN001
    qwen, smol = (str(bundled_models[name]) for name in ("qwen2.5-coder-0.5b", "smollm2-135m"))
    app = sections_app(open_engine=None)  # the real engine factory, as `duel` uses it
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot, limit="5")
        bench.query_one("#bench-model-a", Input).value = qwen
        bench.query_one("#bench-model-b", Input).value = smol
        await pilot.press("ctrl+s")
        await wait_for_scorecard(pilot, timeout=300)
        await settle(pilot)
        card = app.screen.card
        assert card is not None and card.run["status"] == "complete"
        assert [(r.model, r.items, r.method) for r in card.rows] == [
            (qwen, 5, "loglik"),
            (smol, 5, "loglik"),
        ]
        assert {m["identity"]["sha256"] for m in card.models} == {
            "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        }
        assert len(card.head_to_head) == 1 and 0 <= card.head_to_head[0].p_value <= 1
        assert bench.query_one(BenchFeed).row_count == 5


# ----- snapshots (frozen: the events are fed to the screen, no clock is involved) -----------------
def _entry(model: str, item: str, answer: str) -> FeedEntry:
    suite = load_suite("sentiment")
    found = next(i for i in suite.items if i.id == item)
    score = score_parsed(answer, found.target)
    result = ItemResult(
        model, "sentiment", item, "loglik", found.target, None, score, False, None, 0.25, None, None, "k"
    )
    return FeedEntry(result, "classify", found.text, False)


async def _mid_run(pilot) -> None:  # noqa: ANN001
    await pilot.press("f3")
    bench = pilot.app.screen
    await wait_for(pilot, lambda: bench.query_one(SelectionList).option_count > 0, "the suite list")
    bench.query_one("#bench-limit", Input).value = "7"
    bench.request = None
    bench.labels = {"scripted:alpha": "scripted:alpha", "scripted:beta": "scripted:beta"}
    bench.running = True
    bench.query_one(BenchFeed).set_models(["scripted:alpha", "scripted:beta"], bench.labels)
    plan = (ev.TaskPlan("scripted:alpha", "sentiment", 7), ev.TaskPlan("scripted:beta", "sentiment", 7))
    answers_a = ["positive", "positive", "negative", "positive", "negative", "negative", "neutral"]
    answers_b = ["negative", "neutral", "negative"]
    a = [_entry("scripted:alpha", f"sent-00{i}", answer) for i, answer in enumerate(answers_a, start=1)]
    b = [_entry("scripted:beta", f"sent-00{i}", answer) for i, answer in enumerate(answers_b, start=1)]

    def score(model: str, entries: list[FeedEntry]) -> TaskScore:
        right, n = sum(e.correct for e in entries), len(entries)
        return TaskScore(model, "sentiment", "accuracy", n, right / n, *wilson_ci(right, n), 0, n, 0.25)

    events: list[object] = [
        ev.RunStarted(7, False, plan),
        ev.TaskStarted("scripted:alpha", "sentiment", 7, 0, "loglik", "accuracy", None),
        *a,
        score("scripted:alpha", a),
        ev.TaskFinished("scripted:alpha", "sentiment", 7, 7, "accuracy", 5 / 7),
        ev.TaskStarted("scripted:beta", "sentiment", 7, 0, "loglik", "accuracy", None),
        *b,
        score("scripted:beta", b),
    ]
    await bench.on_bench_batch(BenchBatch(events))
    bench.refresh_bindings()
    await freeze_cursors(pilot)


def test_snapshot_bench_screen_mid_run(snap_compare) -> None:  # noqa: ANN001
    assert snap_compare(sections_app(), terminal_size=WIDE, run_before=_mid_run)


async def test_sections_by_keys_and_by_the_command_palette() -> None:
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        chat = app.chat
        assert app.screen is chat
        shown = [a.binding for a in app.screen.active_bindings.values() if a.binding.show and a.enabled]
        keys = {b.key: b.description for b in shown}
        assert {k: keys.get(k) for k in ("f3", "f4", "f5")} == {"f3": "Bench", "f4": "Runs", "f5": "Models"}
        assert "f6" not in keys  # the key of the section on screen is hidden
        for key, screen_type in (("f3", BenchScreen), ("f4", RunsScreen), ("f5", ModelsScreen)):
            await pilot.press(key)
            assert isinstance(app.screen, screen_type)
        await pilot.press("f6")
        assert app.screen is chat
        # The palette has an entry per other section.
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Go to: benchmark", "Go to: runs and scorecards", "Go to: models"} <= set(titles)
        assert "Go to: chat" not in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Go to: models")

        def palette_offers_models() -> bool:
            palette = app.screen
            if not isinstance(palette, CommandPalette):
                return False
            options = palette.query_one(CommandList)
            index = options.highlighted
            return index is not None and "Go to: models" in str(options.get_option_at_index(index).prompt)

        await wait_for(pilot, palette_offers_models, "the palette to offer 'Go to: models'")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: isinstance(app.screen, ModelsScreen), "the models screen from the palette"
        )
        # A dialog keeps the focus: section keys do nothing while it is open.
        models = app.screen
        await wait_for(pilot, lambda: models.models is not None, "the model list")
        await pilot.press("i")
        assert isinstance(app.screen, ModelDetailsScreen)
        await pilot.press("f3")
        assert isinstance(app.screen, ModelDetailsScreen)


async def test_imported_suites_are_offered_and_run(tmp_path) -> None:  # noqa: ANN001
    from benchmarks.importers import ImportRequest, import_suite

    csv = tmp_path / "Tweets.csv"
    rows = [
        ("positive", "Lovely crew and on time"),
        ("negative", "Lost my bag again"),
        ("neutral", "Flight 12 at 9"),
    ]
    csv.write_text(
        "airline_sentiment,text\n" + "\n".join(f"{label},{text}" for label, text in rows * 2) + "\n"
    )
    import_suite(ImportRequest(csv, "airline", "classify", text_col="text", label_col="airline_sentiment"))
    app = sections_app()
    async with app.run_test(size=WIDE) as pilot:
        bench = await open_bench(pilot)
        picker = bench.query_one(SelectionList)
        labels = {
            str(picker.get_option_at_index(i).value): str(picker.get_option_at_index(i).prompt)
            for i in range(picker.option_count)
        }
        assert "6 items · imported" in labels["airline"]
        picker.deselect_all()
        picker.select("airline")
        await pilot.press("ctrl+s")
        await wait_for_scorecard(pilot)
        card = app.screen.card
        assert [(r.suite, r.items) for r in card.rows] == [("airline", 6), ("airline", 6)]
