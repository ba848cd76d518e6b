"""duel's log-likelihood scoring side by side with lm-evaluation-harness, on the same GGUF files and items.

    python perf/vs_lm_eval.py [--items 60] [--models qwen2.5-coder-0.5b smollm2-135m] [--gguf-server 4]

What is compared, per bundled model:
- the items: duel's built-in `sentiment` suite, 60 items sampled as `duel bench sentiment --limit 60
  --seed 0` samples them, each as duel's log-likelihood prompt (benchmarks/prompts.py
  `loglik_prompt`: the instruction, the post, "Sentiment:"), options " positive", " negative",
  " neutral";
- duel: the engine duel runs (`LlamaCppEngine.score_many`, 16 items per call as a run does: shared
  prefix kept in the KV cache, several items per llama.cpp batch);
- lm-eval: a `ConfigurableTask` (output_type multiple_choice, the same contexts and choices from a
  local in-memory dataset) run by `lm_eval.simple_evaluate` through its whole request machinery
  (Instances, `TemplateLM` tokenisation with trailing spaces moved to the continuation, metrics), on
  `LlamaCppLM` below: an `lm_eval` LM that scores each (context, continuation) request the
  straightforward way lm-eval's HF model does: a full evaluation of context + continuation (no cache
  between requests), the sum of the continuation tokens' log-probabilities, and whether each was the
  argmax (is_greedy), in process with llama-cpp-python.
It prints the agreement of the predicted labels, the largest log-probability difference, items/s of
each, and last `lm_eval_agreement=... lm_eval_speedup_qwen=... lm_eval_speedup_smol=...`.

`--gguf-server N` also runs lm-eval's own `gguf` model type against llama-cpp-python's OpenAI server
(`python -m llama_cpp.server`) on N items and prints its scores next to the in-process ones.

Needs the optional extra: pip install 'duel[compare]' (lm-eval 0.4.x; no torch).
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TASK = "duel_sentiment"
N_CTX = 512  # every sentiment prompt fits; logits_all keeps n_ctx x n_vocab floats (Qwen: 311 MB)
SHORT = {"qwen2.5-coder-0.5b": "qwen", "smollm2-135m": "smol"}


def _lm_class() -> type:
    """`LlamaCppLM`, defined once lm_eval is importable."""
    from lm_eval.api.model import TemplateLM

    class LlamaCppLM(TemplateLM):
        """lm-eval's LM interface on llama-cpp-python in process: one full evaluation per request."""

        def __init__(self, path: Path, threads: int) -> None:
            super().__init__()
            from engines.llama_cpp_engine import load_llama

            # Through duel's loader, so both sides get the same weight placement for this CPU.
            self.llm, _ = load_llama(
                path, n_ctx=N_CTX, n_threads=threads, n_threads_batch=threads, logits_all=True,
            )
            self.seconds = 0.0  # time spent in loglikelihood requests

        @property
        def eot_token_id(self) -> int:
            return int(self.llm.token_eos())

        def tok_encode(self, string: str, add_special_tokens: bool | None = None, **kwargs: Any) -> list[int]:
            # BOS as the model's vocabulary asks (llama.cpp's add_special), special tokens parsed: as duel.
            return list(self.llm.tokenize(string.encode("utf-8"), add_bos=add_special_tokens is not False,
                                          special=True))

        def _loglikelihood_tokens(self, requests: list, disable_tqdm: bool = False, **kwargs: Any) -> list:
            start = time.perf_counter()
            out = []
            for _, context_enc, continuation_enc in requests:
                tokens = (context_enc + continuation_enc)[-N_CTX:]
                self.llm.reset()  # a full evaluation: nothing kept from the request before
                self.llm.eval(tokens[:-1])
                logits = np.asarray(self.llm.scores[: len(tokens) - 1], dtype=np.float64)
                rows = logits[len(tokens) - 1 - len(continuation_enc) :]
                top = rows.max(axis=1, keepdims=True)
                logprobs = rows - (top + np.log(np.exp(rows - top).sum(axis=1, keepdims=True)))
                picked = logprobs[np.arange(len(continuation_enc)), continuation_enc]
                greedy = bool(np.all(rows.argmax(axis=1) == np.asarray(continuation_enc)))
                out.append((float(picked.sum()), greedy))
            self.seconds += time.perf_counter() - start
            return out

        def loglikelihood_rolling(self, requests: list, disable_tqdm: bool = False) -> list:
            raise NotImplementedError("not needed for multiple-choice scoring")

        def generate_until(self, requests: list, disable_tqdm: bool = False) -> list:
            raise NotImplementedError("not needed for multiple-choice scoring")

    return LlamaCppLM


def duel_items(n: int) -> tuple[list[Any], list[Any]]:
    """The items `duel bench sentiment --limit n --seed 0` scores, and duel's prompt for each."""
    from benchmarks.prompts import loglik_prompt
    from benchmarks.runner import select_items
    from benchmarks.suites import load_suite

    suite = load_suite("sentiment")
    items = select_items(suite, n, 0)
    return items, [loglik_prompt(suite, item, []) for item in items]


def lm_eval_task(prompts: list[Any], items: list[Any]) -> Any:
    """A ConfigurableTask whose documents are duel's prompts: context, choices (labels), answer index."""
    import datasets
    from lm_eval.api.task import ConfigurableTask

    labels = list(prompts[0].answers)
    docs = [
        {"context": p.context, "choices": labels, "label": labels.index(item.target), "id": item.id}
        for p, item in zip(prompts, items, strict=True)
    ]
    assert all(p.options == tuple(f" {label}" for label in labels) for p in prompts)
    config = {
        "task": TASK,
        "custom_dataset": lambda **_: {"test": datasets.Dataset.from_list(docs)},
        "test_split": "test",
        "output_type": "multiple_choice",
        "doc_to_text": "context",
        "doc_to_choice": "choices",
        "doc_to_target": "label",
        "target_delimiter": " ",  # continuation = " " + label, duel's option text
        "metric_list": [{"metric": "acc", "aggregation": "mean", "higher_is_better": True}],
    }
    return ConfigurableTask(config=config)


def run_lm_eval(lm: Any, task: Any) -> tuple[list[list[float]], float, float]:
    """(per item: the log-likelihood of each choice, lm-eval's accuracy, wall seconds of simple_evaluate)."""
    from lm_eval import simple_evaluate

    start = time.perf_counter()
    out = simple_evaluate(model=lm, tasks=[task], log_samples=True, bootstrap_iters=0, verbosity="ERROR")
    wall = time.perf_counter() - start
    samples = sorted(out["samples"][TASK], key=lambda s: s["doc_id"])
    scores = [[float(r[0]) for r in s["filtered_resps"]] for s in samples]
    return scores, float(out["results"][TASK]["acc,none"]), wall


def run_duel(path: Path, prompts: list[Any], threads: int) -> tuple[list[list[float]], float]:
    """duel's scores of every option, as a run computes them (16 items per call), and the seconds taken."""
    from benchmarks.task import LOGLIK_CHUNK
    from engines.base import LoadOptions
    from engines.llama_cpp_engine import LlamaCppEngine

    engine = LlamaCppEngine(path, LoadOptions(n_ctx=4096, n_threads=threads))
    try:
        start = time.perf_counter()
        scores: list[list[float]] = []
        for k in range(0, len(prompts), LOGLIK_CHUNK):
            chunk = prompts[k : k + LOGLIK_CHUNK]
            for options in engine.score_many([(p.context, p.options) for p in chunk]):
                scores.append([o.logprob for o in options])
        return scores, time.perf_counter() - start
    finally:
        engine.close()


def compare(model: str, path: Path, n: int, threads: int) -> tuple[float, float]:
    """Print one model's comparison; (agreement, speedup of duel over lm-eval's scoring)."""
    items, prompts = duel_items(n)
    labels = prompts[0].answers
    duel_scores, duel_s = run_duel(path, prompts, threads)
    lm = _lm_class()(path, threads)
    lm_scores, lm_accuracy, lm_wall = run_lm_eval(lm, lm_eval_task(prompts, items))
    lm_s = lm.seconds
    del lm
    duel_pred = [labels[int(np.argmax(s))] for s in duel_scores]
    lm_pred = [labels[int(np.argmax(s))] for s in lm_scores]
    agree = sum(a == b for a, b in zip(duel_pred, lm_pred, strict=True)) / n
    disagreements = []
    for item, a, b, sa, sb in zip(items, duel_pred, lm_pred, duel_scores, lm_scores, strict=True):
        if a != b:  # how close each side's top two options were
            gap_a, gap_b = (float(np.diff(sorted(x)[-2:])[0]) for x in (sa, sb))
            disagreements.append(f"    {item.id}: duel {a} by {gap_a:.4f}, lm-eval {b} by {gap_b:.4f}")
    diff = np.abs(np.asarray(duel_scores) - np.asarray(lm_scores))
    duel_acc = sum(p == i.target for p, i in zip(duel_pred, items, strict=True)) / n
    print(f"{model} ({path.name}): {n} items x {len(labels)} options")
    print(f"  predictions agree on {agree:.3f} of the items ({round(agree * n)}/{n})")
    for line in disagreements:
        print(line)
    print(f"  log-probabilities: largest difference {diff.max():.4f}, mean {diff.mean():.4f}")
    print(f"  accuracy: duel {duel_acc:.3f}, lm-eval {lm_accuracy:.3f}")
    print(f"  duel     {duel_s:7.2f} s  {n / duel_s:6.2f} items/s  (engine.score_many, 16 items per call)")
    print(f"  lm-eval  {lm_s:7.2f} s  {n / lm_s:6.2f} items/s  (LM.loglikelihood; simple_evaluate in all "
          f"{lm_wall:.2f} s, {n / lm_wall:.2f} items/s)")
    return agree, lm_s / duel_s


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gguf_server_check(model: str, path: Path, n: int, threads: int) -> None:
    """lm-eval's own `gguf` model type against `python -m llama_cpp.server`, next to the in-process scores."""
    import requests
    from lm_eval.api.instance import Instance
    from lm_eval.models.gguf import GGUFLM

    items, prompts = duel_items(max(n, 3))
    prompts, items = prompts[:n], items[:n]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "engines.llama_server", "--model", str(path), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "1024", "--n_threads", str(threads),
         "--n_threads_batch", str(threads)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{url}/v1/models", timeout=2).ok:
                    break
            except requests.RequestException:
                time.sleep(1)
        else:
            print(f"  llama_cpp.server did not start for {model}")
            return
        reqs = [
            Instance("loglikelihood", {}, (p.context, option), k)
            for p in prompts for k, option in enumerate(p.options)
        ]
        client = GGUFLM(base_url=url)
        start = time.perf_counter()
        served = client.loglikelihood(reqs, disable_tqdm=True)
        server_s = time.perf_counter() - start
        # What the server sends back for the first request, as lm-eval reads it (gguf.py get_result:
        # the continuation is the tokens from the end of the context on, minus the last one).
        context, option = reqs[0].arguments
        raw = client.gguf_completion(context=context, continuation=option)["choices"][0]["logprobs"]
        tail = list(zip(raw["tokens"], raw["token_logprobs"], raw["text_offset"], strict=False))[-3:]
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:  # SIGTERM does not always stop it (LLAMA_CPP_NOTES.md)
            server.kill()
            server.wait()
    lm = _lm_class()(path, threads)
    local = lm.loglikelihood(reqs, disable_tqdm=True)
    print(f"{model}: lm-eval `gguf` through llama_cpp.server vs in process, {n} items x 3 options "
          f"({server_s:.1f} s through the server)")
    for req, (ll_server, _), (ll_local, _) in zip(reqs, served, local, strict=True):
        print(f"  {req.arguments[1]!r:12} server {ll_server:9.4f}   in process {ll_local:9.4f}")
    print(f"  the server's last tokens for {option!r} (token, logprob, text offset; context ends at "
          f"{len(context)}): {tail}")
    values = {round(ll, 6) for ll, _ in served}
    print(f"  distinct server scores: {len(values)} of {len(served)}"
          + (" (constant)" if len(values) == 1 else ""))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=60)
    parser.add_argument("--models", nargs="+", default=list(SHORT), choices=list(SHORT))
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--gguf-server", type=int, default=0, metavar="N",
                        help="also score N items with lm-eval's gguf model type through llama_cpp.server")
    args = parser.parse_args()
    try:
        import lm_eval  # noqa: F401
    except ImportError:
        print("perf/vs_lm_eval.py needs lm-eval 0.4.x: pip install 'duel[compare]'")
        return 2
    import llama_cpp

    from models.resolve import resolve

    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    print(llama_cpp.llama_print_system_info().decode().strip())
    print(f"threads {args.threads}, load average {os.getloadavg()[0]:.2f}")
    agreements, speedups = [], {}
    for model in args.models:
        path = Path(resolve(model).path or "")
        agree, speedup = compare(model, path, args.items, args.threads)
        agreements.append(agree)
        speedups[SHORT[model]] = speedup
        if args.gguf_server:
            gguf_server_check(model, path, args.gguf_server, args.threads)
    print(f"load average {os.getloadavg()[0]:.2f}")
    line = f"lm_eval_agreement={min(agreements):.3f}"
    line += "".join(f" lm_eval_speedup_{name}={value:.2f}" for name, value in speedups.items())
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
