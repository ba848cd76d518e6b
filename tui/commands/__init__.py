"""Headless subcommands. Each module exposes `register(subparsers)` and sets `handler` on its parsers.

Modules import their heavy dependencies inside the handlers so `duel --help` stays instant.
"""

from __future__ import annotations

from tui.commands import (
    arena_cmd,
    bench_cmd,
    chat_cmd,
    doctor_cmd,
    leaderboard_cmd,
    models_cmd,
    recommend_cmd,
    runs_cmd,
    scorecard_cmd,
    suites_cmd,
)

COMMAND_MODULES = [
    chat_cmd,
    models_cmd,
    suites_cmd,
    bench_cmd,
    runs_cmd,
    scorecard_cmd,
    recommend_cmd,
    arena_cmd,
    leaderboard_cmd,
    doctor_cmd,
]
