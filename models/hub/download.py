"""Making a hub model available on disk: find it locally, or download it resumably and verify it.

Where files go: `models_dir()/hf/OWNER/REPO/PATH` (under DUEL_HOME when set), one plain file per
GGUF file, with the repo's own file names, so split models (`*-00001-of-00003.gguf`) keep their
parts side by side and llama.cpp finds them from the first part. Not the huggingface_hub cache:
its downloads (2.x) delete a partial file when interrupted, and a 5 GB model must survive a
Ctrl-C. A download writes `FILE.part` and continues it on the next run with an HTTP Range request
(see models/hub/transfer.py); the part is renamed into place only after its size and sha256 match
what the hub says. A file that the huggingface_hub cache already holds (downloaded by another tool)
is used in place instead.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from models.hub.endpoint import hub_cache_dir, hub_endpoint
from models.hub.errors import DiskSpaceError, HubError, HubNotFoundError, check_reachable, hub_errors
from models.hub.refs import HubFile, HubRef, check_relative, choose_model, parse_reference, split_part_names
from models.hub.search import list_gguf_files
from models.hub.transfer import stream_to_file
from models.info import ModelInfo, format_bytes
from models.paths import models_dir
from models.progress import ProgressFn

# Headroom kept free on the disk beyond the file itself (filesystem metadata, other writers).
DISK_MARGIN_BYTES = 64 * 2**20
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def download_root() -> Path:
    return models_dir() / "hf"


def local_path(repo_id: str, filename: str) -> Path:
    """Where `filename` of `repo_id` lives once downloaded."""
    check_relative(filename, f"{repo_id}/{filename}")
    return download_root().joinpath(*repo_id.split("/"), *PurePosixPath(filename).parts)


def _cached_elsewhere(repo_id: str, filename: str, revision: str) -> Path | None:
    """The file in the huggingface_hub cache, if another tool downloaded it already."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, filename, cache_dir=str(hub_cache_dir()), revision=revision)
    return Path(found) if isinstance(found, str) else None


def find_local(ref: HubRef) -> Path | None:
    """The first part of the model `ref` names if it is fully on disk (no network)."""
    if ref.filename:
        parts = split_part_names(ref.filename)
        paths = [local_path(ref.repo_id, p) for p in parts]
        if all(p.is_file() for p in paths):
            return paths[0]
        cached = [_cached_elsewhere(ref.repo_id, p, ref.revision) for p in parts]
        if all(c is not None for c in cached):
            # llama.cpp finds split parts by name next to the first one; the hub cache keeps them
            # as same-named links in one snapshot folder, so that works too.
            return cached[0]
        return None
    folder = download_root().joinpath(*ref.repo_id.split("/"))
    if not folder.is_dir():
        return None
    files = [HubFile(str(p.relative_to(folder).as_posix())) for p in folder.rglob("*.gguf")]
    try:
        choice = choose_model(ref.repo_id, files, ref.quant)
    except HubError:
        return None
    return local_path(ref.repo_id, choice.first.path)


@dataclass
class PullResult:
    ref: HubRef  # always with the filename of the first part
    path: Path  # the first part on disk
    files: list[Path] = field(default_factory=list)
    downloaded_bytes: int = 0  # 0 when everything was on disk already


def pull(ref: HubRef | str, *, quant: str | None = None, progress: ProgressFn | None = None) -> PullResult:
    """Make the model `ref` names available on disk, downloading what is missing."""
    if isinstance(ref, str):
        ref = parse_reference(ref, quant)
    elif quant:
        ref = HubRef(ref.repo_id, ref.filename, quant.upper(), ref.revision)
    local = find_local(ref)
    if local is not None:
        first = ref.filename or _relative_in_repo(ref.repo_id, local)
        full = HubRef(ref.repo_id, first, ref.quant, ref.revision)
        parts = [local.parent / PurePosixPath(p).name for p in split_part_names(first)]
        return PullResult(full, local, parts, 0)
    check_reachable()
    if ref.filename is None:
        choice = choose_model(ref.repo_id, list_gguf_files(ref.repo_id, ref.revision), ref.quant)
        names = [f.path for f in choice.files]
    else:
        names = split_part_names(ref.filename)
    metas = [_file_metadata(ref, name) for name in names]
    targets = [local_path(ref.repo_id, name) for name in names]
    _check_disk_space(ref, metas, targets)
    total = sum(m.size or 0 for m in metas)
    done_before = 0
    downloaded = 0
    for name, meta, target in zip(names, metas, targets, strict=True):
        downloaded += _download_file(ref, name, meta, target, progress, done_before, total)
        done_before += meta.size or 0
    full = HubRef(ref.repo_id, names[0], ref.quant, ref.revision)
    return PullResult(full, targets[0], targets, downloaded)


def _relative_in_repo(repo_id: str, path: Path) -> str:
    root = download_root().joinpath(*repo_id.split("/"))
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name  # a file found in the huggingface_hub cache: keep its name


@dataclass(frozen=True)
class _FileMeta:
    url: str  # where to GET it (the hub, or the CDN the hub redirects to)
    size: int | None
    etag: str | None
    same_host: bool


def _file_metadata(ref: HubRef, filename: str) -> _FileMeta:
    """HEAD the file on the hub; a 404 lists the GGUF files that do exist."""
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.errors import RemoteEntryNotFoundError

    endpoint = hub_endpoint()
    url = hf_hub_url(ref.repo_id, filename, revision=ref.revision, endpoint=endpoint)
    what = f"{ref.repo_id}/{filename}"
    with hub_errors(what):
        try:
            meta = get_hf_file_metadata(url, endpoint=endpoint)
        except RemoteEntryNotFoundError:
            meta = None  # answered below, with the list of files that do exist
    if meta is None:
        existing = [f.path for f in list_gguf_files(ref.repo_id, ref.revision)]
        listing = ", ".join(existing[:12]) + (f" (+{len(existing) - 12} more)" if len(existing) > 12 else "")
        raise HubNotFoundError(
            f"{ref.repo_id} has no file {filename!r}; GGUF files there: {listing or 'none'}"
        )
    location = meta.location or url
    return _FileMeta(location, meta.size, meta.etag, urlsplit(location).netloc == urlsplit(url).netloc)


def _part_path(target: Path) -> Path:
    return target.with_name(target.name + ".part")


def _check_disk_space(ref: HubRef, metas: Sequence[_FileMeta], targets: Sequence[Path]) -> None:
    needed = 0
    for meta, target in zip(metas, targets, strict=True):
        if target.is_file() or meta.size is None:
            continue
        part = _part_path(target)
        needed += meta.size - (part.stat().st_size if part.is_file() else 0)
    if needed <= 0:
        return
    probe = targets[0].parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < needed + DISK_MARGIN_BYTES:
        raise DiskSpaceError(
            f"not enough disk space for {ref}: it needs {format_bytes(needed)} and {probe} has "
            f"{format_bytes(free)} free (set DUEL_HOME to a bigger disk, or free some space)"
        )


def _download_file(
    ref: HubRef,
    filename: str,
    meta: _FileMeta,
    target: Path,
    progress: ProgressFn | None,
    offset: int,
    grand_total: int,
) -> int:
    """Download one file to `target` (resuming `target.part`); return the bytes fetched now."""
    from huggingface_hub.utils import build_hf_headers

    if target.is_file():
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    part = _part_path(target)
    etag_file = target.with_name(target.name + ".part.etag")
    # A part left by an earlier run is only continued if it is the same file version.
    if part.exists() and (not etag_file.exists() or etag_file.read_text().strip() != (meta.etag or "")):
        part.unlink()
    etag_file.write_text(meta.etag or "")
    resume = part.stat().st_size if part.exists() else 0
    if meta.size is not None and resume > meta.size:
        part.unlink()
        resume = 0
    headers = build_hf_headers()  # carries the token from HF_TOKEN / the login; never printed
    if not meta.same_host:
        headers.pop("authorization", None)  # a signed CDN URL: the token must not leave the hub
    label = PurePosixPath(filename).name  # short: progress bars share the line with sizes and speed
    with hub_errors(f"{ref.repo_id}/{filename}"), open(part, "r+b" if part.exists() else "w+b") as fh:
        fh.seek(resume)
        fh.truncate()
        stream_to_file(
            meta.url,
            fh,
            resume_from=resume,
            headers=headers,
            expected_size=meta.size,
            label=label,
            progress=progress,
            offset=offset,
            grand_total=grand_total,
        )
    _verify(part, meta, f"{ref.repo_id}/{filename}", label, progress)
    part.replace(target)
    etag_file.unlink(missing_ok=True)
    return (meta.size or target.stat().st_size) - resume


def _verify(part: Path, meta: _FileMeta, what: str, label: str, progress: ProgressFn | None) -> None:
    size = part.stat().st_size
    if meta.size is not None and size != meta.size:
        raise HubError(f"{what}: downloaded {size} bytes, the hub says {meta.size}; run the pull again")
    if not meta.etag or not _SHA256.match(meta.etag):
        return  # small non-LFS files carry a git hash, not a sha256; the size check is what we have
    digest = hashlib.sha256()
    done = 0
    with open(part, "rb") as fh:
        while chunk := fh.read(8 * 2**20):
            digest.update(chunk)
            done += len(chunk)
            if progress is not None:
                progress(done, size, f"verify {label}")
    if digest.hexdigest() != meta.etag:
        part.unlink()
        raise HubError(
            f"{what}: sha256 of the download does not match the hub's; deleted it, run the pull again"
        )


def resolve_hf_reference(ref: str, progress: ProgressFn | None = None) -> ModelInfo:
    """Download (if needed) and describe the model an `hf:` reference names."""
    from models.describe import describe

    result = pull(ref, progress=progress)
    # The family comes from describe() like for any file (models.families); the name is the full
    # reference, so it can be used again as is.
    return describe(result.path, name=str(result.ref), source="hf")

