"""Options several commands share."""

from __future__ import annotations

import argparse

from models.weights_choice import WEIGHT_CHOICES

WEIGHTS_HELP = (
    "which faster weight layouts llama.cpp may use on the CPU: auto (decided from this CPU: AMX is left "
    "out where it crashes), all, no-amx, plain (none); default: config.toml [engine] weights, else auto. "
    "`duel doctor` shows what auto chooses here and why"
)


def add_weights_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--weights", choices=WEIGHT_CHOICES, default=None, metavar="|".join(WEIGHT_CHOICES),
                        help=WEIGHTS_HELP)


def weights_choice(args: argparse.Namespace) -> str:
    """The --weights flag, else the config file's choice, else auto."""
    from engines.weights import configured_choice

    return configured_choice(getattr(args, "weights", None))[0]
