"""A deterministic engine with no model behind it.

Used by tests (TUI pilots, runner tests, snapshots) and by anyone who wants to try the interface
without weights: `-m scripted:alpha`. Its replies and scores depend only on its name and the input,
so two runs give the same bytes. Options in the reference tune it:
`scripted:NAME?delay=0.01&tokens=40&fail=load|stream&ctx=2048&reply=TEXT&slots=4`; `reply` makes
it answer TEXT to everything (a judge that always says "[[A]]", say).

`generate_many` behaves like a batching engine: each step makes one token for every request in
flight and sleeps `delay` once, so N at a time is about N times faster, replies with fewer tokens
finish (and are yielded) first, and `slots` caps how many fit at once (with a note, as a real
engine short of memory does). The replies are exactly those of `stream_chat`.
"""

from __future__ import annotations

import hashlib
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from urllib.parse import parse_qs

from engines.base import (
    CANCELLED_BEFORE_START,
    Chunk,
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationParams,
    GenerationRequest,
    GenerationResult,
    Message,
    NoteSink,
    OptionScore,
    ShouldStop,
    Stats,
    TemplateInUse,
    failed_result,
)
from models.info import ModelInfo

_WORDS = [
    "the",
    "model",
    "answers",
    "with",
    "a",
    "short",
    "and",
    "careful",
    "reply",
    "about",
    "hash",
    "maps",
    "arrays",
    "keys",
    "values",
    "buckets",
    "collisions",
    "lookups",
    "speed",
    "memory",
    "tradeoffs",
    "examples",
    "clearly",
]


def _digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode()).digest()


@dataclass
class _Reply:
    """A reply `generate_many` is making, one token per step."""

    prompt_tokens: int
    tokens: list[str]
    finish: str  # when it is not interrupted
    start: float
    pieces: list[str] = field(default_factory=list)
    ttft: float = 0.0

    def result(self, now: float, finish: str) -> GenerationResult:
        total = max(now - self.start, self.ttft)
        stats = Stats(self.prompt_tokens, len(self.pieces), self.ttft, total, finish)
        return GenerationResult("".join(self.pieces), stats)


class ScriptedEngine(Engine):
    supports_loglik = True

    def __init__(
        self,
        name: str = "scripted",
        *,
        delay_s: float = 0.0,
        reply_tokens: int = 24,
        fail: str | None = None,
        n_ctx: int = 4096,
        reply: str | None = None,
        max_slots: int = 0,
    ) -> None:
        if fail == "load":
            raise EngineError(f"{name}: scripted load failure")
        self._name = name
        self.delay_s = delay_s
        self.reply_tokens = reply_tokens
        self.fail = fail
        self._n_ctx = n_ctx
        self.reply = reply
        self.closed = False
        self.threads = 1
        self.calls: list[list[Message]] = []  # every conversation it was asked to continue
        self.max_slots = max_slots  # 0: any number of requests fit at once
        self.most_in_flight = 0  # the most requests generate_many had in flight at once

    @classmethod
    def from_reference(cls, ref: str) -> ScriptedEngine:
        """Build from `scripted:NAME?key=value&...`."""
        body = ref.split(":", 1)[1] if ":" in ref else ref
        name, _, query = body.partition("?")
        opts = {k: v[-1] for k, v in parse_qs(query).items()}
        return cls(
            name or "scripted",
            delay_s=float(opts.get("delay", 0.0)),
            reply_tokens=int(opts.get("tokens", 24)),
            fail=opts.get("fail"),
            n_ctx=int(opts.get("ctx", 4096)),
            reply=opts.get("reply"),
            max_slots=int(opts.get("slots", 0)),
        )

    def describe(self) -> ModelInfo:
        return ModelInfo(
            name=self._name,
            path=None,
            architecture="scripted",
            family="Scripted",
            display_name=f"Scripted {self._name}",
            parameters=1_000_000,
            quantization="none",
            context_length=self._n_ctx,
            chat_template="{{ messages }}",
            source="scripted",
        )

    @property
    def template(self) -> TemplateInUse:
        return TemplateInUse(source="builtin:scripted", text=None)

    @property
    def n_ctx(self) -> int:
        return self._n_ctx

    def render_chat(self, messages: Sequence[Message]) -> str:
        lines = [f"<{m['role']}>{m['content']}" for m in messages]
        return "\n".join(lines) + "\n<assistant>"

    def count_chat_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.render_chat(messages).split())

    def reply_for(self, messages: Sequence[Message], params: GenerationParams) -> list[str]:
        """The tokens this engine will stream for `messages` (deterministic)."""
        if self.reply is not None:
            words = self.reply.split(" ")
            return [(" " if i else "") + w for i, w in enumerate(words)]
        seed = _digest(self._name, self.render_chat(messages), str(params.temperature), str(params.seed))
        words = [_WORDS[b % len(_WORDS)] for b in seed]
        words = (words * (self.reply_tokens // len(words) + 1))[: self.reply_tokens]
        return [(" " if i else "") + w for i, w in enumerate(words)]

    def _begin(self, messages: Sequence[Message], params: GenerationParams) -> tuple[int, list[str], str]:
        """Prompt tokens, the tokens to stream and the finish reason if nothing interrupts them."""
        self.calls.append([dict(m) for m in messages])
        prompt_tokens = self.count_chat_tokens(messages)
        if prompt_tokens >= self._n_ctx:
            raise ContextOverflowError(
                f"{self._name}: prompt is {prompt_tokens} tokens, context is {self._n_ctx}"
            )
        tokens = self.reply_for(messages, params)
        finish = "stop" if params.max_tokens >= len(tokens) else "length"
        return prompt_tokens, tokens[: params.max_tokens], finish

    def stream_chat(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        should_stop: ShouldStop | None = None,
    ) -> Iterator[Chunk]:
        prompt_tokens, tokens, finish = self._begin(messages, params)
        start = time.perf_counter()
        ttft = 0.0
        produced = 0
        for token in tokens:
            if should_stop is not None and should_stop():
                finish = "cancelled"
                break
            if self.delay_s:
                time.sleep(self.delay_s)
            if self.fail == "stream" and produced == 3:
                raise EngineError(f"{self._name}: scripted failure mid-stream")
            if produced == 0:
                ttft = time.perf_counter() - start
            produced += 1
            yield Chunk(text=token)
        total = time.perf_counter() - start
        yield Chunk(stats=Stats(prompt_tokens, produced, ttft, max(total, ttft), finish))

    def generate_many(
        self,
        requests: Sequence[GenerationRequest],
        parallel: int = 1,
        should_stop: ShouldStop | None = None,
        on_note: NoteSink | None = None,
    ) -> Iterator[tuple[int, GenerationResult]]:
        slots = max(1, min(parallel, len(requests)))
        if self.max_slots and slots > self.max_slots:
            if on_note is not None:
                on_note(f"{self._name}: generating {self.max_slots} at once instead of {slots} (its limit)")
            slots = self.max_slots
        queue = deque(enumerate(requests))
        active: dict[int, _Reply] = {}
        while queue or active:
            if should_stop is not None and should_stop():
                for index, reply in active.items():
                    yield index, reply.result(time.perf_counter(), "cancelled")
                for index, _ in queue:
                    yield index, GenerationResult("", CANCELLED_BEFORE_START)
                return
            while queue and len(active) < slots:
                index, request = queue.popleft()
                start = time.perf_counter()
                try:
                    active[index] = _Reply(*self._begin(request.messages, request.params), start=start)
                except ContextOverflowError as exc:
                    yield index, failed_result(exc, time.perf_counter() - start)
            self.most_in_flight = max(self.most_in_flight, len(active))
            if self.delay_s and active:
                time.sleep(self.delay_s)  # one step of a batch: every sequence makes one token
            now = time.perf_counter()
            for index, reply in list(active.items()):
                if len(reply.pieces) < len(reply.tokens):
                    if self.fail == "stream" and len(reply.pieces) == 3:
                        raise EngineError(f"{self._name}: scripted failure mid-stream")
                    reply.pieces.append(reply.tokens[len(reply.pieces)])
                    reply.ttft = reply.ttft or now - reply.start
                if len(reply.pieces) == len(reply.tokens):
                    del active[index]
                    yield index, reply.result(now, reply.finish)

    def score_options(self, context: str, options: Sequence[str]) -> list[OptionScore]:
        scores = []
        for option in options:
            noise = int.from_bytes(_digest(self._name, context, option)[:4], "big") / 2**32
            n_tokens = max(len(option.split()), 1)
            scores.append(OptionScore(-(n_tokens + noise * 3), n_tokens, len(option), False))
        return scores

    def set_threads(self, n_threads: int) -> None:
        self.threads = n_threads

    def close(self) -> None:
        self.closed = True
