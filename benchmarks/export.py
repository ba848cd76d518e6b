"""Scorecard exports through pandas: Markdown, CSV, JSON (with every per-item result and what was sent),
a per-item CSV (`items-csv`: one row per item and model, re-scorable), HTML (one self-contained page
with charts: benchmarks/export_html.py) and the summary chart alone (`svg`, `png`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from benchmarks.results import ItemResult
from benchmarks.scorecard import HeadToHead, Scorecard, ScoreRow, SuiteLine

FORMATS = ("md", "csv", "json", "html", "items-csv", "svg", "png")
METRIC_LABELS = {
    "accuracy": "accuracy",
    "accuracy_norm": "accuracy (length-normalised)",
    "macro_f1": "macro-F1",
    "exact_match": "exact match",
    "rouge1": "ROUGE-1 F",
    "rouge2": "ROUGE-2 F",
    "rougeL": "ROUGE-L F",
    "length_ratio": "length ratio",
}
NOTES = (
    "Intervals are 95%: Wilson for accuracy-type metrics, bootstrap over items (2,000 resamples) for "
    "macro-F1 and ROUGE. The headline metric is the suite's, except that a classification suite whose "
    "largest class has more than 1.5x the items of its smallest leads with macro-F1 (accuracy still "
    "shown); --metric chooses another. Baselines (classification, multiple choice): chance = mean of 1/k "
    "options; majority = always answering the most frequent answer of the items scored; a model is "
    "better than that only if a one-sided exact binomial test of its accuracy against the majority rate "
    "gives p < 0.05. Head-to-head tests follow the headline metric on the items both models answered: "
    "exact McNemar test (accuracy-type) or paired bootstrap (macro-F1, ROUGE); p >= 0.05 is reported as "
    "no significant difference, with the items that would settle it at 80% power (McNemar sample size "
    "from the discordant rates, or a normal approximation from the bootstrap standard error). "
    "latency/item is the mean seconds per item (items batched together share the batch's time); "
    "tok/s counts generated tokens; value/s = headline metric "
    "/ latency per item; value/GB = headline metric / model file size."
)
NO_PROMPT = "not stored: computed before duel stored what it sent (results schema 3)"


def format_value(value: Any, digits: int = 3) -> str:
    """A metric as the scorecard prints it: 3 decimals for floats, an em dash when missing."""
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _ci(low: Any, high: Any) -> str:
    return "—" if low is None or high is None else f"[{low:.3f}, {high:.3f}]"


def _other_metrics(row: ScoreRow) -> str:
    parts = []
    for name in METRIC_LABELS:
        metric = row.metric_named(name)
        if name == row.metric or metric is None or metric.value is None:
            continue
        parts.append(f"{METRIC_LABELS[name]} {metric.value:.3f} {_ci(metric.ci_low, metric.ci_high)}")
    return "; ".join(parts)


def vs_majority_cell(row: ScoreRow) -> str:
    """The short form of a row's baseline verdict for the results table: does it beat always answering
    the majority answer (one-sided exact binomial test, alpha 0.05)?"""
    if row.beats_majority is None or row.majority_p_value is None:
        return "—"
    return f"{'yes' if row.beats_majority else 'no'} (p = {row.majority_p_value:.3g})"


def baseline_heading(line: SuiteLine) -> str:
    """A suite's baselines and headline metric in one sentence (Markdown, HTML and terminal alike)."""
    base = line.baselines
    metric = METRIC_LABELS.get(line.headline, line.headline)
    if base is None:
        return f"headline {metric} ({line.headline_reason})"
    always = f"always answering {base.majority_label}: accuracy {base.majority_rate:.3f}"
    if base.majority_macro_f1 is not None:
        always += f", macro-F1 {base.majority_macro_f1:.3f}"
    return (
        f"answers {base.counts_text()}; chance {base.chance:.3f}; {always}; "
        f"headline {metric} ({line.headline_reason})"
    )


def h2h_sentence(h: HeadToHead) -> str:
    """The head-to-head line after the values: the verdict, the test's detail, and what would settle it."""
    settle = f"; {h.settle_text}" if h.settle_text else ""
    return f"{h.verdict}; {h.detail}{settle}"


def results_frame(card: Scorecard) -> Any:
    """The human table: one row per suite x model."""
    import pandas as pd

    records = []
    for row in card.rows:
        records.append(
            {
                "suite": row.suite,
                "model": row.model,
                "method": row.method,
                "metric": METRIC_LABELS.get(row.metric, row.metric),
                "value": format_value(row.value),
                "95% CI": _ci(row.ci_low, row.ci_high),
                "beats majority": vs_majority_cell(row),
                "items": row.items,
                "failures": row.failures,
                "latency/item (s)": format_value(row.mean_latency_s),
                "tok/s": format_value(row.tokens_per_s, 1),
                "total time (s)": format_value(row.total_time_s, 1),
                "peak RSS (MiB)": format_value(row.peak_rss_mb, 0),
                "size (GB)": format_value(row.file_size_gb),
                "value/s": format_value(row.value_per_s),
                "value/GB": format_value(row.value_per_gb),
                "other metrics": _other_metrics(row),
            }
        )
    return pd.DataFrame.from_records(records)


def flat_frame(card: Scorecard) -> Any:
    """The machine table (CSV): every metric and interval in its own column."""
    import pandas as pd

    return pd.DataFrame.from_records([row.flat() for row in card.rows])


def models_frame(card: Scorecard) -> Any:
    import pandas as pd

    records = []
    for m in card.models:
        ident = m["identity"]
        size = ident.get("file_size") or 0
        records.append(
            {
                "model": m["model_ref"],
                "name": ident.get("name"),
                "file": ident.get("file") or "—",
                "sha256": ident.get("sha256") or "—",
                "quantization": ident.get("quantization") or "—",
                "architecture": ident.get("architecture") or "—",
                "size (MB)": f"{size / 1e6:.1f}" if size else "—",
                "peak RSS (MiB)": f"{m['peak_rss_bytes'] / 2**20:.0f}" if m.get("peak_rss_bytes") else "—",
            }
        )
    return pd.DataFrame.from_records(records)


def scorecard_title(card: Scorecard) -> str:
    return f"duel scorecard — run {card.run['id']} ({card.run['status']})"


def settings_line(card: Scorecard) -> str:
    s = card.run["settings"]
    keys = ["method", "shots", "limit", "seed", "n_ctx", "max_tokens", "threads"]
    if "parallel" in s:  # runs stored before --parallel existed generated one item at a time
        keys.append("parallel")
    return ", ".join(f"{k} {s.get(k) if s.get(k) is not None else 'default'}" for k in keys)


def to_markdown(card: Scorecard) -> str:
    parts = [
        f"# {scorecard_title(card)}",
        "",
        f"Created {card.run['created_at']}; settings: {settings_line(card)}.",
        "",
    ]
    parts += ["## Models", "", models_frame(card).to_markdown(index=False), ""]
    parts += ["## Results", "", results_frame(card).to_markdown(index=False), ""]
    parts += ["## Baselines", ""]
    for line in card.suites.values():
        parts.append(f"- **{line.name}**: {baseline_heading(line)}")
        for row in card.rows:
            if row.suite == line.name and row.baseline_verdict:
                parts.append(f"  - {row.model}: {row.baseline_verdict}")
    parts += ["", "## Head to head", ""]
    if card.head_to_head:
        for h in card.head_to_head:
            parts.append(
                f"- **{h.suite}** ({METRIC_LABELS.get(h.metric, h.metric)}): {h.model_a} "
                f"{h.value_a:.3f} vs {h.model_b} {h.value_b:.3f} — {h2h_sentence(h)}"
            )
    else:
        parts.append("- (needs two models on the same items)")
    parts += ["", f"_{NOTES}_", ""]
    return "\n".join(parts)


def item_json(card: Scorecard, result: ItemResult) -> dict[str, Any]:
    """One per-item result as the JSON export lists it: its score in the stored form, and `sent`,
    exactly what the model was given (None for results stored before duel kept it)."""
    return {
        "suite": result.suite,
        "model": result.model_ref,
        "model_sha256": card.model_sha256(result.model_ref),
        "item_id": result.item_id,
        "method": result.method,
        "target": result.target,
        "output": result.output,
        "score": result.score.to_json(),
        "failed": result.failed,
        "error": result.error,
        "latency_s": result.latency_s,
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "cached": result.cached,
        "cache_key": result.cache_key,
        "sent": result.sent.to_json() if result.sent is not None else None,
    }


def _json_cell(value: Any) -> str | None:
    """A list or mapping as JSON in one CSV cell; empty or missing as an empty cell."""
    return json.dumps(value, ensure_ascii=False) if value else None


def items_frame(card: Scorecard) -> Any:
    """The per-item CSV: one row per item and model, with what was sent, the answer key, the
    prediction, the per-option log-probabilities or the raw output, so it can be re-scored alone.
    Lists (options, messages, log-probabilities) are JSON in their cell."""
    import pandas as pd

    records = []
    for r in card.items:
        sent = r.sent
        score = r.score
        records.append(
            {
                "suite": r.suite,
                "model": r.model_ref,
                "model_sha256": card.model_sha256(r.model_ref),
                "item_id": r.item_id,
                "method": r.method,
                "target": r.target,
                "prediction": score.prediction,
                "metric": score.metric,
                "value": score.value,
                "logprobs": _json_cell(dict(score.logprobs or {})),
                "output": r.output,
                "failed": r.failed,
                "error": r.error,
                "sent_kind": sent.kind if sent else None,
                "context": sent.context if sent else None,
                "options": _json_cell(list(sent.options) if sent else None),
                "answers": _json_cell(list(sent.answers) if sent else None),
                "messages": _json_cell([dict(m) for m in sent.messages] if sent else None),
                "rendered_prompt": sent.rendered if sent else None,
                "sent_note": None if sent else NO_PROMPT,
                "latency_s": r.latency_s,
                "prompt_tokens": r.prompt_tokens,
                "completion_tokens": r.completion_tokens,
                "cached": r.cached,
            }
        )
    return pd.DataFrame.from_records(records)


def to_json(card: Scorecard) -> str:
    payload = {
        "run": card.run,
        "models": card.models,
        "metric_choice": card.metric_choice,
        "suites": {name: line.to_json() for name, line in card.suites.items()},
        "results": flat_frame(card).to_dict(orient="records"),
        "head_to_head": [{**h.to_json(), "settle": h.settle_text} for h in card.head_to_head],
        "confusion": card.confusion,
        "items": [item_json(card, r) for r in card.items],
        "notes": NOTES,
        "sent_note": f"items[].sent is null where the prompt was {NO_PROMPT}",
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def render(card: Scorecard, fmt: str) -> str:
    """A text format (everything but png) as a string."""
    if fmt == "md":
        return to_markdown(card)
    if fmt == "csv":
        return flat_frame(card).to_csv(index=False)
    if fmt == "json":
        return to_json(card)
    if fmt == "html":
        from benchmarks.export_html import to_html

        return to_html(card)
    if fmt == "svg":
        from benchmarks.export_html import summary_svg

        return summary_svg(card)
    if fmt == "items-csv":
        return items_frame(card).to_csv(index=False)
    from models.errors import DuelError

    if fmt == "png":
        raise DuelError("png is binary: write it to a file with -o FILE.png")
    raise DuelError(f"unknown format '{fmt}' (formats: {', '.join(FORMATS)})")


def export_scorecard(card: Scorecard, fmt: str, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "png":
        from benchmarks.export_html import summary_png

        path.write_bytes(summary_png(card))
    else:
        path.write_text(render(card, fmt), encoding="utf-8")
    return path
