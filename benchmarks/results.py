"""One finished benchmark item, typed: what the runner stores, reports in its events, and scorecards read.

`ItemResult` is the same object whether an item was computed just now (the runner's `ItemDone`
event carries it), reused from an earlier run, or read back later (`ResultsStore.run_results`), so
the TUI feed, the CLI and the scorecard interpret a result in one way only. Its `ItemScore` (made by
benchmarks/scoring.py) holds the suite's primary metric (from the suite's manifest) and the item's
value on it, every per-item value, and the parsed prediction. Stored as JSON with every result, in
this form (so others can re-score them; results stored by earlier versions read back unchanged):
- classify / mc, log-likelihood: correct, correct_norm (length-normalised: log-prob per character), pred,
  pred_norm, logprobs
- classify / mc / math, generation: correct, pred (None when unparseable), unparseable
- classify / mc / math, no answer at all (the prompt did not fit): correct (0), pred (None)
- summarize: rouge1, rouge2, rougeL (F-measure, Porter stemming, as rouge-score computes them),
  length_ratio (summary words / reference words)

`SentPrompt` is exactly what the model was given for an item (stored with results computed since
schema 3; None for older ones, which nobody can reconstruct for certain).

Kept free of numpy/scipy so the store and the events import it cheaply.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROUGE_KEYS = ("rouge1", "rouge2", "rougeL")
CORRECT = "correct"  # 1 right, 0 wrong
CORRECT_NORM = "correct_norm"  # the same with options compared per character (log-likelihood only)
LENGTH_RATIO = "length_ratio"
#: Every per-item value a score can hold, in the order they are stored.
ITEM_VALUES = (CORRECT, CORRECT_NORM, *ROUGE_KEYS, LENGTH_RATIO)
#: Suite metrics whose items are right (1) or wrong (0): Wilson intervals, McNemar tests.
PROPORTION_METRICS = ("accuracy", "exact_match")
#: What a scorecard's headline may be (`--metric`); "auto": the suite's own, or macro-F1 for an
#: imbalanced classification suite (benchmarks/baselines.py).
METRIC_CHOICES = ("auto", "accuracy", "accuracy_norm", "macro_f1", "exact_match", *ROUGE_KEYS)
#: The per-item value each suite metric is the mean of.
ITEM_VALUE_OF = {"accuracy": CORRECT, "exact_match": CORRECT, **{key: key for key in ROUGE_KEYS}}


@dataclass(frozen=True)
class ItemScore:
    """One item's score: the suite's primary metric and the item's value on it, and how it got there."""

    metric: str  # the suite's primary metric, from its manifest ("accuracy", "exact_match", "rougeL")
    values: Mapping[str, float]  # every per-item value (ITEM_VALUES), in stored order
    prediction: str | None = None  # the parsed answer; None when unparseable, failed, or a summary
    prediction_norm: str | None = None  # log-likelihood: the option picked per character
    logprobs: Mapping[str, float] | None = None  # log-likelihood: each option's log-probability
    unparseable: bool | None = None  # generation: no answer could be read (None: not a parsed answer)

    @property
    def value(self) -> float:
        """The item's value on the primary metric: 1/0 for right/wrong, else e.g. its ROUGE-L F."""
        return float(self.values[ITEM_VALUE_OF.get(self.metric, self.metric)])

    @property
    def right_or_wrong(self) -> bool:
        return self.metric in PROPORTION_METRICS

    @property
    def correct(self) -> bool | None:
        """Right or wrong; None for metrics that are not (a summary's ROUGE)."""
        return bool(self.values.get(CORRECT)) if self.right_or_wrong else None

    def to_json(self) -> dict[str, Any]:
        """The stored form (see the module docs); `from_json` reads it back."""
        if CORRECT not in self.values:
            return {key: float(value) for key, value in self.values.items()}
        out: dict[str, Any] = {CORRECT: int(self.values[CORRECT])}
        if CORRECT_NORM in self.values:
            out[CORRECT_NORM] = int(self.values[CORRECT_NORM])
        out["pred"] = self.prediction
        if self.prediction_norm is not None:
            out["pred_norm"] = self.prediction_norm
        if self.logprobs is not None:
            out["logprobs"] = dict(self.logprobs)
        if self.unparseable is not None:
            out["unparseable"] = int(self.unparseable)
        return out

    @classmethod
    def from_json(cls, metric: str, data: Mapping[str, Any]) -> ItemScore:
        """A stored score of a suite whose primary metric is `metric`."""
        return cls(
            metric,
            {key: float(value) for key, value in data.items() if key in ITEM_VALUES},
            data.get("pred"),
            data.get("pred_norm"),
            data.get("logprobs"),
            bool(data["unparseable"]) if "unparseable" in data else None,
        )


@dataclass(frozen=True)
class SentPrompt:
    """Exactly what was sent to the model for one item, so anyone can re-score it outside duel.

    - loglik: `context` (the raw completion text after the template and the few-shot assembly, no
      chat template) and the `options` scored as its continuations; `answers[i]` is the label or
      letter `options[i]` stands for;
    - chat: the chat `messages`, the generation `params`, and `rendered`, the prompt text the model's
      chat template made of them (None where the engine does not render it itself, e.g. a server).
    """

    kind: str  # "loglik" | "chat"
    context: str | None = None
    options: tuple[str, ...] = ()
    answers: tuple[str, ...] = ()
    messages: tuple[Mapping[str, str], ...] = ()
    params: Mapping[str, Any] | None = None
    rendered: str | None = None

    def to_json(self) -> dict[str, Any]:
        if self.kind == "loglik":
            return {
                "kind": self.kind,
                "context": self.context,
                "options": list(self.options),
                "answers": list(self.answers),
            }
        return {
            "kind": self.kind,
            "messages": [dict(m) for m in self.messages],
            "params": dict(self.params or {}),
            "rendered": self.rendered,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SentPrompt:
        return cls(
            kind=str(data["kind"]),
            context=data.get("context"),
            options=tuple(data.get("options", ())),
            answers=tuple(data.get("answers", ())),
            messages=tuple(dict(m) for m in data.get("messages", ())),
            params=data.get("params"),
            rendered=data.get("rendered"),
        )


@dataclass(frozen=True)
class ItemResult:
    """One model's finished answer to one suite item."""

    model_ref: str
    suite: str
    item_id: str
    method: str  # "loglik" or "generate"
    target: str
    output: str | None  # the generated text, or the options' log-probabilities as JSON; None on error
    score: ItemScore
    failed: bool  # unparseable, empty, or an engine error
    error: str | None
    latency_s: float
    prompt_tokens: int | None
    completion_tokens: int | None
    cache_key: str
    cached: bool = False  # reused from an earlier run
    sent: SentPrompt | None = None  # what the model was given; None for results stored before schema 3


@dataclass(frozen=True)
class ResultRecord:
    """What the store keeps of a computed item: the result and the rest of its cache key."""

    result: ItemResult
    model_key: str  # the model file's sha256 (or its source:name without a file)
    suite_version: str
    prompt_hash: str
    settings: Mapping[str, Any]
