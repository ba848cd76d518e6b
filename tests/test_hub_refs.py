"""Hub references, file-name parsing and the model-family catalog (no network)."""

from __future__ import annotations

import pytest

from models import catalog, families, hub
from models.hub import HubFile, HubRef


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF", HubRef("Qwen/Qwen2.5-1.5B-Instruct-GGUF")),
        ("Qwen/Qwen2.5-1.5B-Instruct-GGUF", HubRef("Qwen/Qwen2.5-1.5B-Instruct-GGUF")),
        ("hf:Qwen/Qwen2.5-7B-Instruct-GGUF:q4_k_m", HubRef("Qwen/Qwen2.5-7B-Instruct-GGUF", quant="Q4_K_M")),
        (
            "hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
            HubRef("bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf"),
        ),
        ("hf:a/b@v2/sub/dir/m-Q8_0.gguf", HubRef("a/b", "sub/dir/m-Q8_0.gguf", revision="v2")),
    ],
)
def test_parse_reference(ref: str, expected: HubRef) -> None:
    assert hub.parse_reference(ref) == expected


def test_reference_round_trips_through_str() -> None:
    for text in ("hf:a/b/m-Q4_K_M.gguf", "hf:a/b:Q8_0", "hf:a/b@dev/x/m.gguf"):
        assert str(hub.parse_reference(text)) == text


def test_quant_option_overrides_nothing_in_a_file_reference() -> None:
    ref = hub.parse_reference("a/b", quant="iq4_xs")
    assert ref.quant == "IQ4_XS" and ref.filename is None


@pytest.mark.parametrize(
    "bad",
    [
        "hf:",
        "hf:onlyowner",
        "hf:a/b/../../etc/passwd.gguf",
        "hf:a/b/model.safetensors",
        "hf:a--b/c",
        "hf:a b/c",
    ],
)
def test_bad_references_are_one_line_errors(bad: str) -> None:
    with pytest.raises(hub.HubError) as info:
        hub.parse_reference(bad)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("name", "quant"),
    [
        ("Llama-3.2-1B-Instruct-Q4_K_M.gguf", "Q4_K_M"),
        ("qwen2.5-1.5b-instruct-q8_0.gguf", "Q8_0"),
        ("Qwen3-8B-UD-Q4_K_XL.gguf", "Q4_K_XL"),
        ("model.IQ3_XXS.gguf", "IQ3_XXS"),
        ("phi-2.Q5_K_S.gguf", "Q5_K_S"),
        ("gemma-2-2b-it-f16.gguf", "F16"),
        ("SmolLM2-135M-Instruct.Q4_1.gguf", "Q4_1"),
        ("x-bf16-00001-of-00003.gguf", "BF16"),
        ("Meta-Llama-3-8B-Instruct-Q4_0_4_4.gguf", "Q4_0_4_4"),
        ("plain-model.gguf", None),
        ("Qwen2-7B.gguf", None),  # "Q" inside a word is not a quantization
    ],
)
def test_quantization_from_filename(name: str, quant: str | None) -> None:
    assert hub.quantization_from_filename(name) == quant


def test_split_part_names() -> None:
    assert hub.split_part_names("dir/m-Q4_K_M-00002-of-00003.gguf") == [
        "dir/m-Q4_K_M-00001-of-00003.gguf",
        "dir/m-Q4_K_M-00002-of-00003.gguf",
        "dir/m-Q4_K_M-00003-of-00003.gguf",
    ]
    assert hub.split_part_names("m.gguf") == ["m.gguf"]


def test_group_models_keeps_split_parts_together_and_skips_projectors() -> None:
    files = [
        HubFile("m-Q8_0-00002-of-00002.gguf", 10),
        HubFile("m-Q8_0-00001-of-00002.gguf", 10),
        HubFile("m-Q4_K_M.gguf", 12),
        HubFile("mmproj-m-f16.gguf", 5),
    ]
    choices = hub.group_models(files)
    assert [(c.quant, c.size, [f.path for f in c.files]) for c in choices] == [
        ("Q4_K_M", 12, ["m-Q4_K_M.gguf"]),
        ("Q8_0", 20, ["m-Q8_0-00001-of-00002.gguf", "m-Q8_0-00002-of-00002.gguf"]),
    ]


def test_choose_model_needs_a_quant_when_there_is_no_default() -> None:
    files = [HubFile("m-Q8_0.gguf", 1), HubFile("m-Q5_K_M.gguf", 1)]
    with pytest.raises(
        hub.HubError, match=r"several quantizations \(Q5_K_M, Q8_0\); choose one with --quant"
    ):
        hub.choose_model("a/b", files, None)
    assert hub.choose_model("a/b", files[:1], None).quant == "Q8_0", "a single model needs no choice"


def test_default_registry_name() -> None:
    ref = HubRef("a/b", "sub/Llama-3.2-1B-Instruct-Q4_K_M-00001-of-00002.gguf")
    assert hub.default_registry_name(ref) == "llama-3.2-1b-instruct-q4_k_m"


# -- catalog ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("architecture", "name", "family"),
    [
        ("qwen2", "Qwen2.5 7B Instruct", "Qwen2.5"),
        ("qwen2", "Qwen2.5 Coder 0.5B Instruct AWQ", "Qwen2.5-Coder"),
        ("qwen2", "Qwen2-1.5B-Instruct", "Qwen2"),
        ("qwen3", "Qwen3-8B", "Qwen3"),
        ("llama", "Meta-Llama-3.1-8B-Instruct", "Llama 3.1"),
        ("llama", "Llama-3.2-1B-Instruct", "Llama 3.2"),
        ("llama", "Meta Llama 3 8B Instruct", "Llama 3"),
        ("llama", "Mistral-7B-Instruct-v0.3", "Mistral"),
        ("llama", "Mixtral-8x7B-Instruct-v0.1", "Mixtral"),
        ("llama", "Yi-1.5-9B-Chat", "Yi"),
        ("llama", "SmolLM2-135M-Instruct", "SmolLM2"),
        ("falcon", "Falcon-7B-Instruct", "Falcon"),
        ("llama", "Falcon3-1B-Instruct", "Falcon3"),
        ("mpt", "mpt-7b-chat", "MPT"),
        ("phi3", "Phi-3.5-mini-instruct", "Phi-3"),
        ("gemma2", "gemma-2-2b-it", "Gemma 2"),
    ],
)
def test_family_for_known_models(architecture: str, name: str, family: str) -> None:
    match = families.match_family([name], architecture)
    assert match is not None and match.name == family and match.has_facts


def test_no_catalog_family_for_a_name_whose_family_never_has_that_architecture() -> None:
    assert families.match_family(["falcon-tiny"], "qwen2") is None
    assert families.match_family([None], "llama") is None
    assert families.match_family(["my own model"], "llama") is None


def test_catalog_entries_are_complete() -> None:
    catalogued = catalog.all_families()
    assert len(catalogued) >= 25
    for family in catalogued:
        assert family.sizes and family.license and family.context >= 1024 and family.architectures
        for repo in family.gguf_repos:
            assert hub.parse_reference(repo).repo_id == repo


def test_suggest() -> None:
    assert [f.name for f in catalog.suggest(["qwen2.5", "1.5b", "instruct", "gguf"])] == ["Qwen2.5"]
    assert [f.name for f in catalog.suggest(["phi"])] == ["Phi-4", "Phi-3", "Phi-2"]
    assert catalog.suggest(["something", "else"]) == []
