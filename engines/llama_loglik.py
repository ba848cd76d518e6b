"""Log-likelihood of answer options from llama.cpp logits, without `logits_all`.

`score_requests(llm, [(context, options), ...])` returns, for each request, the summed log-probability
of each option's tokens after the context (an `OptionScore` per option).

How (and why this way):
- Tokenisation follows lm-eval: trailing spaces of the context move to the option, the context is
  tokenised alone and the option's tokens are the tail of `tokenize(context + option)` after the
  context's tokens, so BPE merges across the boundary land in the option.
- A separate llama.cpp context with several sequences and a unified KV cache does the scoring (the
  `Llama` object's own context has one sequence, and `logits_all` would store n_ctx x n_vocab floats).
  Sequence 0 holds the longest shared prefix of the current batch (the instruction and few-shot
  exemplars), evaluated once and kept between batches and calls; each item's sequences start as
  cheap copies of it (`llama_memory_seq_cp` only tags KV cells).
- Several items go into one `llama_decode`: each item's remaining context tokens belong to all of
  its option sequences, then each multi-token option continues on its own sequence. Logits are
  requested only where a scored token is predicted (the context's last token and the option tokens
  but the last), so a one-token option costs no extra evaluation at all.
- Items are packed after sorting by their tokens (so shared prefixes are batched together) and the
  batches run longest first, so a context overflow shows up at once, not after minutes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from engines.base import ContextOverflowError, EngineError, OptionScore
from engines.llama_ctx import common_prefix as _lcp
from engines.llama_ctx import put_token, side_context, sync_threads

N_SEQ_MAX = 32  # sequences in the scoring context: seq 0 is the shared prefix, the rest carry options
BATCH_TOKENS = 512  # tokens packed into one decode (a single longer item still goes alone)
UBATCH = 512


@dataclass
class _Request:
    index: int
    ctx: list[int]
    conts: list[list[int]]
    n_chars: list[int]

    @property
    def extra_tokens(self) -> int:
        """Option tokens that must be evaluated (all but the last of each option)."""
        return sum(len(c) - 1 for c in self.conts)

    @property
    def n_seqs(self) -> int:
        return max(sum(1 for c in self.conts if len(c) > 1), 1)


class _Scorer:
    """The scoring context attached to one `Llama` object (created on first use, freed with it)."""

    def __init__(self, llm: Any) -> None:
        import llama_cpp

        self._llama_cpp = llama_cpp
        self.llm = llm
        self.n_ctx = int(llm.n_ctx())
        self.n_vocab = int(llm.n_vocab())
        # All sequences share one n_ctx-sized cache; any item that fits the context fits one decode.
        self.ctx = side_context(
            llm, n_seq_max=N_SEQ_MAX, n_batch=self.n_ctx, n_ubatch=min(UBATCH, self.n_ctx)
        )
        self.memory = llama_cpp.llama_get_memory(self.ctx.ctx)
        self.batch = llama_cpp.llama_batch_init(self.n_ctx, 0, N_SEQ_MAX)
        self.anchor: list[int] = []  # tokens held by sequence 0
        model = llm._model
        self.fallback_first = model.token_bos() if model.token_bos() >= 0 else model.token_eos()
        self._closed = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._llama_cpp.llama_batch_free(self.batch)
        self.ctx.close()

    # ---------------------------------------------------------------------------------- tokens

    def _tokenize(self, text: str, add_bos: bool = True) -> list[int]:
        # special=True: prompts rendered with a chat template carry control tokens as text.
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=True))

    def encode(self, index: int, context: str, options: Sequence[str]) -> _Request:
        spaces = len(context) - len(context.rstrip())
        moved = context[len(context) - spaces :] if spaces else ""
        context = context[: len(context) - spaces]
        ctx = self._tokenize(context)
        if not ctx:
            ctx = [self.fallback_first]  # nothing to condition on: start from BOS (or EOS)
        conts = []
        for option in options:
            cont = self._tokenize(context + moved + option)[len(ctx) :] if context else []
            if not cont:
                cont = self._tokenize(moved + option, add_bos=False)
            if not cont:
                raise EngineError("cannot score an empty option")
            conts.append(cont)
        return _Request(index, ctx, conts, [len(o) for o in options])

    # --------------------------------------------------------------------------------- batches

    def _pack(self, reqs: list[_Request], reuse_prefix: bool) -> list[list[_Request]]:
        batches: list[list[_Request]] = []
        current: list[_Request] = []
        prefix = 0
        for req in sorted(reqs, key=lambda r: r.ctx):
            need_alone = len(req.ctx) + req.extra_tokens
            if need_alone > self.n_ctx:
                raise ContextOverflowError(
                    f"a scoring prompt is {need_alone} tokens; the context window is {self.n_ctx} "
                    f"(raise --ctx or shorten the prompt)"
                )
            if current:
                new_prefix = (
                    min(prefix, _lcp(current[0].ctx, req.ctx), len(req.ctx) - 1) if reuse_prefix else 0
                )
                cost = sum(len(r.ctx) - new_prefix + r.extra_tokens for r in [*current, req])
                seqs = sum(r.n_seqs for r in current) + req.n_seqs
                if cost <= BATCH_TOKENS and seqs < N_SEQ_MAX and new_prefix + cost <= self.n_ctx:
                    current.append(req)
                    prefix = new_prefix
                    continue
                batches.append(current)
            current = [req]
            prefix = len(req.ctx) - 1 if reuse_prefix else 0
        if current:
            batches.append(current)
        # Longest first: an overflow or a slow item surfaces at the start.
        batches.sort(key=lambda b: -max(len(r.ctx) + r.extra_tokens for r in b))
        return batches

    def _set_anchor(self, tokens: list[int]) -> None:
        """Make sequence 0 hold exactly `tokens`, keeping the part it already has."""
        lib = self._llama_cpp
        keep = _lcp(self.anchor, tokens)
        if keep < len(self.anchor):
            lib.llama_memory_seq_rm(self.memory, 0, keep, -1)
            self.anchor = self.anchor[:keep]
        rest = tokens[keep:]
        if rest:
            for k, tok in enumerate(rest):
                put_token(self.batch, k, tok, keep + k, (0,), False)
            self.batch.n_tokens = len(rest)
            self._decode()
            self.anchor = list(tokens)

    def _decode(self) -> None:
        code = self._llama_cpp.llama_decode(self.ctx.ctx, self.batch)
        if code != 0:
            self.reset()
            raise EngineError(f"llama.cpp could not evaluate a scoring batch (llama_decode returned {code})")

    def reset(self) -> None:
        self._llama_cpp.llama_memory_clear(self.memory, True)
        self.anchor = []

    def _log_softmax_row(self, batch_index: int) -> np.ndarray:
        ptr = self._llama_cpp.llama_get_logits_ith(self.ctx.ctx, batch_index)
        if not ptr:
            raise EngineError("llama.cpp returned no logits for a scored position")
        row = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,)).astype(np.float64)
        top = row.max()
        return row - (top + np.log(np.exp(row - top).sum()))

    def run_batch(self, batch: list[_Request], reuse_prefix: bool) -> dict[int, list[OptionScore]]:
        lib = self._llama_cpp
        prefix = 0
        if reuse_prefix:
            prefix = min(len(r.ctx) - 1 for r in batch)
            for r in batch[1:]:
                prefix = min(prefix, _lcp(batch[0].ctx, r.ctx))
        self._set_anchor(batch[0].ctx[:prefix])
        b = self.batch
        n = 0
        next_seq = 1
        # (request, batch index of its last context token, [(option, seq, first batch index)])
        layout: list[tuple[_Request, int, dict[int, int]]] = []
        for req in batch:
            multi = [j for j, c in enumerate(req.conts) if len(c) > 1]
            seqs = list(range(next_seq, next_seq + req.n_seqs))
            next_seq += req.n_seqs
            for s in seqs:
                if prefix:
                    lib.llama_memory_seq_cp(self.memory, 0, s, -1, -1)
            tail = req.ctx[prefix:]
            for k, tok in enumerate(tail):
                put_token(b, n, tok, prefix + k, seqs, k == len(tail) - 1)
                n += 1
            last_ctx = n - 1
            option_rows: dict[int, int] = {}
            for j, s in zip(multi, seqs, strict=False):
                option_rows[j] = n
                for k, tok in enumerate(req.conts[j][:-1]):
                    put_token(b, n, tok, len(req.ctx) + k, (s,), True)
                    n += 1
            layout.append((req, last_ctx, option_rows))
        b.n_tokens = n
        try:
            self._decode()
            out: dict[int, list[OptionScore]] = {}
            for req, last_ctx, option_rows in layout:
                first = self._log_softmax_row(last_ctx)
                scores = []
                for j, cont in enumerate(req.conts):
                    logprob = float(first[cont[0]])
                    greedy = int(np.argmax(first)) == cont[0]
                    for k in range(1, len(cont)):
                        row = self._log_softmax_row(option_rows[j] + k - 1)
                        logprob += float(row[cont[k]])
                        greedy = greedy and int(np.argmax(row)) == cont[k]
                    scores.append(OptionScore(logprob, len(cont), req.n_chars[j], greedy))
                out[req.index] = scores
            return out
        finally:
            for s in range(1, next_seq):
                lib.llama_memory_seq_rm(self.memory, s, -1, -1)

    # ------------------------------------------------------------------------------------ public

    def score(
        self, requests: Sequence[tuple[str, Sequence[str]]], reuse_prefix: bool
    ) -> list[list[OptionScore]]:
        sync_threads(self.ctx, self.llm)
        # A request with more multi-token options than free sequences is scored in parts.
        parts: list[tuple[int, int, int]] = []  # (request, first option, end option)
        for index, (_, options) in enumerate(requests):
            step = max(N_SEQ_MAX - 1, 1)
            for start in range(0, max(len(options), 1), step):
                parts.append((index, start, min(start + step, len(options))))
        reqs = [
            self.encode(k, requests[i][0], list(requests[i][1])[a:b]) for k, (i, a, b) in enumerate(parts)
        ]
        if not reuse_prefix:
            self.reset()
        results: dict[int, list[OptionScore]] = {}
        for batch in self._pack(reqs, reuse_prefix):
            results.update(self.run_batch(batch, reuse_prefix))
        if not reuse_prefix:
            self.reset()
        merged: list[list[OptionScore]] = [[] for _ in requests]
        for k, (index, _, _) in enumerate(parts):
            merged[index].extend(results[k])
        return merged


def _scorer_for(llm: Any) -> _Scorer:
    scorer = getattr(llm, "_duel_loglik_scorer", None)
    if scorer is None or scorer._closed:
        scorer = _Scorer(llm)
        llm._duel_loglik_scorer = scorer
        # Freed with the Llama object, before its model (ExitStack callbacks run last-in first-out).
        llm._stack.callback(scorer.close)
    return scorer


def score_requests(
    llm: Any, requests: Sequence[tuple[str, Sequence[str]]], *, reuse_prefix: bool = True
) -> list[list[OptionScore]]:
    """Log-likelihood of each option after its context, for a `llama_cpp.Llama` (any logits_all).

    `reuse_prefix=False` evaluates every context from scratch (for measuring what the reuse saves).
    """
    if not requests:
        return []
    return _scorer_for(llm).score(requests, reuse_prefix)
