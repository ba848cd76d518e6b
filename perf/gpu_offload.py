"""GPU offload through duel's engine: the same model with --gpu-layers 0 and -1, side by side.

Run on a machine with a CUDA (or Metal) build of llama-cpp-python. No weights are downloaded: the
script writes a llama-architecture model with random weights (tests/tiny_models.py, scaled up
so the offload is measurable), then generates the same greedy tokens through
`engines.factory.open_engine` on the CPU and with every layer offloaded. It prints whether
llama.cpp reports GPU support, GPU memory used while each engine is loaded (nvidia-smi), and the
tokens/s of each; the last line is `gpu_offload_speedup=…`.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import llama_cpp  # noqa: E402

from engines.base import GenerationParams, LoadOptions  # noqa: E402
from engines.factory import open_engine  # noqa: E402


def gpu_memory_mib() -> int | None:
    if not shutil.which("nvidia-smi"):
        return None
    out = subprocess.run(
        ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
        capture_output=True, text=True, check=False,
    )
    return int(out.stdout.split()[0]) if out.returncode == 0 and out.stdout.strip() else None


def write_model(folder: Path, n_embd: int, n_layer: int) -> Path:
    import tests.tiny_models as tiny

    tiny.N_EMBD, tiny.N_HEAD, tiny.N_LAYER, tiny.N_FF = n_embd, 16, n_layer, n_embd * 4
    tiny.HEAD_DIM, tiny.CONTEXT = n_embd // 16, 4096
    return tiny.write_tiny_model("llama", folder / f"llama-{n_embd}x{n_layer}.gguf")


def generate(ref: str, gpu_layers: int, tokens: int, runs: int) -> tuple[float, str, int | None]:
    before = gpu_memory_mib()
    engine = open_engine(ref, LoadOptions(n_ctx=1024, n_gpu_layers=gpu_layers, force=True))
    loaded = gpu_memory_mib()
    used = loaded - before if before is not None and loaded is not None else None
    speeds, text = [], ""
    params = GenerationParams(max_tokens=tokens, temperature=0.0, seed=1)
    try:
        for _ in range(runs):
            pieces, stats = [], None
            for chunk in engine.stream_chat([{"role": "user", "content": "hello the model"}], params):
                pieces.append(chunk.text)
                stats = chunk.stats or stats
            assert stats is not None and stats.completion_tokens > 0, "no tokens generated"
            speeds.append(stats.tokens_per_s)
            text = "".join(pieces)
    finally:
        engine.close()
    return statistics.median(speeds), text, used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--embd", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    print(f"llama_supports_gpu_offload={llama_cpp.llama_supports_gpu_offload()}")
    with tempfile.TemporaryDirectory() as tmp:
        path = write_model(Path(tmp), args.embd, args.layers)
        print(f"model: {path.name}, {path.stat().st_size / 2**20:.0f} MiB (f32, random weights)")
        cpu_tps, cpu_text, cpu_mem = generate(str(path), 0, args.tokens, args.runs)
        gpu_tps, gpu_text, gpu_mem = generate(str(path), -1, args.tokens, args.runs)
    print(f"cpu  --gpu-layers 0 : {cpu_tps:8.1f} tokens/s, GPU memory while loaded +{cpu_mem} MiB")
    print(f"gpu  --gpu-layers -1: {gpu_tps:8.1f} tokens/s, GPU memory while loaded +{gpu_mem} MiB")
    print(f"same greedy text on both: {cpu_text == gpu_text}")
    print(f"gpu_offload_speedup={gpu_tps / cpu_tps:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
