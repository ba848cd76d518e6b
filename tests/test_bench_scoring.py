"""Scoring, answer parsing and statistics against hand-computed values."""

from __future__ import annotations

import math

import pytest
from rouge_score import rouge_scorer

from benchmarks import stats
from benchmarks.parsing import parse_choice, parse_label, parse_number
from benchmarks.results import ItemResult, ItemScore
from benchmarks.scoring import (
    compute_metrics,
    confusion,
    macro_f1,
    rouge,
    score_loglik,
    score_parsed,
    score_summary,
    score_unanswered,
)
from engines.base import OptionScore

LABELS = ("positive", "negative", "neutral")


# ---------------------------------------------------------------------------------------------- ROUGE


def test_rouge_hand_computed_unigrams_and_bigrams() -> None:
    # reference "the cat sat on the mat" / prediction "the cat lay on the mat":
    # unigram overlap 5 of 6 each side -> F 5/6; bigrams: the-cat, on-the, the-mat = 3 of 5 -> F 0.6;
    # LCS = the cat on the mat = 5 -> F 5/6.
    scores = rouge("the cat sat on the mat", "the cat lay on the mat")
    assert scores["rouge1"] == pytest.approx(5 / 6)
    assert scores["rouge2"] == pytest.approx(0.6)
    assert scores["rougeL"] == pytest.approx(5 / 6)


def test_rouge_uses_stemming() -> None:
    # "cats running" vs "cat runs": Porter stems match (cat, run) only with stemming on.
    assert rouge("the cats were running", "the cat was runs")["rouge1"] == pytest.approx(
        rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
        .score("the cats were running", "the cat was runs")["rouge1"]
        .fmeasure
    )
    assert rouge("cats running", "cat runs")["rouge1"] == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("reference", "prediction"),
    [
        (
            "Police arrested two men after a robbery in the city centre on Tuesday.",
            "Two men were arrested by police following a city centre robbery.",
        ),
        ("The council approved a new budget that raises spending on schools.", "A budget was approved."),
        ("Rain is expected all week.", ""),
    ],
)
def test_rouge_equals_rouge_score_scorer(reference: str, prediction: str) -> None:
    own = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(
        reference, prediction
    )
    ours = score_summary(reference, prediction)
    for key in ("rouge1", "rouge2", "rougeL"):
        assert ours.values[key] == own[key].fmeasure
    assert ours.values["length_ratio"] == pytest.approx(len(prediction.split()) / len(reference.split()))
    assert ours.metric == "rougeL" and ours.value == own["rougeL"].fmeasure and ours.correct is None


# ------------------------------------------------------------------------------------ classification


def test_macro_f1_and_confusion_hand_computed() -> None:
    targets = ["positive", "positive", "negative", "negative", "neutral", "neutral"]
    preds = ["positive", "negative", "negative", "negative", None, "positive"]
    # positive: tp1 fp1 fn1 -> 0.5; negative: tp2 fp1 fn0 -> 0.8; neutral: tp0 -> 0 => mean 1.3/3
    assert macro_f1(targets, preds, LABELS) == pytest.approx(1.3 / 3)
    table = confusion(targets, preds, LABELS)
    assert table["positive"] == {"positive": 1, "negative": 1, "neutral": 0, "unparseable": 0}
    assert table["neutral"]["unparseable"] == 1
    assert table["neutral"]["positive"] == 1


def test_score_loglik_raw_and_length_normalised_can_disagree() -> None:
    scores = [OptionScore(-2.0, 1, 9), OptionScore(-3.0, 2, 30), OptionScore(-5.0, 1, 8)]
    result = score_loglik(scores, ("positive", "negative", "neutral"), "negative")
    assert result.prediction == "positive"  # highest raw log-prob
    assert result.prediction_norm == "negative"  # -0.1 per char beats -0.22 and -0.625
    assert (result.values["correct"], result.values["correct_norm"]) == (0, 1)
    assert result.value == 0.0 and result.correct is False


def _result(target: str, score: ItemScore, failed: bool = False) -> ItemResult:
    return ItemResult("m", "s", "i", "generate", target, None, score, failed, None, 0.1, None, None, "k")


def test_compute_metrics_counts_unparseable_as_failures_and_wrong() -> None:
    rows = [
        _result("positive", score_parsed("positive", "positive")),
        _result("negative", score_parsed(None, "negative"), failed=True),
        _result("neutral", score_parsed("neutral", "neutral")),
        _result("neutral", score_parsed("positive", "neutral")),
    ]
    metrics = compute_metrics("classify", "accuracy", LABELS, rows)
    acc = metrics.get("accuracy")
    assert acc is not None and acc.value == 0.5
    assert (acc.ci_low, acc.ci_high) == pytest.approx(stats.wilson_ci(2, 4))
    assert metrics.failures == 1 and metrics.unparseable == 1
    f1 = metrics.get("macro_f1")
    assert f1 is not None and f1.ci_low <= f1.value <= f1.ci_high


# ------------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Positive", "positive"),
        ("negative.", "negative"),
        ("The sentiment is positive.", "positive"),
        ("**Neutral**", "neutral"),
        ("Sentiment: NEGATIVE", "negative"),
        ("Negative. The customer is not positive about it", "negative"),
        ("positive or negative", None),
        ("I cannot tell", None),
        ("", None),
    ],
)
def test_parse_label(text: str, expected: str | None) -> None:
    assert parse_label(text, LABELS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("B", "B"),
        ("(c)", None),  # lower-case letters in brackets are too ambiguous (could be a word)
        ("(C)", "C"),
        ("D. Paris", "D"),
        ("The answer is A.", "A"),
        ("Answer: b", "B"),
        ("The correct answer is:\nC. the Declaration", "C"),
        ("Paris", "D"),
        ("I think it is Lyon or Paris", None),
        ("", None),
    ],
)
def test_parse_choice(text: str, expected: str | None) -> None:
    assert parse_choice(text, ["Berlin", "Madrid", "Lyon", "Paris"]) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("She has 3 + 4 = 7 apples.\n#### 7", "7"),
        ("The answer is $1,250.", "1250"),
        ("So 12 - 5 = 7 and then 7 * 2 = 14", "14"),
        ("#### 3.50", "3.5"),
        ("no numbers here", None),
    ],
)
def test_parse_number(text: str, expected: str | None) -> None:
    assert parse_number(text) == expected


# ---------------------------------------------------------------------------------------- statistics


def test_wilson_interval_known_value() -> None:
    # 80/100: Wilson 95% interval is [0.7112, 0.8666] (textbook value).
    low, high = stats.wilson_ci(80, 100)
    assert low == pytest.approx(0.7112, abs=5e-4) and high == pytest.approx(0.8666, abs=5e-4)
    assert all(math.isnan(x) for x in stats.wilson_ci(0, 0))


def _paired(only_a: int, only_b: int, both: int, neither: int) -> tuple[list[bool], list[bool]]:
    a = [True] * only_a + [False] * only_b + [True] * both + [False] * neither
    b = [False] * only_a + [True] * only_b + [True] * both + [False] * neither
    return a, b


def test_mcnemar_80_vs_77_of_100_is_not_significant() -> None:
    # A right on 80, B on 77, with 10 vs 7 discordant pairs: p = P(|X - 8.5| >= 1.5), X ~ Bin(17, 1/2)
    a, b = _paired(10, 7, 70, 13)
    assert sum(a) == 80 and sum(b) == 77
    test = stats.mcnemar_exact(a, b)
    expected = 2 * sum(math.comb(17, k) for k in range(0, 8)) / 2**17
    assert test.p_value == pytest.approx(expected)
    assert test.p_value == pytest.approx(0.6291, abs=1e-4)
    assert not test.significant
    assert stats.verdict(test, "qwen", "llama").startswith("no significant difference")


def test_mcnemar_lopsided_discordance_is_significant() -> None:
    # 15 vs 2 discordant: p = 2 * (C(17,0) + C(17,1) + C(17,2)) / 2^17 = 308 / 131072
    a, b = _paired(15, 2, 60, 23)
    test = stats.mcnemar_exact(a, b)
    assert test.p_value == pytest.approx(308 / 131072)
    assert test.significant
    assert stats.verdict(test, "qwen", "llama").startswith("qwen is better")


def test_mcnemar_without_discordant_pairs_is_p_one() -> None:
    a, b = _paired(0, 0, 5, 5)
    assert stats.mcnemar_exact(a, b).p_value == 1.0


def test_paired_bootstrap_detects_a_consistent_gap_and_not_noise() -> None:
    base = [0.30, 0.42, 0.25, 0.51, 0.38, 0.44, 0.29, 0.47, 0.33, 0.40] * 3
    better = [x + 0.1 for x in base]
    clear = stats.paired_bootstrap(better, base)
    assert clear.significant and clear.p_value < 0.01
    jitter = [x + (0.01 if i % 2 else -0.01) for i, x in enumerate(base)]
    assert not stats.paired_bootstrap(jitter, base).significant
    assert stats.paired_bootstrap(base, base).p_value == 1.0


# ------------------------------------------------------------------------------- the stored item score
STORED_SHAPES = [
    # (suite metric, the score JSON as duel has always stored it)
    (
        "accuracy",
        {
            "correct": 1,
            "correct_norm": 0,
            "pred": "B",
            "pred_norm": "C",
            "logprobs": {"A": -3.1, "B": -1.25, "C": -2.0},
        },
    ),
    ("accuracy", {"correct": 0, "pred": None, "unparseable": 1}),
    ("exact_match", {"correct": 1, "pred": "42", "unparseable": 0}),
    ("accuracy", {"correct": 0, "pred": None}),
    ("rougeL", {"rouge1": 0.5, "rouge2": 0.25, "rougeL": 0.4, "length_ratio": 1.25}),
]


@pytest.mark.parametrize(("metric", "stored"), STORED_SHAPES)
def test_stored_scores_read_back_and_write_out_unchanged(metric: str, stored: dict) -> None:
    import json

    score = ItemScore.from_json(metric, stored)
    assert json.dumps(score.to_json()) == json.dumps(stored)  # same keys, order and number types
    assert score.metric == metric
    assert score.value == (stored["rougeL"] if metric == "rougeL" else stored["correct"])
    assert score.correct == (None if metric == "rougeL" else bool(stored["correct"]))
    assert score.prediction == stored.get("pred")


def test_scorers_write_the_stored_shapes() -> None:
    loglik = score_loglik(
        [OptionScore(-3.1, 1, 1), OptionScore(-1.25, 1, 1), OptionScore(-2.0, 1, 1)], ("A", "B", "C"), "B"
    )
    assert list(loglik.to_json()) == ["correct", "correct_norm", "pred", "pred_norm", "logprobs"]
    assert score_parsed(None, "x").to_json() == STORED_SHAPES[1][1]
    assert score_parsed("42", "42", "exact_match").to_json() == STORED_SHAPES[2][1]
    assert score_unanswered("x", "accuracy").to_json() == STORED_SHAPES[3][1]
    empty = score_unanswered("A short reference.", "rougeL")
    assert empty.to_json() == {"rouge1": 0.0, "rouge2": 0.0, "rougeL": 0.0, "length_ratio": 0.0}


def test_the_primary_metric_is_the_manifests_not_guessed_from_the_stored_keys() -> None:
    rows = [
        _result("7", score_parsed("7", "7", "exact_match")),
        _result("8", score_parsed("9", "8", "exact_match")),
    ]
    metrics = compute_metrics("math", "exact_match", (), rows)
    assert metrics.primary == "exact_match" and [m.name for m in metrics.metrics] == ["exact_match"]
    assert metrics.get("exact_match").value == 0.5
