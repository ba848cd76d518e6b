"""How many generated replies run at once unless the user says (`duel bench --parallel`, the
benchmark screen's field). Free of imports so the command-line parser can show it cheaply.

Chosen from perf/gen_batch.py's sweep on the bundled models (README, "Speed"): see the figures there.
"""

from __future__ import annotations

DEFAULT_PARALLEL = 8
