"""Model families ("Qwen2.5", "SmolLM2", "Llama 3.2"): one list, one matcher.

The list is data (models/data/families.toml, read on first use): each family's name patterns, the
architectures its GGUF files carry and, for most, facts from its model cards (see models/catalog.py).
The same matcher labels a local GGUF file (models/describe.py), a remote model and a hub search.

The architecture alone misleads: SmolLM2 and TinyLlama are `llama`-architecture models that are not
Meta Llamas, and Qwen2.5 ships as `qwen2`. So names decide first, and the architecture picks a family
only when no name matches.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

DATA_FILE = "families.toml"


@dataclass(frozen=True)
class Family:
    name: str  # as shown to users, e.g. "Qwen2.5"
    patterns: tuple[str, ...]  # regexes over a normalised name (see `normalise`)
    architectures: tuple[str, ...] = ()  # general.architecture values its GGUF files carry; () = any
    publisher: str = ""  # "" for a family the catalog has no facts about
    sizes: tuple[str, ...] = ()  # published parameter counts, e.g. ("0.5B", "7B", "8x7B")
    license: str = ""
    context: int = 0  # trained context in tokens (the largest published for its instruct models)
    gguf_repos: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()  # extra words a search may use for it
    notes: str = ""
    part_of: str = ""  # the larger family this line of models belongs to ("Qwen2.5-Coder" -> "Qwen2.5")

    @property
    def label(self) -> str:
        """The family a model of this entry is shown as."""
        return self.part_of or self.name

    @property
    def has_facts(self) -> bool:
        return bool(self.publisher)

    def matches(self, normalised_name: str) -> bool:
        return any(re.search(p, normalised_name) for p in self.patterns)

    def ships(self, architecture: str | None) -> bool:
        """Whether a file of `architecture` can belong to this family (None: not known, say yes)."""
        return not architecture or not self.architectures or architecture in self.architectures


@dataclass(frozen=True)
class FamilyTable:
    families: tuple[Family, ...]  # in matching order: more specific names first
    by_architecture: dict[str, str]  # the label when no name matches


def _family(entry: dict[str, Any]) -> Family:
    fields = {k: tuple(v) if isinstance(v, list) else v for k, v in entry.items()}
    return Family(**fields)


@functools.cache
def table() -> FamilyTable:
    """The family list, read from the package's data file once."""
    text = (resources.files("models") / "data" / DATA_FILE).read_text(encoding="utf-8")
    data = tomllib.loads(text)
    return FamilyTable(tuple(_family(e) for e in data["family"]), dict(data["architectures"]))


def normalise(text: str) -> str:
    """Lower case with runs of spaces, "-" and "_" collapsed to one space."""
    return re.sub(r"[\s_\-]+", " ", text.lower()).strip()


def match_family(names: Iterable[str | None], architecture: str | None = None) -> Family | None:
    """The first family (in list order) one of `names` matches and that ships `architecture`."""
    candidates = [normalise(n) for n in names if n]
    for family in table().families:
        if family.ships(architecture) and any(family.matches(text) for text in candidates):
            return family
    return None


def family_for(
    architecture: str, names: Iterable[str | None], fallback_names: Iterable[str | None] = ()
) -> str:
    """The family to show for a model whose header says `architecture` and carries these names.

    `fallback_names` (e.g. the file name) are only consulted when no header name matches: the header
    is what the model's publisher wrote, a file name is whatever the user chose.
    """
    for group in (names, fallback_names):
        family = match_family(group, architecture)
        if family is not None:
            return family.label
    return table().by_architecture.get(architecture, architecture or "unknown")
