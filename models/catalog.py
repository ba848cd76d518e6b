"""Facts about well-known open model families: sizes, licence, context, GGUF repositories.

Used for search suggestions (`duel models search` when offline, or when the query names a family).
The facts live with the family list in models/data/families.toml (see models/families.py, which also
matches names to families); this module answers the catalog's questions about them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from models.families import Family, normalise, table

__all__ = ["Family", "all_families", "suggest"]


def all_families() -> list[Family]:
    """The families the catalog has facts about, in matching order."""
    return [f for f in table().families if f.has_facts]


def suggest(words: Sequence[str]) -> list[Family]:
    """Families a search query mentions (by name pattern, or by an alias such as "phi")."""
    query = normalise(" ".join(words))
    if not query:
        return []
    return [
        family
        for family in all_families()
        if family.matches(query) or any(re.search(rf"\b{re.escape(a)}\b", query) for a in family.aliases)
    ]
