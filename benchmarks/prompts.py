"""How a suite item becomes a prompt, for log-likelihood scoring and for generation.

Log-likelihood prompts are raw completions (no chat template), in the layout lm-eval uses for MMLU:
the options are scored as continuations (" positive", " B") of a context ending in "Sentiment:" or
"Answer:". Generation prompts are chat messages rendered by the model's own template.

Few-shot exemplars (`--shots K`) come from the same suite in one fixed order (by a hash of the item id),
skipping the item being asked: nearly every item then shares the same K-shot prefix, which the
log-likelihood scorer evaluates once and reuses from the KV cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from benchmarks.results import SentPrompt
from benchmarks.suites import LETTERS, Item, Suite
from engines.base import GenerationParams, Message

#: Bumped whenever a template below changes wording (it is part of every cached result's key).
TEMPLATE_VERSION = "p1"

MAX_TOKENS = {"classify": 8, "mc": 8, "math": 256, "summarize": 160}
FEWSHOT_TASKS = ("classify", "mc", "math")


@dataclass(frozen=True)
class LoglikPrompt:
    context: str
    options: tuple[str, ...]  # continuations scored after the context
    answers: tuple[str, ...]  # the label / letter each option stands for


@dataclass(frozen=True)
class ChatPrompt:
    messages: tuple[Message, ...]
    params: GenerationParams


def prompt_hash(prompt: LoglikPrompt | ChatPrompt) -> str:
    if isinstance(prompt, LoglikPrompt):
        payload: object = [TEMPLATE_VERSION, prompt.context, list(prompt.options)]
    else:
        p = prompt.params
        payload = [
            TEMPLATE_VERSION,
            list(prompt.messages),
            p.max_tokens,
            p.temperature,
            p.top_p,
            p.seed,
            list(p.stop),
        ]
    return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:24]


def sent_prompt(prompt: LoglikPrompt | ChatPrompt, rendered: str | None = None) -> SentPrompt:
    """What is stored of a prompt: all of it, and for chat the text the model's template made of it."""
    if isinstance(prompt, LoglikPrompt):
        return SentPrompt("loglik", context=prompt.context, options=prompt.options, answers=prompt.answers)
    p = prompt.params
    params = {"max_tokens": p.max_tokens, "temperature": p.temperature, "top_p": p.top_p, "seed": p.seed,
              "stop": list(p.stop)}
    return SentPrompt("chat", messages=prompt.messages, params=params, rendered=rendered)


def exemplars_for(suite: Suite, item: Item, shots: int) -> list[Item]:
    """The first `shots` items of the suite's fixed exemplar order, never the item itself."""
    if shots <= 0 or suite.task not in FEWSHOT_TASKS:
        return []
    order = sorted(suite.items, key=lambda i: hashlib.sha256(f"shot:{i.id}".encode()).hexdigest())
    return [i for i in order if i.id != item.id][:shots]


def _mc_block(item: Item) -> str:
    lines = [item.text.strip()]
    lines += [f"{LETTERS[k]}. {choice}" for k, choice in enumerate(item.choices)]
    return "\n".join(lines)


def _instruction(suite: Suite) -> str:
    if suite.manifest.instruction:
        return suite.manifest.instruction
    if suite.task == "classify":
        return f"Classify each text as one of: {', '.join(suite.labels)}."
    return ""


# ------------------------------------------------------------------------------------ log-likelihood


def loglik_prompt(suite: Suite, item: Item, exemplars: list[Item]) -> LoglikPrompt:
    m = suite.manifest
    if suite.task == "classify":
        blocks = [f"{m.input_name}: {e.text}\n{m.answer_name}: {e.target}" for e in exemplars]
        blocks.append(f"{m.input_name}: {item.text}\n{m.answer_name}:")
        context = _instruction(suite) + "\n\n" + "\n\n".join(blocks)
        return LoglikPrompt(context, tuple(f" {label}" for label in suite.labels), suite.labels)
    if suite.task == "mc":
        blocks = [f"{_mc_block(e)}\n{m.answer_name}: {e.target}" for e in exemplars]
        blocks.append(f"{_mc_block(item)}\n{m.answer_name}:")
        context = _instruction(suite) + "\n\n" + "\n\n".join(blocks)
        letters = tuple(LETTERS[: len(item.choices)])
        return LoglikPrompt(context, tuple(f" {x}" for x in letters), letters)
    raise ValueError(f"task {suite.task} is scored by generation")


# ----------------------------------------------------------------------------------------- generation


def _classify_user(suite: Suite, text: str) -> str:
    m = suite.manifest
    return (
        f"{_instruction(suite)}\nAnswer with one word: {', '.join(suite.labels)}.\n\n{m.input_name}: {text}"
    )


def _mc_user(item: Item) -> str:
    letters = LETTERS[: len(item.choices)]
    return (
        f"Answer the multiple choice question with the letter of the correct option "
        f"({', '.join(letters)}) only.\n\n{_mc_block(item)}"
    )


def _math_user(suite: Suite, item: Item) -> str:
    return f"{_instruction(suite)}\n\nQuestion: {item.text}"


def _summary_user(suite: Suite, item: Item) -> str:
    title = item.extra.get("title")
    head = f"Title: {title}\n\n" if title else ""
    return f"{_instruction(suite)}\n\n{head}{item.text}"


def chat_prompt(suite: Suite, item: Item, exemplars: list[Item], max_tokens: int | None = None) -> ChatPrompt:
    """Greedy, bounded generation (temperature 0: the same model gives the same answer every time)."""
    task = suite.task
    messages: list[Message] = []
    for ex in exemplars:
        if task == "classify":
            messages += [
                {"role": "user", "content": _classify_user(suite, ex.text)},
                {"role": "assistant", "content": ex.target},
            ]
        elif task == "mc":
            messages += [
                {"role": "user", "content": _mc_user(ex)},
                {"role": "assistant", "content": ex.target},
            ]
        elif task == "math":
            messages += [
                {"role": "user", "content": _math_user(suite, ex)},
                {"role": "assistant", "content": ex.extra.get("solution", f"#### {ex.target}")},
            ]
    if task == "classify":
        messages.append({"role": "user", "content": _classify_user(suite, item.text)})
    elif task == "mc":
        messages.append({"role": "user", "content": _mc_user(item)})
    elif task == "math":
        messages.append({"role": "user", "content": _math_user(suite, item)})
    else:
        messages.append({"role": "user", "content": _summary_user(suite, item)})
    params = GenerationParams(max_tokens=max_tokens or MAX_TOKENS[task], temperature=0.0, top_p=1.0, seed=0)
    return ChatPrompt(tuple(messages), params)
