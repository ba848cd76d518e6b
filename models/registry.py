"""User-registered models: a name for a GGUF file, kept in the config file.

The registry stores names and absolute paths only; it never copies, moves or deletes model files.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from models.bundled import BUNDLED
from models.config import RegisteredModel, edit_config, load_config
from models.describe import describe
from models.errors import DuelError, ModelNotFoundError
from models.info import ModelInfo

# Names must not look like paths (".gguf", "/") or like prefixed references ("hf:", "scripted:"),
# or `resolve` would read them as something else.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$")


def validate_name(name: str) -> str:
    if not _NAME.match(name) or name.lower().endswith(".gguf"):
        raise DuelError(
            f"invalid model name {name!r}: use up to 64 letters, digits, '.', '_', '-' or '+', "
            "starting with a letter or digit, not ending in .gguf"
        )
    if name in BUNDLED:
        raise DuelError(f"{name!r} is the name of a bundled model; choose another name")
    return name


def registered() -> dict[str, RegisteredModel]:
    """Registered models by name, in the order they were added."""
    return dict(load_config().models)


def get(name: str) -> RegisteredModel | None:
    return load_config().models.get(name)


def add(path: Path | str, name: str) -> ModelInfo:
    """Register the GGUF at `path` as `name` after checking it is a readable GGUF file."""
    validate_name(name)
    file = Path(path).expanduser().resolve()
    info = describe(file, name=name, source="registry")  # raises BadModelFileError for a bad file
    with edit_config() as config:
        existing = config.models.get(name)
        if existing is not None:
            raise DuelError(
                f"a model named {name!r} is already registered ({existing.path}); "
                f"remove it first with: duel models remove {name}"
            )
        added = datetime.now(UTC).isoformat(timespec="seconds")
        config.models[name] = RegisteredModel(path=str(file), added=added)
    return info


def remove(name: str) -> RegisteredModel:
    """Forget `name` (the file itself is left where it is) and return what it pointed to."""
    if name in BUNDLED:
        raise DuelError(f"{name!r} is a bundled model and cannot be removed")
    with edit_config() as config:
        entry = config.models.pop(name, None)
        if entry is None:
            known = ", ".join(config.models) or "none"
            raise ModelNotFoundError(f"no registered model named {name!r} (registered: {known})")
    return entry
