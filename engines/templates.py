"""Chat templates, rendered the way model authors wrote them but inside a locked sandbox.

A GGUF file carries its chat template (`tokenizer.chat_template`) as Jinja source written by whoever
published the file, so it is untrusted code: it renders only in an `ImmutableSandboxedEnvironment`.
We render it ourselves instead of letting llama-cpp-python do it, because llama-cpp-python silently
falls back to the "llama-2" format when a file has none; here a missing template becomes a named
builtin that callers show to the user (`TemplateInUse.source == "builtin:chatml"`).

The environment mirrors the conventions of Hugging Face chat templates (which is what GGUF templates
are): trim/lstrip blocks, loop controls, `raise_exception`, `strftime_now`, a `tojson` that keeps
non-ASCII text as is, and the no-op `{% generation %}` block some training templates use.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from engines.base import EngineError, Message, TemplateInUse

# ChatML: the format of Qwen, SmolLM2 and many fine-tunes; the least surprising guess for a file
# without a template. Its end-of-turn marker is a stop string, since the vocabulary may lack it.
CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)

BUILTIN_TEMPLATES: dict[str, tuple[str, tuple[str, ...]]] = {
    # name -> (template source, stop strings that end a turn)
    "chatml": (CHATML, ("<|im_end|>",)),
}
DEFAULT_BUILTIN = "chatml"

# End-of-turn markers seen in common templates. When one appears in a template and is a single
# token of the vocabulary, generation stops on that token (llama.cpp's own end-of-generation list
# usually has it already; this covers files whose metadata forgot to flag it).
END_OF_TURN_MARKERS = ("<|im_end|>", "<|eot_id|>", "<end_of_turn>", "<|end|>", "<|endoftext|>", "</s>")


class TemplateRaised(Exception):
    """A template called `raise_exception(...)`: it refuses this conversation."""


class _GenerationBlock(jinja2.ext.Extension):
    """`{% generation %}...{% endgeneration %}` marks assistant text for training; render the body."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> list[jinja2.nodes.Node]:
        next(parser.stream)  # the `generation` name itself
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


class _StrictSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, but an unsafe attribute is an error rather than a blank.

    Jinja's sandbox answers `{{ ''.__class__ }}` with an Undefined that prints as nothing, so a
    template probing for escapes would render quietly. We want such a file reported.
    """

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")


def _raise_exception(message: str) -> None:
    raise TemplateRaised(message)


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _tojson(value: Any, ensure_ascii: bool = False, indent: int | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    # Jinja's own tojson HTML-escapes quotes and angle brackets, which changes the prompt text.
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators,
                      sort_keys=sort_keys)


def _environment() -> _StrictSandbox:
    env = _StrictSandbox(
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[jinja2.ext.loopcontrols, _GenerationBlock],
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


class ChatTemplate:
    """A compiled chat template plus what the engine needs to know to stop a turn."""

    def __init__(
        self,
        source_text: str,
        source: str,
        *,
        bos_token: str = "",
        eos_token: str = "",
        stop_strings: tuple[str, ...] = (),
        origin: str = "model",
    ) -> None:
        self.text = source_text
        self.source = source
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.stop_strings = stop_strings
        self._origin = origin  # named in error messages ("the chat template of X.gguf")
        try:
            self._compiled = _environment().from_string(source_text)
        except jinja2.TemplateSyntaxError as exc:
            raise EngineError(
                f"the chat template of {origin} does not compile (line {exc.lineno}: {exc.message})"
            ) from exc

    @property
    def in_use(self) -> TemplateInUse:
        return TemplateInUse(source=self.source, text=self.text)

    @property
    def end_of_turn_markers(self) -> tuple[str, ...]:
        """Markers from END_OF_TURN_MARKERS that this template writes."""
        return tuple(m for m in END_OF_TURN_MARKERS if m in self.text)

    def render(self, messages: Sequence[Message], add_generation_prompt: bool = True) -> str:
        plain = [dict(m) for m in messages]  # templates get plain dicts, never our objects
        try:
            return self._compiled.render(
                messages=plain,
                add_generation_prompt=add_generation_prompt,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except TemplateRaised as exc:
            raise EngineError(
                f"the chat template of {self._origin} rejected the conversation: {exc}"
            ) from exc
        except SecurityError as exc:
            raise EngineError(
                f"the chat template of {self._origin} tried something unsafe and was stopped: {exc}"
            ) from exc
        except Exception as exc:  # any other failure inside untrusted template code
            raise EngineError(
                f"the chat template of {self._origin} failed: {type(exc).__name__}: {exc}"
            ) from exc


def builtin_template(name: str = DEFAULT_BUILTIN, **tokens: str) -> ChatTemplate:
    if name not in BUILTIN_TEMPLATES:
        raise EngineError(f"unknown builtin chat template {name!r} (known: {', '.join(BUILTIN_TEMPLATES)})")
    text, stops = BUILTIN_TEMPLATES[name]
    return ChatTemplate(text, f"builtin:{name}", stop_strings=stops, origin=f"builtin:{name}", **tokens)


def template_for_model(
    gguf_template: str | None, *, bos_token: str = "", eos_token: str = "", origin: str = "model"
) -> ChatTemplate:
    """The model's own template when it has one, else the default builtin (reported as such)."""
    if gguf_template and gguf_template.strip():
        return ChatTemplate(gguf_template, "gguf", bos_token=bos_token, eos_token=eos_token, origin=origin)
    return builtin_template(DEFAULT_BUILTIN, bos_token=bos_token, eos_token=eos_token)
