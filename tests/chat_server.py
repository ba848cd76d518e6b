"""A small OpenAI-compatible chat server on 127.0.0.1 (real HTTP, scripted answers), for the remote
engine's tests and perf/gen_batch.py.

`ChatServer(replies)` answers POST /v1/chat/completions with the scripted replies in arrival order
(the last one repeats), or with `route(body)` when given, so concurrent requests can each get
their own answer. `Reply.hang_s` holds an answer back (a server busy generating); `drop_after`
closes the socket mid-stream. The server counts requests in flight (`most_in_flight`).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class Reply:
    status: int = 200
    words: tuple[str, ...] = ("Hello", " there", "!")
    finish: str | None = "stop"
    usage: dict | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    drop_after: int | None = None  # close the socket after this many content chunks
    hang_s: float = 0.0  # wait this long before answering
    reject_stream_options: bool = False  # answer 400 to requests that carry stream_options


@dataclass
class Seen:
    path: str
    authorization: str | None
    body: dict


class ChatServer:
    """Answers POST /v1/chat/completions from a script (the last reply repeats)."""

    def __init__(
        self,
        replies: list[Reply],
        models: tuple[str, ...] = ("stub-model",),
        route: Callable[[dict], Reply] | None = None,
    ) -> None:
        self.replies = list(replies)
        self.models = models
        self.route = route
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def handle(self) -> None:
                # A client that closes a kept-alive connection (a cancelled or finished batch) is
                # not an error of the server's.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def do_GET(self) -> None:  # noqa: N802
                server.seen.append(Seen(self.path, self.headers.get("Authorization"), {}))
                body = json.dumps(
                    {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]}
                )
                self._send(200, body.encode(), "application/json")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.seen.append(Seen(self.path, self.headers.get("Authorization"), body))
                    if server.route is not None:
                        reply = server.route(body)
                    else:
                        reply = server.replies.pop(0) if len(server.replies) > 1 else server.replies[0]
                    server.in_flight += 1
                    server.most_in_flight = max(server.most_in_flight, server.in_flight)
                try:
                    self._answer(reply, body)
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _answer(self, reply: Reply, body: dict) -> None:
                if reply.hang_s:
                    time.sleep(reply.hang_s)
                if reply.reject_stream_options and "stream_options" in body:
                    message = json.dumps({"error": {"message": "Unknown field: stream_options"}})
                    return self._send(400, message.encode(), "application/json")
                if reply.status != 200:
                    payload = reply.body or json.dumps({"error": {"message": f"status {reply.status}"}})
                    return self._send(reply.status, payload.encode(), "application/json", reply.headers)
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i, word in enumerate(reply.words):
                    if reply.drop_after is not None and i >= reply.drop_after:
                        self.wfile.flush()
                        with contextlib.suppress(OSError):
                            self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    self._event(
                        {"choices": [{"index": 0, "delta": {"content": word}, "finish_reason": None}]}
                    )
                if reply.finish is not None:
                    self._event({"choices": [{"index": 0, "delta": {}, "finish_reason": reply.finish}]})
                if reply.usage is not None:
                    self._event({"choices": [], "usage": reply.usage})
                if reply.finish is not None:
                    self._chunk(b"data: [DONE]\n\n")
                self._chunk(b"")

            def _event(self, data: dict) -> None:
                data = {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "stub-model",
                    **data,
                }
                self._chunk(f"data: {json.dumps(data)}\n\n".encode())

            def _chunk(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def _send(
                self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
            ) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def posts(self) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith("/chat/completions")]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def clear_remote_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No API key, proxy or offline switch from the developer's shell reaches a local test server."""
    for name in (
        "DUEL_REMOTE_API_KEY",
        "HF_HUB_OFFLINE",
        "HTTP_PROXY",
        "http_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def server_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., ChatServer]]:
    """Body of the `make_server` fixtures: `make(*replies, models=..., route=...)` starts a server;
    all are stopped at the end. Proxy and key variables are cleared so requests go straight to it."""
    clear_remote_env(monkeypatch)
    servers: list[ChatServer] = []

    def make(
        *replies: Reply,
        models: tuple[str, ...] = ("stub-model",),
        route: Callable[[dict], Reply] | None = None,
    ) -> ChatServer:
        server = ChatServer(list(replies), models, route)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
