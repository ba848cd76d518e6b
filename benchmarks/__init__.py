"""Scored benchmark suites for two (or more) models: suites, scoring, runner, results store, scorecards.

Public entry points (import the submodules; nothing heavy happens at import time):
- `benchmarks.suites`: `list_suites()`, `load_suite(name)`, `Suite`, `Item`.
- `benchmarks.importers`: `import_suite(...)` for the public formats (Tweets.csv, TweetEval, GSM8K, MMLU...).
- `benchmarks.runner`: `BenchRequest`, `run_bench(request, on_event=..., should_stop=...)`.
- `benchmarks.events`: the progress events the runner emits (CLI bars and the TUI consume the same ones).
- `benchmarks.store`: `ResultsStore` (SQLite, one commit per finished item; cached results are reused).
- `benchmarks.scorecard`: `build_scorecard(run_id)`; `benchmarks.export`: `export_scorecard(card, fmt, path)`.
"""
