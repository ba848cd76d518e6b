"""Chat templates render like the model authors wrote them, inside a sandbox that reports escapes."""

from __future__ import annotations

import pytest

from engines.base import EngineError
from engines.templates import CHATML, ChatTemplate, builtin_template, template_for_model

# The templates as the bundled GGUF files carry them (Qwen2.5's is shortened to its no-tools path).
SMOLLM2 = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, "
    "trained by Hugging Face<|im_end|>\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
QWEN_LIKE = (
    "{%- if messages[0]['role'] == 'system' %}\n"
    "    {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}\n"
    "{%- else %}\n"
    "    {{- '<|im_start|>system\\nYou are Qwen, created by Alibaba Cloud. "
    "You are a helpful assistant.<|im_end|>\\n' }}\n"
    "{%- endif %}\n"
    "{%- for message in messages %}\n"
    "    {%- if message.role != 'system' %}\n"
    "        {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}\n"
    "    {%- endif %}\n"
    "{%- endfor %}\n"
    "{%- if add_generation_prompt %}\n"
    "    {{- '<|im_start|>assistant\\n' }}\n"
    "{%- endif %}\n"
)
USER = [{"role": "user", "content": "Explain a hash map."}]


def test_smollm2_template_renders_its_default_system_prompt() -> None:
    text = ChatTemplate(SMOLLM2, "gguf").render(USER)
    assert text == (
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
        "<|im_start|>user\nExplain a hash map.<|im_end|>\n<|im_start|>assistant\n"
    )


def test_qwen_style_template_uses_the_given_system_message() -> None:
    messages = [{"role": "system", "content": "Be brief."}, *USER]
    text = ChatTemplate(QWEN_LIKE, "gguf").render(messages)
    assert text == (
        "<|im_start|>system\nBe brief.<|im_end|>\n"
        "<|im_start|>user\nExplain a hash map.<|im_end|>\n<|im_start|>assistant\n"
    )
    without_prompt = ChatTemplate(QWEN_LIKE, "gguf").render(messages, add_generation_prompt=False)
    assert not without_prompt.endswith("<|im_start|>assistant\n")


def test_bos_and_eos_tokens_reach_the_template() -> None:
    template = ChatTemplate("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}", "gguf",
                            bos_token="<s>", eos_token="</s>")
    assert template.render(USER) == "<s>Explain a hash map.</s>"


def test_helpers_templates_rely_on() -> None:
    source = ("{{ {'k': 'é<'} | tojson }}|{{ strftime_now('%Y') | length }}|"
              "{% for m in messages %}{% break %}{% endfor %}")
    assert ChatTemplate(source, "gguf").render(USER) == '{"k": "é<"}|4|'


def test_missing_template_falls_back_to_a_named_builtin() -> None:
    for missing in (None, "", "   "):
        template = template_for_model(missing)
        assert template.in_use.source == "builtin:chatml"
        assert template.in_use.text == CHATML
        assert template.stop_strings == ("<|im_end|>",)
    assert template_for_model(SMOLLM2).in_use.source == "gguf"
    assert template_for_model(SMOLLM2).in_use.text == SMOLLM2


def test_builtin_chatml_rendering() -> None:
    assert builtin_template().render(USER) == (
        "<|im_start|>user\nExplain a hash map.<|im_end|>\n<|im_start|>assistant\n"
    )


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ messages.__len__() }}",
        "{% set _ = messages.append({'role': 'x'}) %}",  # the immutable sandbox forbids mutation
        "{{ cycler.__init__.__globals__ }}",
    ],
)
def test_unsafe_templates_are_errors_not_blanks(source: str) -> None:
    with pytest.raises(EngineError, match="unsafe"):
        ChatTemplate(source, "gguf", origin="evil.gguf").render(USER)


def test_raise_exception_becomes_a_clear_error() -> None:
    source = "{% if messages[0].role != 'system' %}{{ raise_exception('System first!') }}{% endif %}"
    with pytest.raises(EngineError, match="evil.gguf rejected the conversation: System first!"):
        ChatTemplate(source, "gguf", origin="evil.gguf").render(USER)


def test_syntax_error_is_reported_at_compile_time() -> None:
    with pytest.raises(EngineError, match="does not compile"):
        ChatTemplate("{% for m in messages %}", "gguf", origin="broken.gguf")


def test_runtime_failure_in_template_is_an_engine_error() -> None:
    with pytest.raises(EngineError, match="failed: "):
        ChatTemplate("{{ messages[5].content }}{{ 1 / 0 }}", "gguf").render(USER)


def test_end_of_turn_markers_found_in_template() -> None:
    assert "<|im_end|>" in ChatTemplate(SMOLLM2, "gguf").end_of_turn_markers
    assert ChatTemplate("{{ messages[0].content }}", "gguf").end_of_turn_markers == ()
