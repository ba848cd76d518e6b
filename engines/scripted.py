"""A deterministic engine with no model behind it.

Used by tests (TUI pilots, runner tests, snapshots) and by anyone who wants to try the interface
without weights: `-m scripted:alpha`. Its replies and scores depend only on its name and the input,
so two runs give the same bytes. Options in the reference tune it:
`scripted:NAME?delay=0.01&tokens=40&fail=load|stream&ctx=2048&reply=TEXT`; `reply` makes it
answer TEXT to everything (a judge that always says "[[A]]", say).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from urllib.parse import parse_qs

from engines.base import (
    Chunk,
    ContextOverflowError,
    Engine,
    EngineError,
    GenerationParams,
    Message,
    OptionScore,
    ShouldStop,
    Stats,
    TemplateInUse,
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

    def stream_chat(
        self,
        messages: Sequence[Message],
        params: GenerationParams,
        should_stop: ShouldStop | None = None,
    ) -> Iterator[Chunk]:
        self.calls.append([dict(m) for m in messages])
        prompt_tokens = self.count_chat_tokens(messages)
        if prompt_tokens >= self._n_ctx:
            raise ContextOverflowError(
                f"{self._name}: prompt is {prompt_tokens} tokens, context is {self._n_ctx}"
            )
        start = time.perf_counter()
        ttft = 0.0
        produced = 0
        finish = "length"
        tokens = self.reply_for(messages, params)
        if params.max_tokens >= len(tokens):
            finish = "stop"
        for token in tokens[: params.max_tokens]:
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
