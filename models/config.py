"""The user's config file (config.toml in the config dir): registered models and remembered settings.

One pydantic model describes the whole file, so a hand-edited mistake is reported as one line that
names the file and the field. Unknown sections and keys are kept (extra="allow") and written back, so
an older duel never erases settings a newer one added. Writes are atomic (temp file + rename).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.errors import DuelError
from models.paths import config_file, ensure
from models.weights_choice import WeightsChoice


class RegisteredModel(BaseModel):
    """A GGUF file the user named with `duel models add`."""

    model_config = ConfigDict(extra="allow")

    path: str  # absolute
    added: str | None = None  # ISO-8601 time of registration


class ChatSettings(BaseModel):
    """What the chat screen remembers between runs."""

    model_config = ConfigDict(extra="allow")

    left: str | None = None  # model reference of the left pane
    right: str | None = None


class EngineSettings(BaseModel):
    """How local models are loaded (a command's --weights flag wins over this)."""

    model_config = ConfigDict(extra="allow")

    weights: WeightsChoice = "auto"


class ArenaSettings(BaseModel):
    """What the arena remembers between runs: the last pool it battled with."""

    model_config = ConfigDict(extra="allow")

    pool: list[str] = Field(default_factory=list)


class DuelConfig(BaseModel):
    model_config = ConfigDict(extra="allow")

    models: dict[str, RegisteredModel] = Field(default_factory=dict)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    engine: EngineSettings = Field(default_factory=EngineSettings)
    arena: ArenaSettings = Field(default_factory=ArenaSettings)


def load_config(path: Path | None = None) -> DuelConfig:
    """The config in `path` (default: the user's config file); defaults when the file does not exist."""
    path = path or config_file()
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return DuelConfig()
    except OSError as exc:
        raise DuelError(f"{path}: cannot read config: {exc.strerror or exc}") from exc
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DuelError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return DuelConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DuelError(f"{path}: invalid setting {where}: {first['msg']}") from exc


def save_config(config: DuelConfig, path: Path | None = None) -> None:
    """Write `config` atomically: readers see the old file or the new one, never half of one."""
    path = path or config_file()
    ensure(path.parent)
    # TOML has no null: unset optional settings are simply left out.
    text = tomli_w.dumps(config.model_dump(mode="json", exclude_none=True))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise DuelError(f"{path}: cannot write config: {exc.strerror or exc}") from exc


@contextmanager
def edit_config(path: Path | None = None) -> Iterator[DuelConfig]:
    """Load, let the caller change, save (only if the block finished without an exception)."""
    config = load_config(path)
    yield config
    save_config(config, path)
