"""`--limit N --seed S`: a deterministic subset, stratified by label so small runs stay balanced."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def stratified_sample(
    items: Sequence[T], limit: int | None, seed: int, label_of: Callable[[T], str | None]
) -> list[T]:
    """Pick `limit` items keeping each label's share (largest-remainder rounding), in original order.

    Items whose label is None form one stratum (math, summaries). The same seed always picks the same
    items, so `--limit 40 --seed 0` today and tomorrow compares the same questions.
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit <= 0:
        return []
    groups: dict[str | None, list[int]] = defaultdict(list)
    for index, item in enumerate(items):
        groups[label_of(item)].append(index)
    total = len(items)
    quotas = {label: limit * len(idx) / total for label, idx in groups.items()}
    counts = {label: int(q) for label, q in quotas.items()}
    left = limit - sum(counts.values())
    # Largest remainders first; ties broken by label text so the result does not depend on dict order.
    by_remainder = sorted(quotas, key=lambda lab: (-(quotas[lab] - counts[lab]), str(lab)))
    for label in by_remainder[:left]:
        counts[label] += 1
    rng = random.Random(seed)
    chosen: list[int] = []
    for label in sorted(groups, key=str):
        chosen.extend(rng.sample(groups[label], counts[label]))
    return [items[i] for i in sorted(chosen)]
