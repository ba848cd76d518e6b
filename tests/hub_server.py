"""A small Hugging Face hub look-alike on 127.0.0.1, for tests that must not touch the real hub.

It speaks the endpoints huggingface_hub 2.x calls for what duel does (read from its source):
- `GET /api/models?search=&filter=&sort=&limit=&expand=` (HfApi.list_models)
- `GET /api/models/{repo}` and `/api/models/{repo}/revision/{rev}`, `?blobs=true` adds sizes and LFS
  hashes to `siblings` (HfApi.model_info(files_metadata=True))
- `GET /api/models/{repo}/tree/{rev}[/{path}]?recursive=` (HfApi.list_repo_tree / list_repo_files)
- `HEAD|GET /{repo}/resolve/{rev}/{file}` with `X-Repo-Commit`, `ETag` (the LFS sha256, quoted),
  `X-Linked-Size`/`X-Linked-Etag`, `Content-Length`, and `Range: bytes=N-` answered with 206.
  With `cdn_redirect=True` large files answer 302 to a "CDN" on another host name (`localhost`
  instead of `127.0.0.1`), as the real hub does for LFS files, so the client must not follow it
  with the HEAD and must download from the `Location`.
Errors carry the hub's `X-Error-Code` header (RepoNotFound, EntryNotFound, GatedRepo,
RevisionNotFound), which is what huggingface_hub turns into typed exceptions.

Fault injection for tests: `drop_once[path] = n` sends only n bytes of that file's first GET and
then closes the connection (the client must resume with a Range request); `requests` records
every request (method, path, Range header, whether an Authorization header was sent).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

# Files at least this big are served as LFS files (sha256 ETag, CDN redirect when enabled).
LFS_THRESHOLD = 1024


@dataclass
class FakeRepo:
    repo_id: str
    files: dict[str, bytes]
    gated: bool = False
    downloads: int = 0
    likes: int = 0
    tags: tuple[str, ...] = ("gguf",)
    commit: str = ""

    def __post_init__(self) -> None:
        if not self.commit:
            digest = hashlib.sha1(self.repo_id.encode())
            for name in sorted(self.files):
                digest.update(name.encode())
                digest.update(hashlib.sha1(self.files[name]).digest())
            self.commit = digest.hexdigest()

    def is_lfs(self, path: str) -> bool:
        return len(self.files[path]) >= LFS_THRESHOLD or path.endswith(".gguf")

    def sha256(self, path: str) -> str:
        return hashlib.sha256(self.files[path]).hexdigest()

    def git_oid(self, path: str) -> str:
        data = self.files[path]
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()

    def etag(self, path: str) -> str:
        return self.sha256(path) if self.is_lfs(path) else self.git_oid(path)

    def sibling(self, path: str, with_blobs: bool) -> dict:
        entry: dict = {"rfilename": path}
        if with_blobs:
            entry["size"] = len(self.files[path])
            entry["blobId"] = self.git_oid(path)
            if self.is_lfs(path):
                size = len(self.files[path])
                entry["lfs"] = {"sha256": self.sha256(path), "size": size, "pointerSize": 134}
        return entry

    def tree_entry(self, path: str) -> dict:
        entry: dict = {"type": "file", "oid": self.git_oid(path), "size": len(self.files[path]), "path": path}
        if self.is_lfs(path):
            entry["lfs"] = {"oid": self.sha256(path), "size": len(self.files[path]), "pointerSize": 134}
        return entry


@dataclass(frozen=True)
class RequestRecord:
    method: str
    path: str
    range: str | None
    authorized: bool


@dataclass
class HubServer:
    """Start with `start()`, point HF_ENDPOINT at `url`, stop with `stop()`."""

    repos: dict[str, FakeRepo] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)  # tokens that may read gated repos
    cdn_redirect: bool = False
    drop_once: dict[str, int] = field(default_factory=dict)
    requests: list[RequestRecord] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def add(self, repo: FakeRepo) -> FakeRepo:
        self.repos[repo.repo_id] = repo
        return repo

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubServer:
        hub = self

        class Handler(_HubHandler):
            server_state = hub

        self._server = _QuietServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="hub-server", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def record(self, record: RequestRecord) -> None:
        with self._lock:
            self.requests.append(record)

    def take_drop(self, path: str) -> int | None:
        with self._lock:
            return self.drop_once.pop(path, None)

    def file_requests(self, filename: str, method: str = "GET") -> list[RequestRecord]:
        return [r for r in self.requests if r.method == method and r.path.endswith("/" + filename)]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        # Clients that hang up (an interrupted download, a test that stops early) are expected.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class _HubHandler(BaseHTTPRequestHandler):
    server_state: HubServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - keep test output quiet
        pass

    # -- plumbing ---------------------------------------------------------------------------------

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)

    def _json(self, payload: object, headers: dict[str, str] | None = None) -> None:
        self._send(200, json.dumps(payload).encode(), {"Content-Type": "application/json", **(headers or {})})

    def _error(self, status: int, code: str, message: str, extra: dict[str, str] | None = None) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message, "Content-Type": "application/json"}
        self._send(status, json.dumps({"error": message}).encode(), {**headers, **(extra or {})})

    def _token(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        return auth[len("Bearer ") :] if auth.startswith("Bearer ") else None

    def do_HEAD(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch()

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch()

    def _dispatch(self) -> None:
        hub = self.server_state
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        query = {k: v for k, v in parse_qs(parts.query).items()}
        hub.record(RequestRecord(self.command, path, self.headers.get("Range"), self._token() is not None))
        if path == "/api/models":
            return self._list_models(query)
        if path.startswith("/api/models/"):
            return self._model_api(path[len("/api/models/") :], query)
        if path.startswith("/cdn/"):
            return self._cdn(path[len("/cdn/") :])
        if "/resolve/" in path:
            repo_id, _, rest = path.strip("/").partition("/resolve/")
            revision, _, filename = rest.partition("/")
            return self._resolve(repo_id, revision, filename)
        self._error(404, "NotFound", f"no route for {path}")

    # -- API --------------------------------------------------------------------------------------

    def _list_models(self, query: dict[str, list[str]]) -> None:
        hub = self.server_state
        search = (query.get("search") or [""])[0].lower()
        filters = query.get("filter") or []
        limit = int((query.get("limit") or ["1000"])[0])
        hits = [
            repo
            for repo in hub.repos.values()
            if search in repo.repo_id.lower() and all(f in repo.tags for f in filters)
        ]
        if (query.get("sort") or [""])[0] == "downloads":
            hits.sort(key=lambda r: r.downloads, reverse=True)
        payload = [
            {
                "_id": repo.commit[:24],
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "downloads": repo.downloads,
                "likes": repo.likes,
                "gated": "manual" if repo.gated else False,
                "private": False,
                "tags": list(repo.tags),
                "library_name": "gguf" if "gguf" in repo.tags else None,
                "siblings": [repo.sibling(p, False) for p in sorted(repo.files)],
            }
            for repo in hits[:limit]
        ]
        self._json(payload)

    def _find_repo(self, rest: str) -> tuple[FakeRepo | None, str]:
        """Split `owner/name/...` into the repo and what follows it."""
        owner, _, remainder = rest.partition("/")
        name, _, tail = remainder.partition("/")
        return self.server_state.repos.get(f"{owner}/{name}"), tail

    def _model_api(self, rest: str, query: dict[str, list[str]]) -> None:
        repo, tail = self._find_repo(rest)
        if repo is None:
            return self._error(401, "RepoNotFound", "Repository not found")
        if tail.startswith("revision/"):
            revision = tail[len("revision/") :]
            if revision not in ("main", repo.commit):
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            tail = ""
        if tail.startswith("tree/"):
            revision, _, sub = tail[len("tree/") :].partition("/")
            if revision not in ("main", repo.commit):
                return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            recursive = (query.get("recursive") or ["false"])[0].lower() == "true"
            return self._json(self._tree(repo, sub, recursive))
        if tail:
            return self._error(404, "NotFound", f"no route for {tail}")
        blobs = (query.get("blobs") or ["false"])[0].lower() == "true"
        self._json(
            {
                "_id": repo.commit[:24],
                "id": repo.repo_id,
                "modelId": repo.repo_id,
                "author": repo.repo_id.split("/")[0],
                "sha": repo.commit,
                "private": False,
                "gated": "manual" if repo.gated else False,
                "disabled": False,
                "downloads": repo.downloads,
                "likes": repo.likes,
                "tags": list(repo.tags),
                "library_name": "gguf" if "gguf" in repo.tags else None,
                "siblings": [repo.sibling(p, blobs) for p in sorted(repo.files)],
            }
        )

    def _tree(self, repo: FakeRepo, sub: str, recursive: bool) -> list[dict]:
        prefix = f"{sub.strip('/')}/" if sub else ""
        entries: list[dict] = []
        folders: set[str] = set()
        for path in sorted(repo.files):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if "/" in rest and not recursive:
                folders.add(prefix + rest.split("/")[0])
                continue
            if recursive:
                parts = rest.split("/")[:-1]
                for i in range(len(parts)):
                    folders.add(prefix + "/".join(parts[: i + 1]))
            entries.append(repo.tree_entry(path))
        folder_entries = [
            {"type": "directory", "oid": "0" * 40, "size": 0, "path": f} for f in sorted(folders)
        ]
        return folder_entries + entries

    # -- files ------------------------------------------------------------------------------------

    def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
        hub = self.server_state
        repo = hub.repos.get(repo_id)
        if repo is None:
            return self._error(401, "RepoNotFound", "Repository not found")
        if revision not in ("main", repo.commit):
            return self._error(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        commit = {"X-Repo-Commit": repo.commit}
        if repo.gated:
            token = self._token()
            if token is None:
                message = f"Access to model {repo_id} is restricted. You must be authenticated to access it."
                return self._error(401, "GatedRepo", message, commit)
            if token not in hub.tokens:
                message = f"Access to model {repo_id} is restricted and you are not in the authorized list."
                return self._error(403, "GatedRepo", message, commit)
        if filename not in repo.files:
            return self._error(404, "EntryNotFound", f"{filename} does not exist on main", commit)
        etag = repo.etag(filename)
        if hub.cdn_redirect and repo.is_lfs(filename):
            # Another host name for the same server: huggingface_hub must treat it as a CDN.
            location = (
                f"http://localhost:{hub.port}/cdn/{repo.sha256(filename)}?repo={repo_id}&file={filename}"
            )
            headers = {
                **commit,
                "Location": location,
                "X-Linked-Size": str(len(repo.files[filename])),
                "X-Linked-Etag": f'"{etag}"',
                "ETag": f'"{repo.git_oid(filename)}"',
            }
            return self._send(302, b"", headers)
        self._serve_bytes(repo.files[filename], filename, {**commit, "ETag": f'"{etag}"'})

    def _cdn(self, rest: str) -> None:
        sha = rest.split("?")[0]
        for repo in self.server_state.repos.values():
            for name, data in repo.files.items():
                if hashlib.sha256(data).hexdigest() == sha:
                    return self._serve_bytes(data, name, {"ETag": f'"{sha}"'})
        self._error(404, "NotFound", "no such blob")

    def _serve_bytes(self, data: bytes, filename: str, headers: dict[str, str]) -> None:
        start = 0
        status = 200
        range_header = self.headers.get("Range")
        extra = {"Accept-Ranges": "bytes", **headers}
        if range_header and range_header.startswith("bytes="):
            first, _, last = range_header[len("bytes=") :].partition("-")
            start = int(first or 0)
            end = int(last) if last else len(data) - 1
            if start >= len(data):
                return self._send(416, b"", {"Content-Range": f"bytes */{len(data)}"})
            extra["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
            data = data[start : end + 1]
            status = 206
        self.send_response(status)
        for key, value in extra.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command == "HEAD":
            return
        drop_after = self.server_state.take_drop(filename) if status == 200 else None
        if drop_after is None:
            self.wfile.write(data)
            return
        # A dropped connection mid-body: the client saw Content-Length and gets fewer bytes.
        self.wfile.write(data[:drop_after])
        self.wfile.flush()
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def point_huggingface_hub_at(server_url: str, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make huggingface_hub (and duel's hub code) talk to `server_url` with a clean, token-less home.

    duel reads HF_ENDPOINT, HF_HUB_CACHE and HF_TOKEN at call time, so environment variables are
    enough for duel itself. huggingface_hub reads the path of a stored login token once, at import,
    into `constants.HF_TOKEN_PATH`: that one constant is patched, so a developer's own
    `hf auth login` cannot leak into (or change the outcome of) a test.
    """
    from huggingface_hub import constants

    monkeypatch.setenv("HF_ENDPOINT", server_url)
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_HUB_CACHE", str(home / "hub"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    for name in (
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_OFFLINE",
        "TRANSFORMERS_OFFLINE",
        "HTTPS_PROXY",
        "https_proxy",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
