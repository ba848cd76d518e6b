"""Baselines (chance, majority, the exact binomial test), the headline metric rule, --metric, head to
head on the headline, the items that would settle a difference, and the verdicts in every output."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
from baseline_support import ALWAYS, COUNTS, READER, SUITE, imbalanced_run, plain_macro_f1
from rich.console import Console

from benchmarks import stats
from benchmarks.baselines import IMBALANCE_RATIO, baselines, headline_metric, vs_majority
from benchmarks.export import render
from benchmarks.results import ItemResult
from benchmarks.scorecard import build_scorecard
from benchmarks.scoring import LabelCodes, macro_f1, score_loglik, score_parsed
from engines.base import OptionScore
from tui.cli import main
from tui.commands.bench_view import print_scorecard

LABELS = ("negative", "neutral", "positive")
NOT_BETTER = "not better than always answering negative"


def _result(item: str, target: str, pred: str | None, logprobs: int = 0) -> ItemResult:
    if logprobs:
        answers = tuple("ABCDE"[:logprobs])
        scores = [OptionScore(-1.0 if a == pred else -2.0, 1, 1) for a in answers]
        score = score_loglik(scores, answers, target)
    else:
        score = score_parsed(pred, target)
    return ItemResult("m", "s", item, "loglik", target, None, score, False, None, 0.1, None, None, item)


def _airline_results(correct_per_label: dict[str, int]) -> list[ItemResult]:
    """38/12/10 items; the first `correct_per_label[label]` of each label answered right, the rest as
    'negative' (or 'neutral' for negative items)."""
    out = []
    for label, count in COUNTS.items():
        for k in range(count):
            wrong = "neutral" if label == "negative" else "negative"
            out.append(_result(f"{label}-{k}", label, label if k < correct_per_label[label] else wrong))
    return out


# ----- baselines and the binomial test ----------------------------------------------------------------


def test_chance_majority_and_binomial_p_by_hand() -> None:
    results = _airline_results({"negative": 30, "neutral": 4, "positive": 3})
    base = baselines("classify", LABELS, results)
    assert base is not None
    assert base.chance == pytest.approx(1 / 3)
    assert (base.majority_label, base.majority_rate) == ("negative", pytest.approx(38 / 60))
    assert base.class_counts == {"negative": 38, "neutral": 12, "positive": 10}
    # Always answering negative: F1 of negative = 2*38 / (2*38 + 22) = 76/98; the others score 0.
    assert base.majority_macro_f1 == pytest.approx((76 / 98) / 3)
    # 37 of 60 right against a majority rate of 38/60: P(X >= 37), X ~ Bin(60, 38/60), summed by hand.
    p_rate = 38 / 60
    by_hand = sum(math.comb(60, k) * p_rate**k * (1 - p_rate) ** (60 - k) for k in range(37, 61))
    test = vs_majority(37, 60, base)
    assert test.p_value == pytest.approx(by_hand, rel=1e-9)
    assert not test.better and test.verdict.startswith(NOT_BETTER)
    # 50 of 60: far above the majority rate.
    strong = vs_majority(50, 60, base)
    by_hand = sum(math.comb(60, k) * p_rate**k * (1 - p_rate) ** (60 - k) for k in range(50, 61))
    assert strong.p_value == pytest.approx(by_hand, rel=1e-9) and strong.p_value < 0.01
    assert strong.better and strong.verdict.startswith("better than always answering negative")
    # Exactly the majority rate is never "better", whatever the p-value.
    assert not vs_majority(38, 60, base).better


def test_chance_counts_each_items_options() -> None:
    # Multiple choice: two items with 4 options, two with 3 (known from their log-probabilities).
    results = [_result("1", "A", "A", 4), _result("2", "B", "A", 4), _result("3", "A", "C", 3),
               _result("4", "C", "C", 3)]
    base = baselines("mc", ("A", "B", "C"), results)
    assert base is not None and base.chance == pytest.approx((1 / 4 + 1 / 4 + 1 / 3 + 1 / 3) / 4)
    assert (base.majority_label, base.majority_rate, base.majority_macro_f1) == ("A", 0.5, None)
    assert baselines("math", (), results) is None and baselines("summarize", (), results) is None


def test_majority_ties_go_to_the_first_label_of_the_suite() -> None:
    results = [_result("1", "neutral", None), _result("2", "positive", None)]
    base = baselines("classify", LABELS, results)
    assert base is not None and base.majority_label == "neutral"


# ----- the headline metric -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("counts", "headline"),
    [
        ({"negative": 38, "neutral": 12, "positive": 10}, "macro_f1"),  # 3.8x
        ({"negative": 16, "neutral": 11, "positive": 10}, "macro_f1"),  # 1.6x
        ({"negative": 15, "neutral": 12, "positive": 10}, "accuracy"),  # exactly 1.5x: not over it
        ({"negative": 20, "neutral": 20, "positive": 20}, "accuracy"),
    ],
)
def test_imbalanced_classes_switch_the_headline_to_macro_f1(counts: dict[str, int], headline: str) -> None:
    results = [_result(f"{label}{k}", label, label) for label, n in counts.items() for k in range(n)]
    base = baselines("classify", LABELS, results)
    metric, reason = headline_metric("classify", "accuracy", base, ["accuracy", "macro_f1"])
    assert metric == headline
    assert ("imbalanced" in reason) == (headline == "macro_f1")
    assert base is not None and base.imbalanced == (base.imbalance_ratio > IMBALANCE_RATIO)


def test_metric_option_overrides_where_the_suite_has_it() -> None:
    results = _airline_results({"negative": 38, "neutral": 0, "positive": 0})
    base = baselines("classify", LABELS, results)
    assert headline_metric("classify", "accuracy", base, ["accuracy", "macro_f1"], "accuracy") == (
        "accuracy",
        "chosen with --metric",
    )
    # Multiple choice is never switched, and has no macro-F1 to choose: its own metric stays.
    mc = baselines("mc", ("A", "B"), [_result("1", "A", "A"), _result("2", "A", "A"), _result("3", "B", "A")])
    assert headline_metric("mc", "accuracy", mc, ["accuracy"])[0] == "accuracy"
    assert headline_metric("mc", "accuracy", mc, ["accuracy"], "macro_f1")[0] == "accuracy"


# ----- statistics: vectorised macro-F1, paired bootstrap, items to settle -------------------------------


def test_vectorised_macro_f1_equals_the_plain_one_on_every_resample() -> None:
    rng = np.random.default_rng(3)
    targets = list(rng.choice(LABELS, 40))
    preds = [None if k % 9 == 0 else str(p) for k, p in enumerate(rng.choice(LABELS, 40))]
    codes = LabelCodes.of(targets, preds, LABELS)
    idx = rng.integers(0, 40, (25, 40))
    fast = codes.macro_f1(idx)
    # By hand, over the labels present in the whole sample, as the interval counts them.
    present = [lab for lab in LABELS if lab in targets or lab in preds]
    for row, value in zip(idx, fast, strict=True):
        t = [targets[i] for i in row]
        p = [preds[i] for i in row]
        assert value == pytest.approx(plain_macro_f1(t, p, LABELS, present))
    assert codes.macro_f1(np.arange(40)) == pytest.approx(macro_f1(targets, preds, LABELS))


def test_paired_bootstrap_of_a_statistic_is_seeded_and_finds_a_real_gap() -> None:
    good = _airline_results({"negative": 36, "neutral": 10, "positive": 9})
    poor = _airline_results({"negative": 38, "neutral": 1, "positive": 0})
    targets = [r.target for r in good]
    a = LabelCodes.of(targets, [r.score.prediction for r in good], LABELS)
    b = LabelCodes.of(targets, [r.score.prediction for r in poor], LABELS)
    test = stats.paired_bootstrap_statistic(60, a.macro_f1, b.macro_f1, seed=0)
    assert test.test == "paired bootstrap" and test.significant and test.value_a > test.value_b
    again = stats.paired_bootstrap_statistic(60, a.macro_f1, b.macro_f1, seed=0)
    assert again == test  # same seed, same resamples
    same = stats.paired_bootstrap_statistic(60, a.macro_f1, a.macro_f1, seed=0)
    assert same.p_value == 1.0 and not same.significant


def test_items_to_settle_mcnemar_by_hand_and_by_simulation() -> None:
    # 10 items only A right, 4 only B right, of 100: psi = 0.14, delta = 0.06 (Connor 1987).
    a = [True] * 10 + [False] * 4 + [True] * 50 + [False] * 36
    b = [False] * 10 + [True] * 4 + [True] * 50 + [False] * 36
    test = stats.mcnemar_exact(a, b)
    assert not test.significant
    z_a, z_b = 1.959964, 0.841621
    by_hand = (z_a * math.sqrt(0.14) + z_b * math.sqrt(0.14 - 0.06**2)) ** 2 / 0.06**2
    need = stats.items_to_settle(test)
    assert need == math.ceil(by_hand) == 303
    # Check by simulation that `need` items do give about 80% power with the exact test.
    rng = np.random.default_rng(0)
    draws = rng.multinomial(need, [0.10, 0.04, 0.86], size=400)
    from scipy.stats import binomtest

    power = np.mean([binomtest(int(x), int(x + y), 0.5).pvalue < 0.05 for x, y, _ in draws])
    assert 0.7 <= power <= 0.9, power
    # No difference at all: nothing settles it.
    tie = stats.mcnemar_exact([True, False, True, False], [False, True, True, False])
    assert stats.items_to_settle(tie) is None


def test_items_to_settle_bootstrap_is_the_normal_approximation() -> None:
    test = stats.PairedTest("paired bootstrap", 40, 0.50, 0.45, 0.3, "", difference_se=0.04)
    by_hand = 40 * ((1.959964 + 0.841621) * 0.04 / 0.05) ** 2
    assert stats.items_to_settle(test) == math.ceil(by_hand)


# ----- a real run: scorecard fields, head to head, --metric, every output ---------------------------------


def test_imbalanced_run_leads_with_macro_f1_and_flags_the_majority_model(tmp_path: Path) -> None:
    run_id = imbalanced_run(tmp_path)
    card = build_scorecard(str(run_id))
    reader, always = card.row(SUITE, READER), card.row(SUITE, ALWAYS)
    assert reader is not None and always is not None
    assert card.suites[SUITE].headline == reader.metric == always.metric == "macro_f1"
    assert "imbalanced" in reader.metric_reason
    macro = always.metric_named("macro_f1")
    assert always.value == macro.value == pytest.approx((76 / 98) / 3)  # exactly the majority baseline
    assert (always.ci_low, always.ci_high) == (macro.ci_low, macro.ci_high)
    assert always.metric_named("accuracy").value == pytest.approx(38 / 60)  # still there
    assert (always.majority_label, always.majority_rate, always.chance) == (
        "negative",
        pytest.approx(38 / 60),
        pytest.approx(1 / 3),
    )
    assert always.beats_majority is False and always.baseline_verdict.startswith(NOT_BETTER)
    assert reader.beats_majority is True and reader.majority_p_value < 0.001
    assert reader.metric_named("accuracy").value == pytest.approx(52 / 60)
    # The head-to-head test follows the headline: a paired bootstrap of macro-F1.
    (h2h,) = card.head_to_head
    assert (h2h.metric, h2h.test, h2h.winner) == ("macro_f1", "paired bootstrap", READER)
    assert h2h.value_a == pytest.approx(reader.value) and h2h.value_b == pytest.approx(always.value)
    # Every column of the row reaches the CSV/JSON form.
    flat = always.flat()
    for key in ("majority_label", "majority_rate", "majority_p_value", "beats_majority", "chance",
                "baseline_verdict", "metric_reason", "macro_f1_ci_low"):
        assert key in flat


def test_metric_accuracy_makes_head_to_head_mcnemar(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = imbalanced_run(tmp_path)
    card = build_scorecard(str(run_id), metric="accuracy")
    assert {r.metric for r in card.rows} == {"accuracy"}
    assert card.suites[SUITE].headline_reason == "chosen with --metric"
    (h2h,) = card.head_to_head
    assert (h2h.metric, h2h.test) == ("accuracy", "exact McNemar")
    capsys.readouterr()
    assert main(["scorecard", str(run_id), "--json", "--metric", "accuracy"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["results"][0]["metric"] == "accuracy" and data["metric_choice"] == "accuracy"
    # A metric no suite of the run has is a one-line error.
    assert main(["scorecard", str(run_id), "--metric", "rougeL"]) == 2
    assert "no suite of run 1 reports it" in capsys.readouterr().err


def test_not_better_than_majority_in_terminal_markdown_html_and_json(tmp_path: Path) -> None:
    run_id = imbalanced_run(tmp_path)
    card = build_scorecard(str(run_id))
    out = io.StringIO()
    print_scorecard(Console(file=out, width=100), card)
    terminal = " ".join(out.getvalue().split())
    assert f"{ALWAYS}: {NOT_BETTER}" in terminal
    assert f"{READER}: better than always answering negative" in terminal
    assert "accuracy" in terminal.split("airline-imbalanced — macro-F1")[1]  # the accuracy column
    md = render(card, "md")
    assert f"  - {ALWAYS}: {NOT_BETTER}" in md and "## Baselines" in md
    assert "always answering negative: accuracy 0.633, macro-F1 0.259" in md
    page = render(card, "html")
    assert f"{ALWAYS}: <span class='warn'>{NOT_BETTER}" in page
    data = json.loads(render(card, "json"))
    row = next(r for r in data["results"] if r["model"] == ALWAYS)
    assert row["beats_majority"] is False and row["baseline_verdict"].startswith(NOT_BETTER)
    assert data["suites"][SUITE]["baselines"]["class_counts"] == COUNTS


def test_a_non_significant_difference_says_how_many_items_would_settle_it(tmp_path: Path) -> None:
    run_id = imbalanced_run(tmp_path, models=(READER, ALWAYS), limit=12)
    card = build_scorecard(str(run_id), metric="accuracy")
    (h2h,) = card.head_to_head
    # 12 items: 4 only the reader got right, 1 only the majority model: p = 0.375.
    assert not h2h.significant and h2h.detail == "discordant: 4 only A right, 1 only B right"
    same = stats.mcnemar_exact([True] * 4 + [False] + [True] * 7, [False] * 4 + [True] + [True] * 7)
    assert h2h.items_to_settle == stats.items_to_settle(same)
    assert h2h.items_to_settle > h2h.n
    assert f"about {h2h.items_to_settle - h2h.n} more items" in render(card, "md")


def test_bench_takes_metric_and_notes_one_the_run_lacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", "knowledge", "-m", "scripted:a", "--limit", "4", "--metric", "macro_f1"]) == 0
    out = capsys.readouterr().out
    assert "note: --metric macro_f1: no suite of run 1 reports it" in out
    assert "knowledge — accuracy" in out and "always answering" in out
