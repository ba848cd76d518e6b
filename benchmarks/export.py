"""Scorecard exports through pandas: Markdown, CSV, JSON (with every per-item result), HTML (one file)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from benchmarks.results import ItemResult
from benchmarks.scorecard import Scorecard, ScoreRow

FORMATS = ("md", "csv", "json", "html")
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
    "Intervals are 95%: Wilson for accuracy-type metrics, bootstrap over items for macro-F1 and ROUGE. "
    "Head-to-head: exact McNemar test (accuracy-type) or paired bootstrap (ROUGE-L) on the items both "
    "models answered; p >= 0.05 is reported as no significant difference. latency/item is the mean "
    "seconds per item; tok/s counts generated tokens; value/s = metric / latency per item; "
    "value/GB = metric / model file size."
)


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


def _title(card: Scorecard) -> str:
    return f"duel scorecard — run {card.run['id']} ({card.run['status']})"


def _settings_line(card: Scorecard) -> str:
    s = card.run["settings"]
    keys = ("method", "shots", "limit", "seed", "n_ctx", "max_tokens", "threads")
    return ", ".join(f"{k} {s.get(k) if s.get(k) is not None else 'default'}" for k in keys)


def to_markdown(card: Scorecard) -> str:
    parts = [
        f"# {_title(card)}",
        "",
        f"Created {card.run['created_at']}; settings: {_settings_line(card)}.",
        "",
    ]
    parts += ["## Models", "", models_frame(card).to_markdown(index=False), ""]
    parts += ["## Results", "", results_frame(card).to_markdown(index=False), ""]
    parts += ["## Head to head", ""]
    if card.head_to_head:
        for h in card.head_to_head:
            parts.append(
                f"- **{h.suite}** ({METRIC_LABELS.get(h.metric, h.metric)}): {h.model_a} "
                f"{h.value_a:.3f} vs {h.model_b} {h.value_b:.3f} — {h.verdict}; {h.detail}"
            )
    else:
        parts.append("- (needs two models on the same items)")
    parts += ["", f"_{NOTES}_", ""]
    return "\n".join(parts)


def item_json(card: Scorecard, result: ItemResult) -> dict[str, Any]:
    """One per-item result as the JSON export lists it (its score in the stored form)."""
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
    }


def to_json(card: Scorecard) -> str:
    payload = {
        "run": card.run,
        "models": card.models,
        "results": flat_frame(card).to_dict(orient="records"),
        "head_to_head": [h.to_json() for h in card.head_to_head],
        "confusion": card.confusion,
        "items": [item_json(card, r) for r in card.items],
        "notes": NOTES,
    }
    return json.dumps(payload, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; }
th { background: #f2f2f2; } tr:nth-child(even) td { background: #fafafa; }
.sig { color: #0a6; font-weight: 600; } .ns { color: #666; } .note { color: #555; font-size: 0.8rem; }
"""


def to_html(card: Scorecard) -> str:
    """One self-contained page: inline CSS, no scripts, no external resources."""
    e = html.escape
    body = [
        f"<h1>{e(_title(card))}</h1>",
        f"<p>Created {e(card.run['created_at'])}; {e(_settings_line(card))}</p>",
    ]
    body += ["<h2>Models</h2>", models_frame(card).to_html(index=False, border=0)]
    body += ["<h2>Results</h2>", results_frame(card).to_html(index=False, border=0)]
    body.append("<h2>Head to head</h2><ul>")
    for h in card.head_to_head:
        css = "sig" if h.winner else "ns"
        body.append(
            f"<li><b>{e(h.suite)}</b>: {e(h.model_a)} {h.value_a:.3f} vs {e(h.model_b)} "
            f"{h.value_b:.3f} — <span class='{css}'>{e(h.verdict)}</span>; {e(h.detail)}</li>"
        )
    if not card.head_to_head:
        body.append("<li>(needs two models on the same items)</li>")
    body.append("</ul>")
    for suite, per_model in card.confusion.items():
        import pandas as pd

        for model, table in per_model.items():
            frame = pd.DataFrame(table).T
            frame.index.name = "true \\ predicted"
            body.append(f"<h2>Confusion matrix: {e(suite)} — {e(model)}</h2>")
            body.append(frame.to_html(border=0))
    body.append(f"<p class='note'>{e(NOTES)}</p>")
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(_title(card))}</title><style>{_CSS}</style></head><body>\n"
        + "\n".join(body)
        + "\n</body></html>\n"
    )


def render(card: Scorecard, fmt: str) -> str:
    if fmt == "md":
        return to_markdown(card)
    if fmt == "csv":
        return flat_frame(card).to_csv(index=False)
    if fmt == "json":
        return to_json(card)
    if fmt == "html":
        return to_html(card)
    from models.errors import DuelError

    raise DuelError(f"unknown format '{fmt}' (formats: {', '.join(FORMATS)})")


def export_scorecard(card: Scorecard, fmt: str, path: Path) -> Path:
    text = render(card, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
