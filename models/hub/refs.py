"""Hub references and GGUF file names: what `hf:OWNER/REPO...` means, which file is which quantization.

References: `hf:OWNER/REPO/PATH.gguf` names one file; `hf:OWNER/REPO:Q4_K_M` (or `--quant`) picks
the file of that quantization; `hf:OWNER/REPO` picks Q4_K_M when the repo has it. `@REVISION` may
follow the repo (`hf:OWNER/REPO@v1.0/FILE.gguf`). No network here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from models.hub.errors import HubError, HubNotFoundError

HF_PREFIX = "hf:"
DEFAULT_QUANT = "Q4_K_M"

_SPLIT = re.compile(r"^(?P<base>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)
# Quantization names as they appear in GGUF file names: Q4_K_M, q8_0, IQ3_XXS, Q4_0_4_4, BF16, ...
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])(?P<q>(?:I?Q[1-8](?:_[A-Z0-9]{1,3}){0,3})|BF16|F16|FP16|F32|MXFP4|TQ[12]_0)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")


@dataclass(frozen=True)
class HubRef:
    repo_id: str
    filename: str | None = None  # a path inside the repo
    quant: str | None = None
    revision: str = "main"

    def __str__(self) -> str:
        repo = self.repo_id if self.revision == "main" else f"{self.repo_id}@{self.revision}"
        if self.filename:
            return f"{HF_PREFIX}{repo}/{self.filename}"
        return f"{HF_PREFIX}{repo}" + (f":{self.quant}" if self.quant else "")


def parse_reference(ref: str, quant: str | None = None) -> HubRef:
    """Parse `hf:OWNER/REPO[@REV][/FILE.gguf | :QUANT]` (the `hf:` prefix is optional)."""
    body = ref.strip()
    if body.lower().startswith(HF_PREFIX):
        body = body[len(HF_PREFIX) :]
    body = body.strip("/")
    parts = body.split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise HubError(
            f"bad hub reference {ref!r}: expected hf:OWNER/REPO[/FILE.gguf] or hf:OWNER/REPO:QUANT"
        )
    owner, repo, rest = parts[0], parts[1], parts[2:]
    revision = "main"
    if "@" in repo:
        repo, _, revision = repo.partition("@")
    if not rest and ":" in repo:
        repo, _, ref_quant = repo.partition(":")
        quant = quant or ref_quant
    repo_id = f"{owner}/{repo}"
    if not _REPO_ID.match(repo_id) or "--" in repo_id or ".." in repo_id:
        raise HubError(f"bad hub repo id {repo_id!r} in {ref!r}")
    filename = "/".join(rest) or None
    if filename is not None:
        check_relative(filename, ref)
        if not filename.lower().endswith(".gguf"):
            raise HubError(f"{ref!r}: duel loads .gguf files; {filename!r} is not one")
    return HubRef(repo_id, filename, quant.upper() if quant else None, revision or "main")


def check_relative(filename: str, ref: str) -> None:
    path = PurePosixPath(filename)
    if path.is_absolute() or ".." in path.parts or "\\" in filename:
        raise HubError(f"bad file name {filename!r} in {ref!r}")


def quantization_from_filename(filename: str) -> str | None:
    """`Llama-3.2-1B-Instruct-Q4_K_M.gguf` -> "Q4_K_M" (None when the name carries no known quant)."""
    stem = PurePosixPath(filename).name
    split = _SPLIT.match(stem)
    stem = split["base"] if split else re.sub(r"\.gguf$", "", stem, flags=re.IGNORECASE)
    matches = list(_QUANT.finditer(stem))
    if not matches:
        return None
    quant = matches[-1]["q"].upper()  # the last one: "Qwen2-7B-Q4_K_M" has no earlier quant, but be safe
    return "F16" if quant == "FP16" else quant


@dataclass(frozen=True)
class SplitInfo:
    base: str
    index: int
    total: int


def split_info(filename: str) -> SplitInfo | None:
    """`x-00001-of-00003.gguf` -> SplitInfo("x", 1, 3); None for a single-file model."""
    match = _SPLIT.match(PurePosixPath(filename).name)
    if not match:
        return None
    return SplitInfo(match["base"], int(match["index"]), int(match["total"]))


def split_part_names(filename: str) -> list[str]:
    """Every part of the split model `filename` belongs to, first part first (itself if not split)."""
    info = split_info(filename)
    if info is None:
        return [filename]
    folder = PurePosixPath(filename).parent
    names = [f"{info.base}-{i:05d}-of-{info.total:05d}.gguf" for i in range(1, info.total + 1)]
    return [str(folder / n) if str(folder) != "." else n for n in names]


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int | None = None
    sha256: str | None = None

    @property
    def quant(self) -> str | None:
        return quantization_from_filename(self.path)

    @property
    def split(self) -> SplitInfo | None:
        return split_info(self.path)

    @property
    def is_model(self) -> bool:
        """A loadable GGUF model file (multimodal projectors are GGUF files too, but not models)."""
        name = PurePosixPath(self.path).name.lower()
        return name.endswith(".gguf") and not name.startswith("mmproj") and "mmproj" not in name


@dataclass(frozen=True)
class QuantChoice:
    """One downloadable model in a repo: a quantization and its file(s)."""

    quant: str | None
    files: tuple[HubFile, ...]  # all parts, first part first

    @property
    def size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s for s in sizes if s is not None)

    @property
    def first(self) -> HubFile:
        return self.files[0]


def group_models(files: Sequence[HubFile]) -> list[QuantChoice]:
    """Group a repo's GGUF files into models (split parts together), smallest first."""
    groups: dict[str, list[HubFile]] = {}
    for f in files:
        if not f.is_model:
            continue
        split = f.split
        key = split_part_names(f.path)[0] if split else f.path
        groups.setdefault(key, []).append(f)
    choices = [
        QuantChoice(quantization_from_filename(key), tuple(sorted(parts, key=lambda f: f.path)))
        for key, parts in groups.items()
    ]
    return sorted(choices, key=lambda c: (c.size is None, c.size or 0, c.first.path))


def choose_model(repo_id: str, files: Sequence[HubFile], quant: str | None) -> QuantChoice:
    """The model of quantization `quant` (default Q4_K_M, or the only one) among a repo's files."""
    choices = group_models(files)
    if not choices:
        raise HubNotFoundError(f"{repo_id} has no GGUF model files")
    available = sorted({c.quant or "?" for c in choices})
    if quant is None:
        if len(choices) == 1:
            return choices[0]
        quant = DEFAULT_QUANT
        if quant not in available:
            raise HubError(
                f"{repo_id} has several quantizations ({', '.join(available)}); choose one with --quant"
            )
    wanted = [c for c in choices if (c.quant or "").upper() == quant.upper()]
    if not wanted:
        raise HubNotFoundError(f"{repo_id} has no {quant} file; quantizations: {', '.join(available)}")
    return wanted[0]


def default_registry_name(ref: HubRef) -> str:
    """A registry name for a pulled file: its stem, lower case, split suffix dropped."""
    assert ref.filename is not None
    split = split_info(ref.filename)
    stem = split.base if split else PurePosixPath(ref.filename).name[: -len(".gguf")]
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", stem.lower()).strip("-._+")
    return name[:64] or "hub-model"

