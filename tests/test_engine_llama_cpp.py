"""The llama.cpp engine on the real bundled models (small token limits, engines shared per module)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest
from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata, get_field_data

from engines.base import ContextOverflowError, EngineError, GenerationParams, LoadOptions, Stats
from engines.llama_cpp_engine import LlamaCppEngine, ReplyText
from models.describe import describe

pytestmark = pytest.mark.e2e

QUESTION = [{"role": "user", "content": "Explain a hash map in two sentences."}]
GREEDY = GenerationParams(max_tokens=16, temperature=0.0, seed=1)


@pytest.fixture(scope="module")
def engines(bundled_models: dict[str, Path]) -> Iterator[dict[str, LlamaCppEngine]]:
    opened = {name: LlamaCppEngine(describe(path, name=name), LoadOptions(n_ctx=512, n_threads=2))
              for name, path in bundled_models.items()}
    yield opened
    for engine in opened.values():
        engine.close()


@pytest.fixture(scope="module")
def smol(engines: dict[str, LlamaCppEngine]) -> LlamaCppEngine:
    return engines["smollm2-135m"]


def _run(engine: LlamaCppEngine, params: GenerationParams = GREEDY, messages=QUESTION, **kw
         ) -> tuple[str, Stats]:
    text, stats = [], None
    for chunk in engine.stream_chat(messages, params, **kw):
        text.append(chunk.text)
        if chunk.stats is not None:
            stats = chunk.stats
    assert stats is not None, "the stream must end with stats"
    return "".join(text), stats


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "smollm2-135m"])
def test_both_bundled_models_answer_with_consistent_stats(
    engines: dict[str, LlamaCppEngine], bundled_models: dict[str, Path], name: str
) -> None:
    engine = engines[name]
    text, stats = _run(engine)
    assert text.strip()
    assert 0 < stats.completion_tokens <= 16
    assert stats.prompt_tokens == engine.count_chat_tokens(QUESTION)
    assert stats.tokens_per_s > 0 and stats.prompt_tokens_per_s > 0
    assert 0 < stats.ttft_s < stats.total_s
    assert stats.finish_reason in ("stop", "length")
    # The template in use is the model's own, byte for byte as the GGUF header carries it.
    assert engine.template.source == "gguf"
    assert engine.template.text == describe(bundled_models[name]).chat_template
    assert engine.describe().path == bundled_models[name]


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "smollm2-135m"])
def test_prompt_has_exactly_one_start_token(engines: dict[str, LlamaCppEngine], name: str) -> None:
    engine = engines[name]
    tokens = engine._tokenize_prompt(engine.render_chat(QUESTION))
    im_start = engine._llm.tokenize(b"<|im_start|>", add_bos=False, special=True)
    assert len(im_start) == 1, "the ChatML marker must be one special token"
    assert tokens[0] == im_start[0] and tokens[1] != im_start[0]


def test_greedy_with_seed_is_reproducible_and_limit_gives_length(smol: LlamaCppEngine) -> None:
    first, stats = _run(smol)
    again, _ = _run(smol)
    assert first == again
    _, short = _run(smol, GenerationParams(max_tokens=3, temperature=0.0))
    assert (short.completion_tokens, short.finish_reason) == (3, "length")


def test_sampling_with_a_seed_is_reproducible(smol: LlamaCppEngine) -> None:
    params = GenerationParams(max_tokens=16, temperature=1.2, top_p=0.95, seed=42)
    assert _run(smol, params)[0] == _run(smol, params)[0]


def test_should_stop_cancels(smol: LlamaCppEngine) -> None:
    polls = 0

    def stop_after_four() -> bool:
        nonlocal polls
        polls += 1
        return polls > 4

    _, stats = _run(smol, GenerationParams(max_tokens=50, temperature=0.0), should_stop=stop_after_four)
    assert (stats.finish_reason, stats.completion_tokens) == ("cancelled", 4)


def test_stop_string_ends_the_reply_before_it(smol: LlamaCppEngine) -> None:
    full, _ = _run(smol)
    words = full.split()
    assert len(words) >= 4
    marker = words[2]
    text, stats = _run(smol, GenerationParams(max_tokens=16, temperature=0.0, stop=(marker,)))
    assert stats.finish_reason == "stop"
    assert text == full[: full.index(marker)]


def test_closing_a_stream_early_leaves_the_engine_usable(smol: LlamaCppEngine) -> None:
    expected, _ = _run(smol)
    stream = smol.stream_chat(QUESTION, GREEDY)
    next(stream)
    stream.close()
    assert _run(smol)[0] == expected


def test_a_second_caller_is_refused_without_deadlock(smol: LlamaCppEngine) -> None:
    stream = smol.stream_chat(QUESTION, GREEDY)
    next(stream)  # holds the engine
    errors: list[BaseException] = []

    def other_caller() -> None:
        try:
            _run(smol)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=other_caller)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], EngineError)
    assert "busy" in str(errors[0])
    stream.close()
    assert _run(smol)[1].completion_tokens > 0


def test_context_overflow_names_the_numbers(bundled_models: dict[str, Path]) -> None:
    # llama.cpp pads contexts to multiples of 256; the engine reports the real size.
    with LlamaCppEngine(bundled_models["smollm2-135m"], LoadOptions(n_ctx=200, n_threads=1)) as engine:
        assert engine.n_ctx == 256
        long_question = [{"role": "user", "content": "hash map " * 150}]
        n_prompt = engine.count_chat_tokens(long_question)
        assert n_prompt + 1 > 256
        with pytest.raises(ContextOverflowError, match=f"{n_prompt} tokens.*context window is 256"):
            list(engine.stream_chat(long_question, GREEDY))
        # A reply is capped by the room left in the context (finish "length"), and the engine is
        # still usable after the overflow. Grow a prompt until only a few tokens of room remain.
        words = 100
        while engine.count_chat_tokens([{"role": "user", "content": "hash map " * words}]) < 250:
            words += 1
        filler = [{"role": "user", "content": "hash map " * words}]
        room = 256 - engine.count_chat_tokens(filler)
        _, stats = _run(engine, GenerationParams(max_tokens=500, temperature=0.0), messages=filler)
        assert (stats.completion_tokens, stats.finish_reason) == (room, "length")


def test_set_threads_reaches_the_llama_context(smol: LlamaCppEngine) -> None:
    import llama_cpp

    smol.set_threads(1)
    assert llama_cpp.llama_n_threads(smol._llm.ctx) == 1 and smol.threads == 1
    assert _run(smol)[1].completion_tokens > 0
    smol.set_threads(2)
    assert llama_cpp.llama_n_threads_batch(smol._llm.ctx) == 2


def test_real_token_pieces_of_split_characters_come_out_whole(smol: LlamaCppEngine) -> None:
    text = "Fox 🦊 and 日本語 ✓"
    tokens = smol._llm.tokenize(text.encode(), add_bos=False, special=False)
    pieces = [smol._piece(t) for t in tokens]
    assert any(not _is_utf8(p) for p in pieces), "this text should split a character across tokens"
    reply = ReplyText()
    shown = [reply.feed(p) for p in pieces] + [reply.flush()]
    assert "".join(shown) == text
    assert all("\ufffd" not in s for s in shown)


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _copy_with_template(src: Path, dst: Path, template: str | None) -> Path:
    """A copy of a GGUF file whose chat template is replaced (or removed when None)."""
    reader = gguf.GGUFReader(src, "r")
    writer = gguf.GGUFWriter(dst, arch=get_field_data(reader, gguf.Keys.General.ARCHITECTURE),
                             endianess=reader.endianess)
    key = gguf.Keys.Tokenizer.CHAT_TEMPLATE
    new = {} if template is None else {key: MetadataDetails(gguf.GGUFValueType.STRING, template)}
    copy_with_new_metadata(reader, writer, new, [key] if template is None else [])
    return dst


def test_file_without_template_uses_named_builtin(bundled_models: dict[str, Path], tmp_path: Path) -> None:
    path = _copy_with_template(bundled_models["smollm2-135m"], tmp_path / "bare.gguf", None)
    with LlamaCppEngine(path, LoadOptions(n_ctx=256, n_threads=1)) as engine:
        assert engine.template.source == "builtin:chatml"
        assert engine.render_chat(QUESTION).endswith("<|im_start|>assistant\n")
        text, stats = _run(engine)
        assert text and stats.completion_tokens > 0


def test_unsafe_template_in_a_file_is_refused(bundled_models: dict[str, Path], tmp_path: Path) -> None:
    evil = _copy_with_template(bundled_models["smollm2-135m"], tmp_path / "evil.gguf",
                               "{{ ''.__class__.__mro__ }}{{ messages[0].content }}")
    with LlamaCppEngine(evil, LoadOptions(n_ctx=256, n_threads=1)) as engine, \
            pytest.raises(EngineError, match="evil.gguf tried something unsafe"):
        _run(engine)
    broken = _copy_with_template(bundled_models["smollm2-135m"], tmp_path / "broken.gguf", "{% for %}")
    with pytest.raises(EngineError, match="broken.gguf does not compile"):
        LlamaCppEngine(broken)


def test_llama_load_failure_names_the_file(bundled_models: dict[str, Path], tmp_path: Path) -> None:
    # A GGUF whose header is fine but whose tensors are gone: models/ accepts the header only when
    # the tensor data is all there, so cut the copy by hand after describing it.
    path = _copy_with_template(bundled_models["smollm2-135m"], tmp_path / "cut.gguf", "{{ 1 }}")
    info = describe(path)
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)
    # The message names the file and carries llama.cpp's own reason (its log is captured, not printed).
    with pytest.raises(EngineError, match=r"cut\.gguf: .*not within the file bounds"):
        LlamaCppEngine(info, LoadOptions(n_ctx=256, n_threads=1))


def test_closed_engine_refuses_work(bundled_models: dict[str, Path]) -> None:
    engine = LlamaCppEngine(bundled_models["smollm2-135m"], LoadOptions(n_ctx=256, n_threads=1))
    engine.close()
    engine.close()  # twice is fine
    with pytest.raises(EngineError, match="closed"):
        _run(engine)


def test_score_options_go_through_the_engine(smol: LlamaCppEngine) -> None:
    scores = smol.score_options("The capital of France is", [" Paris", " banana"])
    assert len(scores) == 2 and all(s.n_tokens >= 1 for s in scores)
    assert scores[0].logprob > scores[1].logprob
    stream = smol.stream_chat(QUESTION, GREEDY)
    next(stream)  # a stream in progress holds the engine: scoring must wait its turn, not interleave
    with pytest.raises(EngineError, match="busy"):
        smol.score_options("The capital of France is", [" Paris"])
    stream.close()
    assert _run(smol)[1].completion_tokens > 0


def test_concurrent_loads_leave_stdout_and_stderr_in_place(bundled_models: dict[str, Path]) -> None:
    """llama-cpp-python redirects fds 1 and 2 while it loads; overlapping loads used to strand them on
    /dev/null, which blanked the TUI. The engine serialises loads, so both fds come back."""
    import os

    before = [os.fstat(fd) for fd in (1, 2)]
    loaded: list[LlamaCppEngine] = []
    errors: list[BaseException] = []

    def load() -> None:
        try:
            loaded.append(LlamaCppEngine(bundled_models["smollm2-135m"], LoadOptions(n_ctx=256, n_threads=1)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for engine in loaded:
        engine.close()
    assert not errors and len(loaded) == 3
    after = [os.fstat(fd) for fd in (1, 2)]
    assert [(s.st_dev, s.st_ino) for s in after] == [(s.st_dev, s.st_ino) for s in before]


@pytest.mark.parametrize("name", ["qwen2.5-coder-0.5b", "smollm2-135m"])
def test_batched_generation_on_the_bundled_models(engines: dict[str, LlamaCppEngine], name: str) -> None:
    """Several replies decoded together (engines/llama_batch.py): every request comes back once with
    consistent stats. Equality with one-at-a-time replies is not asserted on quantized weights (see
    llama_batch.py); perf/gen_batch.py counts it."""
    from engines.base import GenerationRequest

    engine = engines[name]
    questions = ["What is 7 times 8?", "Name a prime number.", "Explain a hash map in two sentences.", "Hi!"]
    reqs = [GenerationRequest(({"role": "user", "content": q},), GREEDY) for q in questions]

    results = dict(engine.generate_many(reqs, parallel=3))

    assert sorted(results) == [0, 1, 2, 3]
    for index, result in results.items():
        assert result.finish_reason in ("stop", "length") and result.text.strip()
        assert 0 < result.stats.completion_tokens <= 16
        assert result.stats.prompt_tokens == engine.count_chat_tokens(reqs[index].messages)
        assert 0 < result.stats.ttft_s <= result.stats.total_s
    assert _run(engine)[1].completion_tokens > 0, "the engine streams again afterwards"
