"""What duel knows about a model without loading its weights."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


def format_bytes(n: int | None) -> str:
    """A byte count as every screen and command shows it, in binary units (KiB, MiB, GiB); "?" for None.

    Binary everywhere because the figures are read against each other: the models table puts a file's
    size beside its memory estimate and the free memory (which the OS and llama.cpp report in binary
    units), and a download's size must be the number the models table then shows for that file.
    """
    if n is None:
        return "?"
    if n >= 1024**3:
        return f"{n / 1024**3:.2f} GiB"
    if n >= 1024**2:
        return f"{n / 1024**2:.0f} MiB"
    return f"{n / 1024:.0f} KiB" if n >= 1024 else f"{n} B"


@dataclass(frozen=True)
class ModelInfo:
    """A model as shown to users: read from the GGUF header (or from a remote server)."""

    name: str  # the duel name: registry/bundled name, or the file stem for a bare path
    path: Path | None  # local GGUF file; None for remote models
    architecture: str  # general.architecture, e.g. "qwen2", "llama"
    family: str  # human family, e.g. "Qwen2.5", "SmolLM2", "Mistral"
    display_name: str = ""  # general.name from the header
    parameters: int | None = None  # parameter count (from the header or counted from tensors)
    quantization: str = ""  # e.g. "Q4_K_M"
    context_length: int | None = None  # trained context
    file_size: int = 0  # bytes on disk; 0 when unknown (a remote model)
    chat_template: str | None = None  # tokenizer.chat_template text, if present
    license: str | None = None
    source: str = "path"  # "bundled", "registry", "path", "hf", "remote"
    sha256: str | None = None  # known hash of the file, if computed or stored
    status: str = ""  # what still has to happen before use, e.g. "not assembled yet" (bundled Qwen)
    metadata: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def has_chat_template(self) -> bool:
        return bool(self.chat_template)

    def parameters_label(self) -> str:
        """Parameters as people write them: 494M, 1.5B."""
        if not self.parameters:
            return "?"
        n = self.parameters
        if n >= 1e9:
            return f"{n / 1e9:.1f}B"
        if n >= 1e6:
            return f"{n / 1e6:.0f}M"
        if n >= 1e3:
            return f"{n / 1e3:.0f}K"
        return str(n)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("metadata")
        data["path"] = str(self.path) if self.path else None
        data["has_chat_template"] = self.has_chat_template
        return data
