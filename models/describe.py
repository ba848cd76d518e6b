"""Turn a GGUF header into a `ModelInfo`: what users see about a model before it is loaded."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from gguf import LlamaFileType

from models.families import family_for
from models.gguf_reader import GGUFHeader, TensorEntry, read_header
from models.info import ModelInfo


def describe(
    path: Path | str,
    *,
    name: str | None = None,
    source: str = "path",
    sha256: str | None = None,
    require_complete: bool = True,
    file_size: int | None = None,
    status: str = "",
) -> ModelInfo:
    """Describe the GGUF file at `path` from its header (no weights are read).

    `name` defaults to the file stem. `require_complete=False` with `file_size` describes a file of
    which only the beginning exists yet (the first part of the bundled Qwen). Raises
    BadModelFileError for a missing, non-GGUF or truncated file.
    """
    path = Path(path)
    header = read_header(path, require_complete=require_complete)
    return info_from_header(
        header,
        name=name or path.stem,
        source=source,
        sha256=sha256,
        file_size=header.file_size if file_size is None else file_size,
        status=status,
    )


def info_from_header(
    header: GGUFHeader,
    *,
    name: str,
    source: str,
    sha256: str | None,
    file_size: int,
    status: str = "",
    path: Path | None = None,
) -> ModelInfo:
    md = header.metadata
    arch = _text(md.get("general.architecture")) or "unknown"
    display_name = _text(md.get("general.name")) or ""
    template = md.get("tokenizer.chat_template")
    context = md.get(f"{arch}.context_length")
    return ModelInfo(
        name=name,
        path=path or header.path,
        architecture=arch,
        family=family_for(
            arch,
            [display_name, _text(md.get("general.basename")), _text(md.get("general.finetune"))],
            fallback_names=[(path or header.path).stem, name],
        ),
        display_name=display_name,
        parameters=parameter_count(md, header.tensors),
        quantization=quantization_name(md, header.tensors),
        context_length=int(context) if isinstance(context, int) else None,
        file_size=file_size,
        chat_template=template if isinstance(template, str) and template.strip() else None,
        license=_text(md.get("general.license")),
        source=source,
        sha256=sha256,
        status=status,
        metadata=md,
    )


def parameter_count(metadata: dict[str, Any], tensors: list[TensorEntry]) -> int | None:
    """`general.parameter_count` when the converter wrote it, else the elements of every tensor.

    The tensor sum counts what the file holds: a model with untied output embeddings stored twice
    (the bundled Qwen: 494M published, 630M in the file) shows the larger, honest number.
    """
    declared = metadata.get("general.parameter_count")
    if isinstance(declared, int) and declared > 0:
        return declared
    total = sum(t.n_elements for t in tensors)
    return total or None


def quantization_name(metadata: dict[str, Any], tensors: list[TensorEntry]) -> str:
    """The file type the quantizer recorded ("Q4_K_M"), else the type holding most weight bytes."""
    file_type = metadata.get("general.file_type")
    if isinstance(file_type, int):
        try:
            label = LlamaFileType(file_type).name
        except ValueError:
            label = ""
        if label and label != "GUESSED":
            return label.removeprefix("MOSTLY_").removeprefix("ALL_")
    # No (known) file type: name the dominant tensor type. 1-D tensors (norms, biases) are F32 in
    # every file and say nothing about the quantization, so they only count when nothing else exists.
    weights = [t for t in tensors if len(t.shape) >= 2] or tensors
    by_bytes: Counter[str] = Counter()
    for tensor in weights:
        by_bytes[tensor.type_name] += tensor.nbytes or tensor.n_elements
    return by_bytes.most_common(1)[0][0] if by_bytes else ""


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None
