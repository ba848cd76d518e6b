"""Model references -> local GGUF files with a description.

A reference is, in this order:
- `hf:REPO[/FILE]` - a Hugging Face hub model (downloaded by models.hub);
- a path: anything ending in `.gguf` or containing a path separator;
- a bundled name (`qwen2.5-coder-0.5b`, `smollm2-135m`);
- a registered name (`duel models add PATH --name NAME`).
Anything else is an unknown name, reported with the list of known ones.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import replace
from pathlib import Path

from models import bundled, registry
from models.describe import describe, info_from_header
from models.errors import BadModelFileError, DuelError, ModelNotFoundError
from models.gguf_reader import read_header
from models.info import ModelInfo
from models.progress import ProgressFn

DEFAULT_PAIR = ("qwen2.5-coder-0.5b", "smollm2-135m")

NOT_ASSEMBLED = "not assembled yet"


def is_path_reference(ref: str) -> bool:
    separators = {os.sep, "/"} | ({os.altsep} if os.altsep else set())
    return ref.lower().endswith(".gguf") or any(sep in ref for sep in separators)


def resolve(ref: str, progress: ProgressFn | None = None) -> ModelInfo:
    """Find the model `ref` names and describe it; a bundled model is made ready (assembled, verified)."""
    ref = ref.strip()
    if not ref:
        raise ModelNotFoundError(f"empty model reference; known models: {', '.join(known_names())}")
    if ref.startswith("hf:"):
        return _resolve_hf(ref, progress)
    if is_path_reference(ref):
        path = Path(ref).expanduser()
        return describe(path.resolve() if path.exists() else path, name=path.stem, source="path")
    if ref in bundled.BUNDLED:
        model = bundled.BUNDLED[ref]
        path = bundled.ensure_bundled(model, progress)
        return _with_known_license(model, describe(path, name=ref, source="bundled", sha256=model.sha256))
    entry = registry.get(ref)
    if entry is not None:
        if not Path(entry.path).exists():
            raise BadModelFileError(
                f"registered model {ref!r} points to {entry.path}, which no longer exists "
                f"(forget it with: duel models remove {ref})"
            )
        return describe(entry.path, name=ref, source="registry")
    raise ModelNotFoundError(
        f"unknown model {ref!r}; known models: {', '.join(known_names())} (or give a path to a .gguf file)"
    )


def _resolve_hf(ref: str, progress: ProgressFn | None) -> ModelInfo:
    try:
        hub = importlib.import_module("models.hub")
    except ModuleNotFoundError as exc:
        if exc.name != "models.hub":  # hub exists but something it needs does not: a real bug
            raise
        raise DuelError("hf: references need the models.hub package") from exc
    return hub.resolve_hf_reference(ref, progress=progress)


def known_names() -> list[str]:
    return [*bundled.BUNDLED, *registry.registered()]


def list_models() -> list[ModelInfo]:
    """Bundled then registered models, described without assembling or hashing anything."""
    models = [_list_bundled(model) for model in bundled.BUNDLED.values()]
    for name, entry in registry.registered().items():
        try:
            models.append(describe(entry.path, name=name, source="registry"))
        except BadModelFileError as exc:
            # One broken entry must not hide the rest of the list: show it with what is wrong.
            models.append(
                ModelInfo(name=name, path=Path(entry.path), architecture="?", family="?", source="registry",
                          status=str(exc))
            )
    return models


def _with_known_license(model: bundled.BundledModel, info: ModelInfo) -> ModelInfo:
    # The Qwen header carries no general.license; the upstream licence is known (see MODELS.md).
    return info if info.license else replace(info, license=model.license or None)


def _list_bundled(model: bundled.BundledModel) -> ModelInfo:
    return _with_known_license(model, _describe_bundled_cheaply(model))


def _describe_bundled_cheaply(model: bundled.BundledModel) -> ModelInfo:
    target = bundled.target_path(model)
    if target is not None and target.exists():
        verified = bundled.is_verified(model, target)
        # An in-place file is hashed in a fraction of a second on first use; only an assembled file
        # that lost its record is worth flagging (its first use re-hashes 469 MiB).
        status = "" if verified or not model.assembled else "not verified yet"
        try:
            return describe(target, name=model.name, source="bundled", status=status,
                            sha256=model.sha256 if verified else None)
        except BadModelFileError as exc:
            return _unavailable(model, target, str(exc))
    if not model.assembled:
        return _unavailable(model, None, f"not installed: {bundled.INSTALL_HINT}")
    # Not assembled yet: the header (metadata + tensor table) lies entirely inside part 1.
    first = bundled.locate_installed(model.parts[0].distribution, model.parts[0].path)
    if first is None:
        return _unavailable(model, target, f"not installed: {bundled.INSTALL_HINT}")
    try:
        header = read_header(first, require_complete=False)
    except BadModelFileError as exc:
        return _unavailable(model, target, str(exc))
    return info_from_header(header, name=model.name, source="bundled", sha256=None, file_size=model.size,
                            status=NOT_ASSEMBLED, path=target)


def _unavailable(model: bundled.BundledModel, path: Path | None, status: str) -> ModelInfo:
    return ModelInfo(name=model.name, path=path, architecture=model.architecture or "?", family="?",
                     file_size=model.size, license=model.license or None, source="bundled", status=status)

