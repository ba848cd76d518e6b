"""The user's choice of how llama.cpp may lay out weights on the CPU (engines/weights.py says what each
choice means and decides "auto"). Free of imports so the command-line parser can offer the names
without loading anything heavy."""

from __future__ import annotations

from typing import Literal, get_args

WeightsChoice = Literal["auto", "all", "no-amx", "plain"]
WEIGHT_CHOICES: tuple[str, ...] = get_args(WeightsChoice)
