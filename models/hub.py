"""GGUF models from the Hugging Face hub: search, pick a quantization, download, describe.

References: `hf:OWNER/REPO/PATH.gguf` names one file; `hf:OWNER/REPO:Q4_K_M` (or `--quant`) picks
the file of that quantization; `hf:OWNER/REPO` picks Q4_K_M when the repo has it. `@REVISION` may
follow the repo (`hf:OWNER/REPO@v1.0/FILE.gguf`).

Where files go: `models_dir()/hf/OWNER/REPO/PATH` (under DUEL_HOME when set), one plain file per
GGUF file, with the repo's own file names, so split models (`*-00001-of-00003.gguf`) keep their
parts side by side and llama.cpp finds them from the first part. Not the huggingface_hub cache:
its downloads (2.x) delete a partial file when interrupted, and a 5 GB model must survive a
Ctrl-C. A download writes `FILE.part` and continues it on the next run with an HTTP Range
request (huggingface_hub's `http_get` does the streaming, and also resumes a connection that
drops in the middle); the part is renamed into place only after its size and sha256 match what
the hub says. A file that the huggingface_hub cache already holds (downloaded by another tool) is
used in place instead.

The hub endpoint is read from HF_ENDPOINT on every call (huggingface_hub reads it once, at import)
and passed explicitly to every huggingface_hub call. The token comes from huggingface_hub's usual
places (HF_TOKEN, or `hf auth login`); duel never prints, logs or stores it.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import socket
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from models.errors import DuelError, ModelNotFoundError
from models.info import ModelInfo, format_bytes
from models.paths import models_dir

ProgressFn = Callable[[int, int, str], None]

HF_PREFIX = "hf:"
DEFAULT_QUANT = "Q4_K_M"
DEFAULT_HUB = "https://huggingface.co"
# Headroom kept free on the disk beyond the file itself (filesystem metadata, other writers).
DISK_MARGIN_BYTES = 64 * 2**20

_SPLIT = re.compile(r"^(?P<base>.+)-(?P<index>\d{5})-of-(?P<total>\d{5})\.gguf$", re.IGNORECASE)
# Quantization names as they appear in GGUF file names: Q4_K_M, q8_0, IQ3_XXS, Q4_0_4_4, BF16, ...
_QUANT = re.compile(
    r"(?<![A-Za-z0-9])(?P<q>(?:I?Q[1-8](?:_[A-Z0-9]{1,3}){0,3})|BF16|F16|FP16|F32|MXFP4|TQ[12]_0)(?![A-Za-z0-9])",
    re.IGNORECASE,
)
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


class HubError(DuelError):
    """Something about the hub the user must fix (access, network, names, disk)."""


class HubAccessError(HubError):
    """A gated or private repo and no token (or a token without access)."""


class HubOfflineError(HubError):
    """The hub cannot be reached."""


class HubNotFoundError(HubError, ModelNotFoundError):
    """No such repo, revision, file or quantization."""


class DiskSpaceError(HubError):
    """Not enough free disk space for the download."""


# -- references and file names ------------------------------------------------------------------


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
        _check_relative(filename, ref)
        if not filename.lower().endswith(".gguf"):
            raise HubError(f"{ref!r}: duel loads .gguf files; {filename!r} is not one")
    return HubRef(repo_id, filename, quant.upper() if quant else None, revision or "main")


def _check_relative(filename: str, ref: str) -> None:
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


# -- endpoint, token, errors --------------------------------------------------------------------


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB).rstrip("/")


def hub_cache_dir() -> Path:
    """The huggingface_hub cache as the environment names it now (not as it was at import)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _have_token() -> bool:
    from huggingface_hub import get_token

    return bool(get_token())


def _api() -> Any:
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint())


def _offline_mode() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in {"1", "ON", "YES", "TRUE"}


def check_reachable(timeout_s: float = 5.0) -> None:
    """Fail fast with HubOfflineError when nothing answers at the hub's address.

    huggingface_hub retries a refused connection for about 20 s on some calls (listing, paging);
    one TCP connect tells a user who is offline the same thing at once.
    """
    endpoint = hub_endpoint()
    if _offline_mode():
        raise HubOfflineError("offline mode is on (HF_HUB_OFFLINE=1): the hub is not contacted")
    if any(os.environ.get(v) for v in _PROXY_VARS):
        return  # behind a proxy a direct connect proves nothing; let the real request tell
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise HubOfflineError(
            f"cannot reach the Hugging Face hub at {endpoint} ({reason}); are you offline?"
        ) from exc


@contextmanager
def _hub_errors(what: str) -> Iterator[None]:
    """Turn huggingface_hub/httpx errors about `what` into one-line HubErrors (never with the token)."""
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = hub_endpoint()
    try:
        yield
    except GatedRepoError:
        page = f"{endpoint}/{what.split('/')[0]}/{what.split('/')[1]}" if what.count("/") >= 1 else endpoint
        if _have_token():
            raise HubAccessError(
                f"{what}: gated repo and your HF_TOKEN has no access to it; request access at {page}"
            ) from None
        raise HubAccessError(
            f"{what}: gated repo; accept its licence at {page}, then set HF_TOKEN to a read token"
        ) from None
    except RepositoryNotFoundError:
        hint = "" if _have_token() else " (if it is private, set HF_TOKEN)"
        raise HubNotFoundError(f"{what}: no such repo on {endpoint}{hint}") from None
    except RevisionNotFoundError:
        raise HubNotFoundError(f"{what}: no such revision on {endpoint}") from None
    except RemoteEntryNotFoundError:
        raise HubNotFoundError(f"{what}: no such file on {endpoint}") from None
    except OfflineModeIsEnabled:
        raise HubOfflineError("offline mode is on (HF_HUB_OFFLINE=1): the hub is not contacted") from None
    except httpx2.ConnectError as exc:
        raise HubOfflineError(
            f"cannot reach the Hugging Face hub at {endpoint} ({exc}); are you offline?"
        ) from None
    except httpx2.TimeoutException:
        raise HubOfflineError(f"the Hugging Face hub at {endpoint} did not answer in time") from None
    except httpx2.TransportError as exc:
        raise HubOfflineError(f"connection to {endpoint} failed: {type(exc).__name__}: {exc}") from None
    except HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        if status in (401, 403):
            raise HubAccessError(
                f"{what}: access denied by the hub (HTTP {status}); check HF_TOKEN"
            ) from None
        raise HubError(f"{what}: the hub answered HTTP {status}") from None
    except OSError as exc:  # a short download, a full disk: one line, the reason kept
        reason = " ".join(str(exc).split())[:300]
        raise HubError(f"{what}: download failed: {reason}") from None


# -- listing and searching ----------------------------------------------------------------------


def list_gguf_files(repo_id: str, revision: str = "main") -> list[HubFile]:
    """The GGUF model files of a repo with sizes and sha256 (one request: model_info with blobs)."""
    with _hub_errors(repo_id):
        info = _api().model_info(
            repo_id, revision=None if revision == "main" else revision, files_metadata=True
        )
    files = []
    for sibling in info.siblings or []:
        lfs = getattr(sibling, "lfs", None)
        hub_file = HubFile(sibling.rfilename, getattr(sibling, "size", None), lfs.sha256 if lfs else None)
        if hub_file.is_model:
            files.append(hub_file)
    return sorted(files, key=lambda f: f.path)


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


@dataclass(frozen=True)
class SearchHit:
    repo_id: str
    downloads: int = 0
    likes: int = 0
    gated: bool = False
    files: tuple[HubFile, ...] = ()
    sizes_known: bool = False

    @property
    def models(self) -> list[QuantChoice]:
        return group_models(self.files)

    @property
    def quants(self) -> list[str]:
        return sorted({c.quant for c in self.models if c.quant})


def search(words: Sequence[str], limit: int = 10, with_sizes: bool = True) -> list[SearchHit]:
    """GGUF repos on the hub matching every word of the query, most downloaded first."""
    check_reachable()
    terms = [w for w in (" ".join(words)).split() if w.lower() != "gguf"]
    api = _api()
    expand = ["downloads", "likes", "gated", "siblings"]
    with _hub_errors("search"):
        models = list(
            api.list_models(
                search=" ".join(terms) or None, filter="gguf", sort="downloads", limit=limit, expand=expand
            )
        )
        if not models and len(terms) > 1:
            # The hub matches the query as one substring of the repo id; "qwen2.5 1.5b instruct"
            # is no substring of "Qwen2.5-1.5B-Instruct-GGUF". Search the most specific word and
            # keep repos whose id holds every word.
            anchor = max(terms, key=len)
            wide = api.list_models(search=anchor, filter="gguf", sort="downloads", limit=200, expand=expand)
            wanted = [_squash(t) for t in terms]
            models = [m for m in wide if all(w in _squash(m.id) for w in wanted)][:limit]
    hits = [
        SearchHit(
            m.id,
            downloads=m.downloads or 0,
            likes=m.likes or 0,
            gated=bool(m.gated),
            files=tuple(HubFile(s.rfilename) for s in (m.siblings or []) if HubFile(s.rfilename).is_model),
        )
        for m in models
    ]
    if with_sizes and hits:
        with ThreadPoolExecutor(max_workers=4) as pool:
            hits = list(pool.map(_with_sizes, hits))
    return hits


def _squash(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", text.lower())


def _with_sizes(hit: SearchHit) -> SearchHit:
    try:
        files = list_gguf_files(hit.repo_id)
    except HubError:
        return hit  # sizes are a nicety in a search listing; the names are already there
    return SearchHit(hit.repo_id, hit.downloads, hit.likes, hit.gated, tuple(files), sizes_known=True)


# -- downloading --------------------------------------------------------------------------------


def download_root() -> Path:
    return models_dir() / "hf"


def local_path(repo_id: str, filename: str) -> Path:
    """Where `filename` of `repo_id` lives once downloaded."""
    _check_relative(filename, f"{repo_id}/{filename}")
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
    with _hub_errors(what):
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


class _ProgressAdapter:
    """Stands in for huggingface_hub's tqdm bar and reports to a duel progress callback instead."""

    def __init__(self, report: ProgressFn | None, offset: int, grand_total: int, label: str, **kwargs: Any):
        self._report = report
        self._offset = offset
        self._total = grand_total
        self._label = label
        self.n = int(kwargs.get("initial") or 0)
        self._emit()

    def _emit(self) -> None:
        if self._report is not None:
            self._report(self._offset + self.n, self._total, self._label)

    def update(self, n: int = 1) -> None:
        self.n += n
        self._emit()

    def close(self) -> None:
        pass

    def __enter__(self) -> _ProgressAdapter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


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
    from huggingface_hub.file_download import http_get
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
    bar = functools.partial(_ProgressAdapter, progress, offset, grand_total or (meta.size or 0), label)
    with _hub_errors(f"{ref.repo_id}/{filename}"), open(part, "r+b" if part.exists() else "w+b") as fh:
        fh.seek(resume)
        fh.truncate()
        http_get(
            meta.url,
            fh,
            resume_size=resume,
            headers=headers,
            expected_size=meta.size,
            displayed_filename=label,
            tqdm_class=bar,  # type: ignore[arg-type]
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


# -- what resolve() calls -----------------------------------------------------------------------


def resolve_hf_reference(ref: str, progress: ProgressFn | None = None) -> ModelInfo:
    """Download (if needed) and describe the model an `hf:` reference names."""
    from models.describe import describe

    result = pull(ref, progress=progress)
    # The family comes from describe() like for any file (models.families); the name is the full
    # reference, so it can be used again as is.
    return describe(result.path, name=str(result.ref), source="hf")


def default_registry_name(ref: HubRef) -> str:
    """A registry name for a pulled file: its stem, lower case, split suffix dropped."""
    assert ref.filename is not None
    split = split_info(ref.filename)
    stem = split.base if split else PurePosixPath(ref.filename).name[: -len(".gguf")]
    name = re.sub(r"[^A-Za-z0-9._+-]+", "-", stem.lower()).strip("-._+")
    return name[:64] or "hub-model"
