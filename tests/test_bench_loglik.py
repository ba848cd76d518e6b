"""engines.llama_loglik against a direct computation from llama.cpp logits (logits_all + numpy).

The batched scorer (several items per decode, shared prefix in sequence 0, options on their own
sequences) must give the log-probabilities a plain full-logits evaluation of context + option gives.
On a float32 tiny model that holds to 1e-3 for any batch layout. On the bundled SmolLM2 (Q4_1)
llama.cpp quantises activations to 8 bits per block in batched matrix products, so a token's logits
move by up to ~0.1 nat with the batch it shares (measured here); one request per call is still exact
to 1e-3, and mixed batches are checked against a bound that a sequence mix-up (an item attending to
another item's tokens) would blow by whole nats.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engines.llama_loglik import score_requests

HEAD = "Classify the sentiment of each customer post as positive, negative or neutral.\n\n"
REQUESTS: list[tuple[str, list[str]]] = [
    (
        HEAD + "Post: The flight was late again and nobody told us why.\nSentiment:",
        [" positive", " negative", " neutral"],
    ),
    (
        HEAD + "Post: Great service, thanks!\nSentiment:",
        [" positive", " negative", " mixed feelings overall"],
    ),
    ("The capital of France is", [" Paris", " Lyon and Marseille", "Paris"]),
    (HEAD + "Post: ok\nSentiment: ", ["positive", "negative"]),  # trailing space moves into the option
    ("", ["Hello there"]),  # no context: scored after BOS / EOS
]


def _llama(path: Path, logits_all: bool = False) -> Any:
    from engines.llama_cpp_engine import load_llama  # weights placed as duel places them

    llm, _ = load_llama(path, n_ctx=512, n_threads=2, n_threads_batch=2, logits_all=logits_all)
    return llm


def _direct(ref: Any, context: str, option: str) -> float:
    """Sum of log-softmax over full logits, with lm-eval's split of context and option tokens."""
    spaces = len(context) - len(context.rstrip())
    if spaces:
        option, context = context[-spaces:] + option, context[:-spaces]
    ctx = ref.tokenize(context.encode(), add_bos=True, special=True) if context else []
    if not ctx:
        bos = ref.token_bos()
        ctx = [bos if bos >= 0 else ref.token_eos()]
        cont = ref.tokenize(option.encode(), add_bos=False, special=True)
    else:
        cont = ref.tokenize((context + option).encode(), add_bos=True, special=True)[len(ctx) :]
    tokens = ctx + cont
    ref.reset()
    ref.eval(tokens)
    logits = np.array(ref.scores[: len(tokens)], dtype=np.float64)
    top = logits.max(axis=1, keepdims=True)
    logp = logits - (top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True)))
    return float(sum(logp[len(ctx) - 1 + k, tok] for k, tok in enumerate(cont)))


def _worst(ref: Any, requests: Sequence[tuple[str, Sequence[str]]], got: list[list[Any]]) -> float:
    worst = 0.0
    for (context, options), scores in zip(requests, got, strict=True):
        assert len(scores) == len(options)
        for option, score in zip(options, scores, strict=True):
            worst = max(worst, abs(_direct(ref, context, option) - score.logprob))
    return worst


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.tiny_models import write_tiny_model

    return write_tiny_model("qwen2", tmp_path_factory.mktemp("tiny") / "tiny-qwen2.gguf")


def test_batched_scores_match_full_logits_on_float_model(tiny_model: Path) -> None:
    llm, ref = _llama(tiny_model), _llama(tiny_model, logits_all=True)
    requests = REQUESTS * 2  # many items per batch, repeated prefixes, several sequences each
    for reuse in (True, False):
        got = score_requests(llm, requests, reuse_prefix=reuse)
        assert _worst(ref, requests, got) < 1e-3
    # Calls keep the shared prefix in the KV cache between them; results must not depend on it.
    again = score_requests(llm, requests[::-1])
    assert _worst(ref, requests[::-1], again) < 1e-3
    scores = got[2]
    assert scores[1].n_tokens > 1 and scores[1].n_chars == len(" Lyon and Marseille")


def test_more_options_than_sequences(tiny_model: Path) -> None:
    llm, ref = _llama(tiny_model), _llama(tiny_model, logits_all=True)
    request = ("Pick a number:", [f" number {k}" for k in range(40)])  # 40 multi-token options > 31 sequences
    got = score_requests(llm, [request, REQUESTS[0]])
    assert len(got[0]) == 40 and len(got[1]) == 3
    assert _worst(ref, [request, REQUESTS[0]], got) < 1e-3


def test_greedy_flag_and_overflow(tiny_model: Path) -> None:
    from engines.base import ContextOverflowError

    llm = _llama(tiny_model)
    (scores,) = score_requests(llm, [("The capital of France is", [" Paris", " Rome", " Oslo"])])
    ref = _llama(tiny_model, logits_all=True)
    ctx = ref.tokenize(b"The capital of France is", add_bos=True, special=True)
    ref.eval(ctx)
    best = int(np.argmax(ref.scores[len(ctx) - 1]))
    for option, score in zip((" Paris", " Rome", " Oslo"), scores, strict=True):
        token = ref.tokenize(("The capital of France is" + option).encode(), add_bos=True, special=True)[
            len(ctx) :
        ]
        assert score.is_greedy == (token == [best])
    with pytest.raises(ContextOverflowError):
        score_requests(llm, [("word " * 600, [" x"])])


@pytest.mark.e2e
def test_smollm2_scores_match_full_logits(bundled_models: dict[str, Path]) -> None:
    path = bundled_models["smollm2-135m"]
    llm, ref = _llama(path), _llama(path, logits_all=True)
    # One request per call (prefix kept between calls): exact to 1e-3.
    for request in REQUESTS:
        got = score_requests(llm, [request])
        assert _worst(ref, [request], got) < 1e-3
    # Mixed batches: within the quantisation noise of batched products (see module docstring).
    got = score_requests(llm, REQUESTS)
    assert _worst(ref, REQUESTS, got) < 0.5
