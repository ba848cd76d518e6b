"""The human family of a model ("Qwen2.5", "SmolLM2", "Llama 3.2") from its header.

The architecture alone misleads: SmolLM2 and TinyLlama are `llama`-architecture models that are not
Meta Llamas, and Qwen2.5 ships as `qwen2`. So the names in the header (general.name, basename,
finetune) are matched first against FAMILY_RULES, in order, and only then does the architecture pick
a family. Both tables are plain data: other modules (the hub catalogue) extend them with
`add_family_rule` / ARCHITECTURE_FAMILIES instead of editing this code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# (regex over the normalised name, family). The name is lower-cased with "-", "_" and spaces
# collapsed to one space, so "Llama-3.2-1B" and "llama 3.2 1b" match the same rule.
# More specific rules come first: "smollm2" before "smollm", "qwen2.5" before "qwen2".
FAMILY_RULES: list[tuple[str, str]] = [
    (r"\bsmollm ?3\b", "SmolLM3"),
    (r"\bsmollm ?2\b", "SmolLM2"),
    (r"\bsmollm\b", "SmolLM"),
    (r"\btinyllama\b", "TinyLlama"),
    (r"\bqwen ?3\b", "Qwen3"),
    (r"\bqwen ?2\.5\b", "Qwen2.5"),
    (r"\bqwen ?2\b", "Qwen2"),
    (r"\bqwen\b", "Qwen"),
    (r"\bllama ?3\.3\b", "Llama 3.3"),
    (r"\bllama ?3\.2\b", "Llama 3.2"),
    (r"\bllama ?3\.1\b", "Llama 3.1"),
    (r"\b(meta )?llama ?3\b", "Llama 3"),
    (r"\bllama ?2\b", "Llama 2"),
    (r"\bcode ?llama\b", "Code Llama"),
    (r"\bmixtral\b", "Mixtral"),
    (r"\bmistral\b", "Mistral"),
    (r"\bfalcon ?3\b", "Falcon3"),
    (r"\bfalcon\b", "Falcon"),
    (r"\bmpt\b", "MPT"),
    (r"\byi\b", "Yi"),
    (r"\bgemma ?3\b", "Gemma 3"),
    (r"\bgemma ?2\b", "Gemma 2"),
    (r"\bgemma\b", "Gemma"),
    (r"\bphi ?4\b", "Phi-4"),
    (r"\bphi ?3(\.5)?\b", "Phi-3"),
    (r"\bphi ?2\b", "Phi-2"),
    (r"\bdeepseek\b", "DeepSeek"),
    (r"\bstarcoder ?2\b", "StarCoder2"),
    (r"\bgpt ?2\b", "GPT-2"),
]

# Fallback when no name rule matches: general.architecture -> family. `llama` maps to a neutral
# label on purpose: an unnamed llama-architecture file is not necessarily a Meta Llama.
ARCHITECTURE_FAMILIES: dict[str, str] = {
    "llama": "Llama-architecture",
    "qwen2": "Qwen2",
    "qwen3": "Qwen3",
    "qwen2moe": "Qwen2 MoE",
    "mistral": "Mistral",
    "falcon": "Falcon",
    "mpt": "MPT",
    "gemma": "Gemma",
    "gemma2": "Gemma 2",
    "gemma3": "Gemma 3",
    "phi2": "Phi-2",
    "phi3": "Phi-3",
    "gpt2": "GPT-2",
    "starcoder2": "StarCoder2",
    "deepseek2": "DeepSeek",
}


def add_family_rule(pattern: str, family: str, *, first: bool = True) -> None:
    """Teach the matcher a family (`first` puts it ahead of the built-in rules)."""
    rule = (pattern, family)
    if rule in FAMILY_RULES:
        return
    if first:
        FAMILY_RULES.insert(0, rule)
    else:
        FAMILY_RULES.append(rule)


def normalise(text: str) -> str:
    return re.sub(r"[\s_\-]+", " ", text.lower()).strip()


def family_for(
    architecture: str, names: Iterable[str | None], fallback_names: Iterable[str | None] = ()
) -> str:
    """The family for a model whose header says `architecture` and carries these names.

    `fallback_names` (e.g. the file name) are only consulted when no header name matches a rule:
    the header is what the model's publisher wrote, a file name is whatever the user chose.
    """
    for group in (names, fallback_names):
        candidates = [normalise(n) for n in group if n]
        for pattern, family in FAMILY_RULES:
            if any(re.search(pattern, text) for text in candidates):
                return family
    return ARCHITECTURE_FAMILIES.get(architecture, architecture or "unknown")
