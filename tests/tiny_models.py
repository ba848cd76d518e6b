"""Tiny GGUF models that llama.cpp really loads, one per architecture people compare.

Each file has random weights (float32), two layers, a 64-wide embedding, a real tokenizer section
llama.cpp accepts, a chat template, and the metadata keys and tensor names and shapes that
llama.cpp 0.3.36 (its vendored src/models/*.cpp, `load_arch_tensors`) asks for:

- qwen2    GPT-2 byte-level BPE ("qwen2" pre-tokenizer), q/k/v biases, ChatML
- qwen3    as qwen2 plus per-head q/k RMS norms (attn_q_norm / attn_k_norm), no biases
- llama    Llama 3 style: BPE ("llama-bpe"), rope base 500000, header-id chat template
- mistral  llama architecture with a SentencePiece vocabulary (byte fallback), [INST] template,
           rope base 1e6, the 4096-token sliding window of Mistral 7B v0.1 in the metadata
- yi       llama architecture, SentencePiece vocabulary with Yi's <|startoftext|>/<|im_end|>
           tokens, ChatML, rope base 5e6
- mixtral  llama architecture with experts: expert_count/expert_used_count, ffn_gate_inp and
           ffn_{gate,up,down}_exps tensors (4 experts, 2 used per token)
- falcon   fused attn_qkv, LayerNorm with biases, one KV head (multi-query), "falcon" pre-tokenizer
- mpt      fused attn_qkv, ALiBi (no rope), "mpt" pre-tokenizer, ChatML

Why GGUFWriter directly rather than tests/gguf_builders.write_gguf: the tokenizer arrays need
exact element types (token types INT32, scores FLOAT32) that llama.cpp checks, which the
generic builder's type inference does not give. Rows of the output matrix for control tokens and
non-ASCII byte tokens are zero, so greedy decoding of the random model emits visible text instead
of ending at once.

`quantize="Q4_0"` stores the layers' 2-D matrices as Q4_0 (the rest stays float32): llama.cpp
repacks those for its AVX2 / NEON kernels, so the file shows which weight buffers a load used.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, TokenType, quants

N_EMBD = 64
N_HEAD = 4
HEAD_DIM = N_EMBD // N_HEAD
N_FF = 128
N_LAYER = 2
CONTEXT = 512

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + "
    "'<|im_end|>' + '\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + "
    "'<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ message['content'] + eos_token }}{% else %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}"
)
FALCON = (
    "{% for message in messages %}{% if message['role'] == 'user' %}"
    "{{ 'User: ' + message['content'] + '\\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ 'Falcon: ' + message['content'] + '\\n' }}"
    "{% else %}{{ message['content'] + '\\n' }}{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Falcon:' }}{% endif %}"
)

# Words whose BPE merges the tiny vocabularies carry, so common text takes fewer tokens.
WORDS = ("the", "and", "is", "of", "to", "a", "in", "yes", "no", "hello", "model", "answer", "good", "bad")


@dataclass(frozen=True)
class TinySpec:
    key: str
    architecture: str
    general_name: str
    family: str  # what duel shows as the family for this file
    tokenizer: str  # "gpt2" (byte-level BPE) or "llama" (SentencePiece)
    pre: str | None
    chat_template: str
    specials: tuple[str, ...]
    bos: str | None
    eos: str
    eot: str | None = None
    add_bos: bool = False
    rope_base: float | None = 10000.0
    n_head_kv: int = 2
    n_expert: int = 0
    n_expert_used: int = 0
    extra: dict[str, object] = field(default_factory=dict)


SPECS: dict[str, TinySpec] = {
    spec.key: spec
    for spec in (
        TinySpec(
            "qwen2",
            "qwen2",
            "Qwen2.5 0.5B Instruct (tiny test)",
            "Qwen2.5",
            "gpt2",
            "qwen2",
            CHATML,
            ("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
            None,
            "<|im_end|>",
            rope_base=1e6,
        ),
        TinySpec(
            "qwen3",
            "qwen3",
            "Qwen3 0.6B (tiny test)",
            "Qwen3",
            "gpt2",
            "qwen2",
            CHATML,
            ("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
            None,
            "<|im_end|>",
            rope_base=1e6,
        ),
        TinySpec(
            "llama",
            "llama",
            "Llama 3.2 1B Instruct (tiny test)",
            "Llama 3.2",
            "gpt2",
            "llama-bpe",
            LLAMA3,
            (
                "<|begin_of_text|>",
                "<|end_of_text|>",
                "<|start_header_id|>",
                "<|end_header_id|>",
                "<|eot_id|>",
            ),
            "<|begin_of_text|>",
            "<|eot_id|>",
            eot="<|eot_id|>",
            add_bos=True,
            rope_base=500000.0,
        ),
        TinySpec(
            "mistral",
            "llama",
            "Mistral 7B Instruct v0.1 (tiny test)",
            "Mistral",
            "llama",
            None,
            MISTRAL,
            ("[INST]", "[/INST]"),
            "<s>",
            "</s>",
            add_bos=True,
            rope_base=1e6,
            extra={"llama.attention.sliding_window": 4096},
        ),
        TinySpec(
            "yi",
            "llama",
            "Yi 1.5 6B Chat (tiny test)",
            "Yi",
            "llama",
            None,
            CHATML,
            ("<|startoftext|>", "<|endoftext|>", "<|im_start|>", "<|im_end|>"),
            "<|startoftext|>",
            "<|im_end|>",
            rope_base=5e6,
        ),
        TinySpec(
            "mixtral",
            "llama",
            "Mixtral 8x7B Instruct v0.1 (tiny test)",
            "Mixtral",
            "llama",
            None,
            MISTRAL,
            ("[INST]", "[/INST]"),
            "<s>",
            "</s>",
            add_bos=True,
            rope_base=1e6,
            n_expert=4,
            n_expert_used=2,
        ),
        TinySpec(
            "falcon",
            "falcon",
            "Falcon 7B Instruct (tiny test)",
            "Falcon",
            "gpt2",
            "falcon",
            FALCON,
            ("<|endoftext|>",),
            None,
            "<|endoftext|>",
            rope_base=10000.0,
            n_head_kv=1,
        ),
        TinySpec(
            "mpt",
            "mpt",
            "MPT 7B Chat (tiny test)",
            "MPT",
            "gpt2",
            "mpt",
            CHATML,
            ("<|endoftext|>", "<|im_start|>", "<|im_end|>"),
            None,
            "<|im_end|>",
            rope_base=None,
            n_head_kv=N_HEAD,
        ),
    )
}


# -- tokenizers ---------------------------------------------------------------------------------


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map used by byte-level BPE vocabularies."""
    printable = (
        list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAC + 1)) + list(range(0xAE, 0xFF + 1))
    )
    mapping = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + extra)
            extra += 1
    return mapping


@dataclass
class Vocab:
    tokens: list[str]
    types: list[int]
    scores: list[float] | None
    merges: list[str] | None

    def id(self, token: str) -> int:
        return self.tokens.index(token)


def bpe_vocab(specials: Sequence[str]) -> Vocab:
    to_char = _byte_to_unicode()
    tokens = [to_char[b] for b in range(256)]
    types = [int(TokenType.NORMAL)] * 256
    merges: list[str] = []
    for word in WORDS:
        for text in (word, " " + word):
            pieces = [to_char[b] for b in text.encode()]
            while len(pieces) > 1:
                merged = pieces[0] + pieces[1]
                rule = f"{pieces[0]} {pieces[1]}"
                if rule not in merges:
                    merges.append(rule)
                if merged not in tokens:
                    tokens.append(merged)
                    types.append(int(TokenType.NORMAL))
                pieces = [merged, *pieces[2:]]
    for special in specials:
        tokens.append(special)
        types.append(int(TokenType.CONTROL))
    return Vocab(tokens, types, None, merges)


def spm_vocab(specials: Sequence[str]) -> Vocab:
    tokens = ["<unk>", "<s>", "</s>"]
    types = [int(TokenType.UNKNOWN), int(TokenType.CONTROL), int(TokenType.CONTROL)]
    tokens += [f"<0x{b:02X}>" for b in range(256)]
    types += [int(TokenType.BYTE)] * 256
    pieces = ["\u2581"] + [chr(c) for c in range(ord("!"), ord("~") + 1)]
    pieces += ["\u2581" + w for w in WORDS] + list(WORDS)
    for piece in pieces:
        if piece not in tokens:
            tokens.append(piece)
            types.append(int(TokenType.NORMAL))
    for special in specials:
        if special not in tokens:
            tokens.append(special)
            types.append(int(TokenType.CONTROL))
    # SentencePiece picks the best-scoring merge: longer pieces score higher.
    scores = [
        0.0 if t != int(TokenType.NORMAL) else float(len(tok)) - 10.0
        for tok, t in zip(tokens, types, strict=True)
    ]
    return Vocab(tokens, types, scores, None)


# -- tensors ------------------------------------------------------------------------------------


def _tensors(
    spec: TinySpec, n_vocab: int, quiet_rows: Sequence[int], rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Tensor name -> numpy array (numpy shape is llama.cpp's `ne` reversed)."""

    def w(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.08).astype(np.float32)

    def ones(n: int) -> np.ndarray:
        return np.ones(n, dtype=np.float32)

    def zeros(n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.float32)

    kv = HEAD_DIM * spec.n_head_kv
    output = w(n_vocab, N_EMBD)
    output[list(quiet_rows)] = 0.0
    t: dict[str, np.ndarray] = {
        "token_embd.weight": w(n_vocab, N_EMBD),
        "output.weight": output,
        "output_norm.weight": ones(N_EMBD),
    }
    if spec.architecture in ("falcon", "mpt"):
        t["output_norm.bias"] = zeros(N_EMBD)
    for i in range(N_LAYER):
        p = f"blk.{i}."
        t[p + "attn_norm.weight"] = ones(N_EMBD)
        if spec.architecture in ("falcon", "mpt"):
            t[p + "attn_norm.bias"] = zeros(N_EMBD)
            t[p + "attn_qkv.weight"] = w(N_EMBD + 2 * kv, N_EMBD)
            t[p + "attn_output.weight"] = w(N_EMBD, N_EMBD)
            t[p + "ffn_up.weight"] = w(N_FF, N_EMBD)
            t[p + "ffn_down.weight"] = w(N_EMBD, N_FF)
            if spec.architecture == "mpt":
                t[p + "ffn_norm.weight"] = ones(N_EMBD)
                t[p + "ffn_norm.bias"] = zeros(N_EMBD)
            continue
        t[p + "attn_q.weight"] = w(N_EMBD, N_EMBD)
        t[p + "attn_k.weight"] = w(kv, N_EMBD)
        t[p + "attn_v.weight"] = w(kv, N_EMBD)
        t[p + "attn_output.weight"] = w(N_EMBD, N_EMBD)
        t[p + "ffn_norm.weight"] = ones(N_EMBD)
        if spec.architecture == "qwen2":
            t[p + "attn_q.bias"] = zeros(N_EMBD)
            t[p + "attn_k.bias"] = zeros(kv)
            t[p + "attn_v.bias"] = zeros(kv)
        if spec.architecture == "qwen3":
            t[p + "attn_q_norm.weight"] = ones(HEAD_DIM)
            t[p + "attn_k_norm.weight"] = ones(HEAD_DIM)
        if spec.n_expert:
            n_ff = N_FF // 2
            t[p + "ffn_gate_inp.weight"] = w(spec.n_expert, N_EMBD)
            t[p + "ffn_gate_exps.weight"] = w(spec.n_expert, n_ff, N_EMBD)
            t[p + "ffn_up_exps.weight"] = w(spec.n_expert, n_ff, N_EMBD)
            t[p + "ffn_down_exps.weight"] = w(spec.n_expert, N_EMBD, n_ff)
        else:
            t[p + "ffn_gate.weight"] = w(N_FF, N_EMBD)
            t[p + "ffn_up.weight"] = w(N_FF, N_EMBD)
            t[p + "ffn_down.weight"] = w(N_EMBD, N_FF)
    return t


# -- writing ------------------------------------------------------------------------------------


def _quantizable(name: str, array: np.ndarray, qtype: GGMLQuantizationType) -> bool:
    """A layer's matrix whose rows split into whole blocks of `qtype` (norms and biases stay f32)."""
    block = quants.GGML_QUANT_SIZES[qtype][0]
    return name.startswith("blk.") and array.ndim == 2 and array.shape[-1] % block == 0


def cpu_repacks_q4_0(features: dict[str, str]) -> bool:
    """llama.cpp's CPU_REPACK takes Q4_0 matrices on this CPU (its `ggml_repack_get_optimal_repack_type`:
    AVX2 on x86, NEON with dot products or int8 matmul on ARM, VXE on s390x)."""
    has = {name for name, value in features.items() if value not in ("0", "")}
    return "AVX2" in has or "VXE" in has or ("NEON" in has and bool(has & {"DOTPROD", "MATMUL_INT8"}))


def write_tiny_model(
    spec: TinySpec | str,
    path: Path | str,
    *,
    seed: int = 0,
    split_max_tensors: int = 0,
    quantize: str | None = None,
) -> Path:
    """Write the tiny model `spec` to `path` (or, split, to `path`-0000N-of-0000M.gguf files).

    Returns the path of the file to load: `path` itself, or the first part of a split model.
    """
    spec = SPECS[spec] if isinstance(spec, str) else spec
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    vocab = bpe_vocab(spec.specials) if spec.tokenizer == "gpt2" else spm_vocab(spec.specials)
    quiet = [i for i, t in enumerate(vocab.types) if t != int(TokenType.NORMAL)]
    if spec.tokenizer == "gpt2":
        to_char = _byte_to_unicode()
        quiet += [vocab.id(to_char[b]) for b in [*range(0x20), *range(0x7F, 0x100)]]
    rng = np.random.default_rng(seed)
    arch = spec.architecture

    writer = GGUFWriter(path, arch, split_max_tensors=split_max_tensors)
    writer.add_name(spec.general_name)
    writer.add_license("apache-2.0")
    writer.add_file_type(0)  # ALL_F32
    writer.add_context_length(CONTEXT)
    writer.add_embedding_length(N_EMBD)
    writer.add_block_count(N_LAYER)
    writer.add_feed_forward_length(N_FF // 2 if spec.n_expert else N_FF)
    writer.add_head_count(N_HEAD)
    writer.add_head_count_kv(spec.n_head_kv)
    if arch in ("falcon", "mpt"):
        writer.add_layer_norm_eps(1e-5)
    else:
        writer.add_layer_norm_rms_eps(1e-6)
    if spec.rope_base is not None:
        writer.add_rope_freq_base(spec.rope_base)
        writer.add_rope_dimension_count(HEAD_DIM)
    if arch == "mpt":
        writer.add_max_alibi_bias(8.0)
    if spec.n_expert:
        writer.add_expert_count(spec.n_expert)
        writer.add_expert_used_count(spec.n_expert_used)
    for key, value in spec.extra.items():
        writer.add_uint32(key, int(value))  # type: ignore[call-overload]

    writer.add_tokenizer_model(spec.tokenizer)
    if spec.pre:
        writer.add_tokenizer_pre(spec.pre)
    writer.add_token_list(vocab.tokens)
    writer.add_token_types(vocab.types)
    if vocab.scores is not None:
        writer.add_token_scores(vocab.scores)
    if vocab.merges is not None:
        writer.add_token_merges(vocab.merges)
    if spec.bos is not None:
        writer.add_bos_token_id(vocab.id(spec.bos))
    writer.add_eos_token_id(vocab.id(spec.eos))
    if spec.eot is not None:
        writer.add_eot_token_id(vocab.id(spec.eot))
    if spec.tokenizer == "llama":
        writer.add_unk_token_id(0)
    writer.add_add_bos_token(spec.add_bos)
    writer.add_chat_template(spec.chat_template)

    qtype = GGMLQuantizationType[quantize] if quantize else None
    for name, array in _tensors(spec, len(vocab.tokens), quiet, rng).items():
        if qtype is not None and _quantizable(name, array, qtype):
            writer.add_tensor(name, quants.quantize(array, qtype), raw_dtype=qtype)
        else:
            writer.add_tensor(name, array)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if split_max_tensors:
        first = path.with_name(f"{path.stem}-00001-of-")
        parts = sorted(path.parent.glob(f"{path.stem}-00001-of-*.gguf"))
        assert parts, f"the writer made no split parts for {first}"
        return parts[0]
    return path
