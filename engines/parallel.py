"""How many generated replies run at once unless the user says (`duel bench --parallel`, the
benchmark screen's field). Free of imports so the command-line parser can show it cheaply.

Chosen from perf/gen_batch.py's sweep on the bundled models (README, "Speed"). On a 2-core AVX2 EPYC,
20 math items: Qwen2.5-Coder-0.5B gains 1.34x at P=4, 1.52x at P=8, 1.92x at P=16; SmolLM2-135M
about 1.07x at any P from 4 (that small model gains little from batching on this CPU). The KV cache
of 16 streams of a benchmark's prompt + reply is a few hundred MiB on these models, and plan_batch
runs fewer when memory is short. A remote server gets the same number of requests in flight.
"""

from __future__ import annotations

DEFAULT_PARALLEL = 16
