"""Where llama.cpp puts the weights (engines/weights.py): the decision on other CPUs' reports, and
real loads on this one, checked through llama.cpp's own load log (read by the log callback).

The system-info strings are what `llama_cpp.llama_print_system_info()` prints on those machines;
the AMX one is the Sapphire Rapids Xeon where llama-cpp-python 0.3.36 segfaulted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tiny_models import cpu_repacks_q4_0, write_tiny_model

from engines.base import GenerationParams, LoadOptions
from engines.weights import (
    AMX,
    REPACK,
    CpuReport,
    Placement,
    choose,
    cpu_report,
    decide,
    parse_system_info,
    unexpected_buffers,
    weight_buffers,
)
from models.errors import DuelError

SAPPHIRE_RAPIDS = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX_VNNI = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | "
    "AVX512 = 1 | AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | "
    "OPENMP = 1 | REPACK = 1 | "
)
ZEN4_AVX512 = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | AVX512 = 1 | "
    "AVX512_VBMI = 1 | AVX512_VNNI = 1 | AVX512_BF16 = 1 | LLAMAFILE = 1 | OPENMP = 1 | REPACK = 1 | "
)
EPYC_AVX2 = (
    "CPU : SSE3 = 1 | SSSE3 = 1 | AVX = 1 | AVX2 = 1 | F16C = 1 | FMA = 1 | BMI2 = 1 | LLAMAFILE = 1 | "
    "OPENMP = 1 | REPACK = 1 | "
)
GRAVITON_ARM = (
    "CPU : NEON = 1 | ARM_FMA = 1 | FP16_VA = 1 | MATMUL_INT8 = 1 | SVE = 1 | DOTPROD = 1 | SVE_CNT = 16 | "
    "OPENMP = 1 | KLEIDIAI = 1 | REPACK = 1 | "
)
CUDA_AND_AMX = "CUDA : ARCHS = 890 | USE_GRAPHS = 1 | PEER_MAX_BATCH_SIZE = 128 | " + SAPPHIRE_RAPIDS


# --- the decision -------------------------------------------------------------------------------


def test_system_info_is_read_per_backend() -> None:
    parsed = parse_system_info(CUDA_AND_AMX)
    assert parsed["CUDA"]["ARCHS"] == "890"
    assert parsed["CPU"]["AMX_INT8"] == "1" and parsed["CPU"]["AVX2"] == "1"
    assert "ARCHS" not in parsed["CPU"]
    assert parse_system_info("") == {}


def test_amx_cpu_leaves_amx_out_and_keeps_repack() -> None:
    placement = decide("auto", CpuReport(SAPPHIRE_RAPIDS, (AMX, REPACK)))
    assert placement.mode == "no-amx" and placement.exclude == {AMX}
    assert placement.use_extra_bufts
    assert "#20824" in placement.reason and f"kept: {REPACK}" in placement.reason


def test_amx_reported_only_by_the_features_still_counts() -> None:
    # AMX_INT8 is compiled in but the buffer type was not offered (the kernel refused AMX state):
    # leaving out a type that is not there costs nothing, so the safe choice stands.
    assert decide("auto", CpuReport(SAPPHIRE_RAPIDS, (REPACK,))).mode == "no-amx"
    # ...and a GPU build on the same CPU reads the CPU group, not the CUDA one.
    assert decide("auto", CpuReport(CUDA_AND_AMX, (AMX, REPACK))).mode == "no-amx"


def test_amx_cpu_without_an_editable_list_turns_extra_buffers_off() -> None:
    placement = decide("auto", CpuReport(SAPPHIRE_RAPIDS, None))
    assert placement.mode == "plain" and not placement.use_extra_bufts
    assert "#20824" in placement.reason


@pytest.mark.parametrize(
    ("info", "offered"),
    [(ZEN4_AVX512, (REPACK,)), (EPYC_AVX2, (REPACK,)), (GRAVITON_ARM, ("CPU_KLEIDIAI", REPACK))],
    ids=["avx512-no-amx", "avx2-only", "arm"],
)
def test_cpus_without_amx_keep_every_extra_buffer_type(info: str, offered: tuple[str, ...]) -> None:
    placement = decide("auto", CpuReport(info, offered))
    assert placement.mode == "all" and placement.exclude == frozenset() and placement.use_extra_bufts
    assert all(name in placement.reason for name in offered)


def test_explicit_choices_are_obeyed_and_all_on_amx_warns() -> None:
    amx = CpuReport(SAPPHIRE_RAPIDS, (AMX, REPACK))
    assert decide("plain", amx).mode == "plain"
    forced = decide("all", amx)
    assert forced.mode == "all" and "warning" in forced.reason and "#20824" in forced.reason
    assert "warning" not in decide("all", CpuReport(EPYC_AVX2, (REPACK,))).reason
    no_amx = decide("no-amx", CpuReport(EPYC_AVX2, (REPACK,)))
    assert no_amx.mode == "no-amx" and no_amx.exclude == {AMX}
    assert decide("no-amx", amx).summary().startswith("no-amx: AMX left out")
    assert decide("auto", amx).summary().startswith("auto → no-amx: ")


def test_unknown_choice_is_a_one_line_error() -> None:
    with pytest.raises(DuelError, match="'fast'; choose one of auto, all, no-amx, plain$"):
        decide("fast", CpuReport(EPYC_AVX2, (REPACK,)))


def test_buffer_lines_of_a_load_log() -> None:
    log = [
        "load_tensors: loading model tensors, this can take a while... (mmap = true)",
        "load_tensors:   CPU_Mapped model buffer size =   462.96 MiB",
        "load_tensors:   CPU_REPACK model buffer size =    28.05 MiB",
        "load_tensors:          AMX model buffer size =   300.00 MiB",
        "llama_kv_cache:        CPU KV buffer size =     6.00 MiB",
    ]
    buffers = weight_buffers(log)
    assert buffers == {"CPU_Mapped": 462.96, "CPU_REPACK": 28.05, "AMX": 300.0}
    no_amx = Placement("auto", "no-amx", "", frozenset({AMX}))
    assert unexpected_buffers(no_amx, buffers, (AMX, REPACK)) == [AMX]
    assert unexpected_buffers(Placement("plain", "plain", ""), buffers, (AMX, REPACK)) == [AMX, REPACK]
    assert unexpected_buffers(Placement("all", "all", ""), buffers, (AMX, REPACK)) == []


# --- real loads on this machine -----------------------------------------------------------------


@pytest.fixture(scope="module")
def q4_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-q4")
    return write_tiny_model("qwen2", folder / "tiny-qwen2-q4_0.gguf", quantize="Q4_0")


def _repack_expected(placement: Placement) -> bool:
    """This CPU repacks Q4_0 and the placement lets CPU_REPACK be used."""
    report = cpu_report()
    offered = REPACK in (report.extra_bufts or ())
    allowed = placement.use_extra_bufts and REPACK not in placement.exclude
    return offered and allowed and cpu_repacks_q4_0(report.cpu_features)


@pytest.mark.parametrize("choice", ["auto", "no-amx", "plain"])
def test_each_choice_gets_the_buffers_it_asked_for(choice: str, q4_model: Path, capfd) -> None:
    from engines.llama_cpp_engine import load_llama

    llm, loaded = load_llama(q4_model, choice, n_ctx=256, n_threads=1)
    try:
        llm.eval(llm.tokenize(b"hello the model is good"))  # a multi-token decode on these weights
    finally:
        llm.close()
    placement = choose(choice)
    assert loaded.placement == placement
    assert "CPU_Mapped" in loaded.buffers
    assert unexpected_buffers(placement, loaded.buffers, cpu_report().extra_bufts or ()) == []
    assert AMX not in loaded.buffers  # on no CPU does duel's default or no-amx let AMX in
    assert (REPACK in loaded.buffers) == _repack_expected(placement), loaded.log
    assert any("model buffer size" in line for line in loaded.log)
    out, err = capfd.readouterr()
    assert "buffer size" not in out + err, "llama.cpp's load log must never reach the terminal"


def test_leaving_a_buffer_type_out_really_changes_the_load(q4_model: Path) -> None:
    """The mechanism "no-amx" uses, shown with the type this CPU has: leave CPU_REPACK out."""
    from engines.llama_cpp_engine import load_llama

    report = cpu_report()
    if REPACK not in (report.extra_bufts or ()) or not cpu_repacks_q4_0(report.cpu_features):
        pytest.skip("this CPU does not repack Q4_0 weights")
    without = Placement("auto", "no-amx", "test: repack left out", frozenset({REPACK}))
    llm, loaded = load_llama(q4_model, without, n_ctx=256, n_threads=1)
    llm.close()
    assert REPACK not in loaded.buffers and loaded.placement.mode == "no-amx"
    assert cpu_report().extra_bufts == report.extra_bufts, "the list is put back after the load"
    llm, again = load_llama(q4_model, "all", n_ctx=256, n_threads=1)
    llm.close()
    assert REPACK in again.buffers


def test_a_placement_that_did_not_hold_is_loaded_again_without_extra_buffers(
    q4_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were llama.cpp to ignore the edited list, the load log shows it and duel reloads with none."""
    import engines.weights as weights
    from engines.llama_cpp_engine import load_llama

    report = cpu_report()
    if REPACK not in (report.extra_bufts or ()) or not cpu_repacks_q4_0(report.cpu_features):
        pytest.skip("this CPU does not repack Q4_0 weights")
    monkeypatch.setattr(weights, "_set_extra_bufts", lambda backend, exclude: True)  # edits nothing
    without = Placement("auto", "no-amx", "test: repack left out", frozenset({REPACK}))
    llm, loaded = load_llama(q4_model, without, n_ctx=256, n_threads=1)
    llm.close()
    assert loaded.placement.mode == "plain"
    assert f"llama.cpp still used {REPACK}" in loaded.placement.reason
    assert REPACK not in loaded.buffers


def test_engine_loads_with_the_choice_in_its_options(q4_model: Path) -> None:
    from engines.llama_cpp_engine import LlamaCppEngine

    with LlamaCppEngine(q4_model, LoadOptions(n_ctx=256, n_threads=1, weights="plain")) as engine:
        assert engine.weights.placement.mode == "plain" and REPACK not in engine.weights.buffers
        chunks = list(engine.stream_chat([{"role": "user", "content": "hello"}],
                                         GenerationParams(max_tokens=4, temperature=0.0)))
        assert chunks[-1].stats is not None and chunks[-1].stats.prompt_tokens > 1
    with LlamaCppEngine(q4_model, LoadOptions(n_ctx=256, n_threads=1)) as engine:
        assert engine.weights.placement == choose("auto")
        assert engine.weights.describe().startswith(choose("auto").mode)


def test_a_wrong_choice_in_load_options_is_a_duel_error(q4_model: Path) -> None:
    from engines.llama_cpp_engine import LlamaCppEngine

    with pytest.raises(DuelError, match="unknown weights choice"):
        LlamaCppEngine(q4_model, LoadOptions(n_ctx=256, weights="turbo"))


@pytest.mark.e2e
def test_bundled_qwen_keeps_its_repacked_weights_unless_plain(bundled_models: dict[str, Path]) -> None:
    """Qwen's Q4_K matrices go to CPU_REPACK under auto wherever that is safe, never under plain."""
    from engines.llama_cpp_engine import load_llama

    path = bundled_models["qwen2.5-coder-0.5b"]
    seen = {}
    for choice in ("auto", "plain"):
        llm, loaded = load_llama(path, choice, n_ctx=256, n_threads=2, n_threads_batch=2)
        llm.eval(llm.tokenize(b"def add(a, b):"))  # prompt processing: a multi-token decode
        llm.close()
        seen[choice] = loaded
    assert REPACK not in seen["plain"].buffers and AMX not in seen["auto"].buffers
    # Q4_K is repacked by the same CPUs as Q4_0 (AVX2, or NEON with dot products / int8 matmul)
    assert (REPACK in seen["auto"].buffers) == _repack_expected(seen["auto"].placement)


def test_a_build_without_the_ggml_functions_plays_safe(
    q4_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another llama-cpp-python whose libggml lacks a function duel binds: no edit is tried, AMX CPUs
    get extra buffers off, a no-amx load falls back to plain and says so."""
    import engines.weights as weights
    from engines.llama_cpp_engine import load_llama

    monkeypatch.setattr(weights, "_ggml", None)
    monkeypatch.setattr(weights, "_ggml_missing", True)
    report = cpu_report()
    assert report.extra_bufts is None and weights.ggml_build() == ("?", "?")
    assert decide("auto", CpuReport(SAPPHIRE_RAPIDS, report.extra_bufts)).mode == "plain"
    llm, loaded = load_llama(q4_model, "no-amx", n_ctx=256, n_threads=1)
    llm.close()
    assert loaded.placement.mode == "plain" and "did not take the change" in loaded.placement.reason
    assert REPACK not in loaded.buffers


def test_loads_that_name_no_choice_follow_the_config_file(q4_model: Path, duel_home: Path) -> None:
    """Arena judges, perf scripts, anything built with LoadOptions(): config.toml's choice, else auto."""
    from engines.llama_cpp_engine import LlamaCppEngine

    with LlamaCppEngine(q4_model, LoadOptions(n_ctx=256, n_threads=1)) as engine:
        assert engine.weights.placement.choice == "auto"
    config = duel_home / "config" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[engine]\nweights = "plain"\n')
    with LlamaCppEngine(q4_model, LoadOptions(n_ctx=256, n_threads=1)) as engine:
        assert engine.weights.placement.mode == "plain" and REPACK not in engine.weights.buffers
    with LlamaCppEngine(q4_model, LoadOptions(n_ctx=256, n_threads=1, weights="auto")) as engine:
        assert engine.weights.placement == choose("auto")  # a named choice wins over the file


def test_every_load_in_the_tree_goes_through_load_llama() -> None:
    """No product, test or perf code builds a `Llama` or starts llama-cpp-python's server around
    engines/weights.py: a new load site would bring the AMX crash back on those CPUs."""
    import re

    repo = Path(__file__).resolve().parents[1]
    allowed = {repo / "engines" / "llama_cpp_engine.py"}  # load_llama itself
    offenders = []
    for path in repo.rglob("*.py"):
        if ".venv" in path.parts or path in allowed or path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if re.search(r"\bLlama\(|[\"']llama_cpp\.server[\"']", text):
            offenders.append(str(path.relative_to(repo)))
    assert offenders == []
