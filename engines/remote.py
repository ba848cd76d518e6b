"""A model behind an OpenAI-compatible chat endpoint (vLLM, TGI, llama.cpp's server, Ollama, a
hosted API, a Hugging Face Inference Endpoint), streamed through huggingface_hub's InferenceClient.

Reference: `remote:URL[#MODEL][?key_env=NAME&timeout=SECONDS&retries=N]`, e.g.
`remote:http://127.0.0.1:8000/v1#qwen2.5-7b-instruct`. URL is the API base (`.../v1`); without a
MODEL the first model the server lists at `/models` is used. The same settings may come from
`LoadOptions.extra` (`api_key_env`, `timeout_s`, `retries`), e.g. from the config; the reference wins.

API key: read from the environment variable named by `key_env` (default DUEL_REMOTE_API_KEY) and
sent as a Bearer token. Without one, no Authorization header is sent at all, except to Hugging Face
hosts (Inference Endpoints, the router), which get the user's HF token the usual way. This matters:
InferenceClient on its own would send the HF token to any URL.

Stats are measured by the client: time to first token and total time from the call (retries and
network included), tokens/s from them. Completion tokens are the server's `usage` numbers when
it sends them (`stream_options.include_usage`); otherwise the count of streamed content chunks,
which OpenAI-compatible servers send one per token (llama.cpp's server and vLLM do). Which one was
used is in `last_token_count_source` ("usage" or "chunks"). Prompt tokens without usage are an
estimate (characters / 4), as is `count_chat_tokens`: the client has no tokenizer.

No log-likelihood scoring (`supports_loglik = False`): prompt log-probabilities from servers are not
trustworthy (llama.cpp's server returns them shifted by one position), so benchmark runners score
remote models by generation and say so (`scoring_note`).
"""

from __future__ import annotations

import json
import math
import os
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

from engines.base import (
    CANCELLED_BEFORE_START,
    Chunk,
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationParams,
    GenerationRequest,
    GenerationResult,
    LoadOptions,
    Message,
    NoteSink,
    ShouldStop,
    Stats,
    TemplateInUse,
    collect_reply,
    failed_result,
)
from models.info import ModelInfo

PREFIX = "remote:"
DEFAULT_KEY_ENV = "DUEL_REMOTE_API_KEY"
DEFAULT_TIMEOUT_S = 60.0
DEFAULT_RETRIES = 3
RETRY_BASE_S = 0.5
MAX_RETRY_WAIT_S = 30.0
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
HF_HOST_SUFFIXES = ("huggingface.co", "hf.co", "huggingface.cloud", "hf.space")
CHARS_PER_TOKEN = 4  # rough estimate for English text, used only where the server gives no count


class RemoteRequestFailed(EngineError):
    """One request failed in a way the next one may not: a 5xx/429 answer, a connection dropped or
    timed out. `generate_many` retries such a request alone and, if it keeps failing, reports it as
    that request's failure rather than ending the whole batch. `retried`: the status retries with
    backoff were already spent; `server_down`: nothing listens at the address, so when retries do
    not bring it back, every request would fail the same way and the batch ends with this error.
    """

    def __init__(self, message: str, *, retried: bool = False, server_down: bool = False) -> None:
        super().__init__(message)
        self.retried = retried
        self.server_down = server_down


@dataclass(frozen=True)
class RemoteTarget:
    base_url: str  # ends with /v1
    model: str | None
    key_env: str = DEFAULT_KEY_ENV
    timeout_s: float = DEFAULT_TIMEOUT_S
    retries: int = DEFAULT_RETRIES
    retry_base_s: float = RETRY_BASE_S

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).netloc

    @property
    def is_hf_host(self) -> bool:
        host = (urlsplit(self.base_url).hostname or "").lower()
        return any(host == s or host.endswith("." + s) for s in HF_HOST_SUFFIXES)


def _api_base(url: str) -> str:
    """The `/v1` base the way InferenceClient builds `/chat/completions` from it."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.endswith("/chat/completions"):
        path = path[: -len("/chat/completions")]
    if not path.endswith("/v1"):
        path = f"{path}/v1"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def parse_reference(ref: str, options: LoadOptions | None = None) -> RemoteTarget:
    """Parse `remote:URL[#MODEL][?key=value&...]` (settings may also come from options.extra)."""
    body = ref[len(PREFIX) :] if ref.startswith(PREFIX) else ref
    url, _, fragment = body.partition("#")
    model, _, query = fragment.partition("?")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EngineError(f"bad remote reference {ref!r}: expected remote:http(s)://HOST[:PORT]/v1[#MODEL]")
    settings = dict((options.extra if options else {}) or {})
    settings.update({k: v[-1] for k, v in parse_qs(query).items()})
    try:
        timeout_s = float(settings.get("timeout", settings.get("timeout_s", DEFAULT_TIMEOUT_S)))
        retries = int(settings.get("retries", DEFAULT_RETRIES))
        retry_base_s = float(settings.get("retry_base_s", RETRY_BASE_S))
    except ValueError as exc:
        raise EngineError(f"bad setting in remote reference {ref!r}: {exc}") from exc
    if timeout_s <= 0 or retries < 0 or retry_base_s < 0:
        raise EngineError(f"bad setting in remote reference {ref!r}: timeout > 0, retries >= 0 expected")
    key_env = settings.get("key_env", settings.get("api_key_env", DEFAULT_KEY_ENV))
    return RemoteTarget(_api_base(url), model or None, key_env, timeout_s, retries, retry_base_s)


class RemoteEngine(Engine):
    """A chat model served over HTTP. Serves one caller at a time, like every engine."""

    supports_loglik = False
    scoring_note = (
        "remote model: log-likelihood scoring is not available (server prompt log-probabilities are "
        "not trusted), options were scored by generation"
    )

    def __init__(self, target: RemoteTarget, options: LoadOptions | None = None) -> None:
        self._target = target
        self._options = options or LoadOptions()
        self._closed = False
        self.last_token_count_source = "none"  # "usage" or "chunks" after a stream
        self._model = target.model or self._first_listed_model()
        if target.model:
            self._check_reachable()

    @classmethod
    def from_reference(cls, ref: str, options: LoadOptions | None = None) -> RemoteEngine:
        return cls(parse_reference(ref, options), options)

    # --- connection and auth -------------------------------------------------------------------

    def _api_key(self) -> str | None:
        return os.environ.get(self._target.key_env) or None

    def _auth_headers(self) -> dict[str, str | None]:
        """Headers that decide which credential, if any, leaves this machine."""
        key = self._api_key()
        if key:
            return {"authorization": f"Bearer {key}"}
        if self._target.is_hf_host:
            return {}  # huggingface_hub adds the user's HF token for its own hosts
        return {"authorization": None}  # None removes the HF token InferenceClient would add

    def _describe_http_failure(self, exc: BaseException) -> EngineError:
        import httpx2
        from huggingface_hub.errors import InferenceTimeoutError, OfflineModeIsEnabled

        where = self._target.base_url
        if isinstance(exc, OfflineModeIsEnabled):
            return EngineError(
                f"{where}: HF_HUB_OFFLINE is set, which blocks huggingface_hub's HTTP client; "
                "unset it to use a remote engine"
            )
        if isinstance(exc, httpx2.ConnectError):
            return RemoteRequestFailed(
                f"remote server {where} is not reachable ({_short(exc)}); is it running?", server_down=True
            )
        if isinstance(exc, InferenceTimeoutError | httpx2.TimeoutException):
            return RemoteRequestFailed(
                f"remote server {where} did not answer within {self._target.timeout_s:g} s"
            )
        return RemoteRequestFailed(f"remote server {where} failed: {type(exc).__name__}: {_short(exc)}")

    def _get_models(self) -> Any:
        from huggingface_hub.utils import build_hf_headers, get_session

        headers = {k: v for k, v in self._auth_headers().items() if v is not None}
        if not headers and self._target.is_hf_host:
            headers = build_hf_headers()  # the user's HF token, for Hugging Face's own hosts only
        return get_session().get(
            f"{self._target.base_url}/models", headers=headers, timeout=self._target.timeout_s
        )

    def _check_reachable(self) -> Any:
        import httpx2
        from huggingface_hub.errors import OfflineModeIsEnabled

        try:
            response = self._get_models()
        except (httpx2.HTTPError, OfflineModeIsEnabled) as exc:
            raise self._describe_http_failure(exc) from None
        if response.status_code in (401, 403):
            raise EngineError(
                f"remote server {self._target.base_url} refused the request (HTTP {response.status_code}); "
                f"put the API key in the environment variable {self._target.key_env}"
            )
        return response

    def _first_listed_model(self) -> str:
        response = self._check_reachable()
        try:
            data = response.json() if response.status_code == 200 else {}
            ids = [m["id"] for m in data.get("data", []) if m.get("id")]
        except (ValueError, AttributeError, TypeError, KeyError):
            ids = []
        if not ids:
            raise EngineError(
                f"remote server {self._target.base_url} lists no models at /models; "
                "name one: remote:URL#MODEL"
            )
        return ids[0]

    # --- description -------------------------------------------------------------------------

    def describe(self) -> ModelInfo:
        from models.families import match_family

        family = match_family([self._model])
        return ModelInfo(
            name=f"{PREFIX}{self._target.base_url}#{self._model}",
            path=None,
            architecture="remote",
            family=family.label if family else "Remote",
            display_name=self._model,
            context_length=None,
            source="remote",
            metadata={
                "base_url": self._target.base_url,
                "model": self._model,
                "supports_loglik": False,
                "token_count_source": self.last_token_count_source,
            },
        )

    @property
    def template(self) -> TemplateInUse:
        return TemplateInUse(source="server", text=None)

    @property
    def n_ctx(self) -> int:
        """The context the caller asked for; the server's own limit is reported when a request hits it."""
        return self._options.n_ctx

    def render_chat(self, messages: Sequence[Message]) -> str:
        """A readable transcript: the server applies the model's chat template, not us."""
        return "".join(f"<|{m['role']}|>\n{m['content']}\n" for m in messages) + "<|assistant|>\n"

    def count_chat_tokens(self, messages: Sequence[Message]) -> int:
        """An estimate (characters / 4 plus a few per message): the client has no tokenizer."""
        chars = sum(len(m["content"]) for m in messages)
        return math.ceil(chars / CHARS_PER_TOKEN) + 4 * len(messages) + 2

    # --- streaming ---------------------------------------------------------------------------

    def _open(self, messages: Sequence[Message], params: GenerationParams, should_stop: ShouldStop | None):
        """Start the streaming request, retrying 429/5xx with exponential backoff."""
        import httpx2
        from huggingface_hub import InferenceClient
        from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

        attempt = 0
        ask_usage = True
        while True:
            client = InferenceClient(
                base_url=self._target.base_url, timeout=self._target.timeout_s, headers=self._auth_headers()
            )  # type: ignore[arg-type]
            try:
                stream = client.chat_completion(
                    [dict(m) for m in messages],
                    model=self._model,
                    stream=True,
                    max_tokens=params.max_tokens,
                    temperature=params.temperature,
                    top_p=params.top_p,
                    seed=params.seed,
                    stop=list(params.stop) or None,
                    stream_options={"include_usage": True} if ask_usage else None,  # type: ignore[arg-type]
                )
                return client, stream
            except HfHubHTTPError as exc:
                status = exc.response.status_code if exc.response is not None else 0
                detail = _response_text(exc.response)
                client.close()
                if status in (400, 422) and ask_usage and "stream_options" in detail:
                    ask_usage = False  # a server that rejects the usage option: ask again without it
                    continue
                if status in RETRY_STATUSES and attempt < self._target.retries:
                    if not self._wait(self._retry_delay(exc.response, attempt), should_stop):
                        return None, None
                    attempt += 1
                    continue
                raise self._status_error(detail, status, attempt) from None
            except (httpx2.HTTPError, OfflineModeIsEnabled) as exc:
                client.close()
                raise self._describe_http_failure(exc) from None

    def _retry_delay(self, response: Any, attempt: int) -> float:
        """Retry-After when the server gives one (capped), else base * 2^attempt with jitter."""
        header = response.headers.get("Retry-After") if response is not None else None
        if header:
            try:
                return min(float(header), MAX_RETRY_WAIT_S)
            except ValueError:
                pass  # an HTTP date: use our own backoff
        delay = self._target.retry_base_s * (2**attempt)
        return min(delay * (1 + random.random() * 0.1), MAX_RETRY_WAIT_S)

    @staticmethod
    def _wait(seconds: float, should_stop: ShouldStop | None) -> bool:
        """Sleep, waking to check for cancellation; False when cancelled."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if should_stop is not None and should_stop():
                return False
            time.sleep(min(left, 0.05))
        return True

    def _status_error(self, detail: str, status: int, retries_done: int) -> EngineError:
        where = self._target.base_url
        if status == 400 and "context" in detail.lower():
            return ContextOverflowError(f"{where}: the prompt does not fit the model's context: {detail}")
        if status in (401, 403):
            return EngineError(
                f"{where} refused the request (HTTP {status}); put the API key in "
                f"the environment variable {self._target.key_env}"
            )
        if status == 404:
            return EngineError(
                f"{where}: no model {self._model!r} or no chat endpoint (HTTP 404) {detail}".strip()
            )
        tried = f" after {retries_done + 1} attempts" if retries_done else ""
        message = f"{where} answered HTTP {status}{tried}" + (f": {detail}" if detail else "")
        if status in RETRY_STATUSES:
            return RemoteRequestFailed(message, retried=True)
        return EngineError(message)

    def stream_chat(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        should_stop: ShouldStop | None = None,
    ) -> Iterator[Chunk]:
        import httpx2
        from huggingface_hub.errors import TextGenerationError

        if self._closed:
            raise EngineError(f"{self._model}: engine is closed")
        start = time.perf_counter()
        client, stream = self._open(messages, params, should_stop)
        if stream is None:  # cancelled while waiting to retry
            yield Chunk(stats=Stats(0, 0, 0.0, time.perf_counter() - start, "cancelled"))
            return
        ttft = 0.0
        chunks = 0
        usage: Any = None
        finish: str | None = None
        try:
            for event in stream:
                if should_stop is not None and should_stop():
                    finish = "cancelled"
                    break
                if getattr(event, "usage", None) is not None:
                    usage = event.usage
                for choice in event.choices or []:
                    text = choice.delta.content if choice.delta is not None else None
                    if text:
                        if chunks == 0:
                            ttft = time.perf_counter() - start
                        chunks += 1
                        yield Chunk(text=text)
                    if choice.finish_reason:
                        finish = _finish_reason(choice.finish_reason)
        except (httpx2.HTTPError, TextGenerationError, ValueError) as exc:
            raise RemoteRequestFailed(
                f"remote server {self._target.base_url} broke off the reply after {chunks} chunks "
                f"({type(exc).__name__}: {_short(exc)})"
            ) from None
        finally:
            client.close()  # also closes the HTTP response, so a cancelled server stops generating
        if finish is None:
            raise RemoteRequestFailed(
                f"remote server {self._target.base_url} ended the stream without finishing "
                f"the reply (after {chunks} chunks)"
            )
        total = time.perf_counter() - start
        if (
            usage is not None
            and getattr(usage, "completion_tokens", None) is not None
            and finish != "cancelled"
        ):
            completion, prompt = int(usage.completion_tokens), int(usage.prompt_tokens or 0)
            self.last_token_count_source = "usage"
        else:
            completion, prompt = chunks, self.count_chat_tokens(messages)
            self.last_token_count_source = "chunks"
        yield Chunk(stats=Stats(prompt, completion, ttft if chunks else total, max(total, ttft), finish))

    # --- many requests at once ------------------------------------------------------------------

    def generate_many(
        self,
        requests: Sequence[GenerationRequest],
        parallel: int = 1,
        should_stop: ShouldStop | None = None,
        on_note: NoteSink | None = None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        """Keep up to `parallel` requests in flight (one thread and one HTTP client each), so a
        vLLM, TGI or llama.cpp server works on them side by side as it does for many users.

        A request that fails on its own (5xx after the backoff retries, a dropped or timed-out
        connection) is retried alone up to `retries` times and then comes back as that request's
        failure; the others go on. Refused credentials, an unknown model or a bad request raise,
        since every request would fail alike; so does a server that stays unreachable.
        """
        from engines.concurrent import generate_concurrently

        if self._closed:
            raise EngineError(f"{self._model}: engine is closed")
        yield from generate_concurrently(requests, parallel, self._collect_with_retries, should_stop)

    def _collect_with_retries(self, request: GenerationRequest, should_stop: ShouldStop) -> GenerationResult:
        start = time.perf_counter()
        attempt = 0
        while True:
            try:
                return collect_reply(self, request, should_stop)
            except RemoteRequestFailed as exc:
                if exc.retried or attempt >= self._target.retries:
                    if exc.server_down:
                        raise
                    return failed_result(exc, time.perf_counter() - start)
            if not self._wait(self._retry_delay(None, attempt), should_stop):
                return GenerationResult("", CANCELLED_BEFORE_START)
            attempt += 1

    def close(self) -> None:
        self._closed = True


def _finish_reason(reason: str) -> str:
    if reason == "length":
        return "length"
    return "stop"  # "stop", TGI's "eos_token"/"stop_sequence", tool calls: the model ended its turn


def _short(exc: BaseException, limit: int = 200) -> str:
    text = " ".join(str(exc).split())
    return text[:limit] + ("..." if len(text) > limit else "")


def _response_text(response: Any, limit: int = 300) -> str:
    """The error body of a failed (possibly streamed) response, as one short line."""
    if response is None:
        return ""
    try:
        response.read()
        text = response.text
    except Exception:  # a closed stream: the status line is all we have
        return ""
    try:
        data = json.loads(text)
        error = data.get("error", data) if isinstance(data, dict) else data
        text = str(error.get("message") or error) if isinstance(error, dict) else str(error)
    except (ValueError, AttributeError):
        pass
    text = " ".join(text.split())
    return text[:limit] + ("..." if len(text) > limit else "")
