#!/usr/bin/env bash
# Run on the lent GPU machine (no network there): build llama-cpp-python with CUDA from the trimmed
# source and wheels carried in .gpu/, then run perf/gpu_offload.py and `duel chat --gpu-layers`.
set -x
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
# the image keeps PyTorch, scikit-build-core, cmake and ninja in its own venv: install into it
PY=$(command -v /opt/torch/.venv/bin/python3 || command -v python3)
export PATH="$(dirname "$PY"):$PATH"
python3 -m pip install -q --no-index --no-deps .gpu/*.whl
export CMAKE_ARGS="-DGGML_CUDA=on -DCMAKE_CUDA_ARCHITECTURES=90 -DGGML_CUDA_FA=OFF -DGGML_CUDA_NCCL=OFF"
export CMAKE_BUILD_PARALLEL_LEVEL=$(nproc)
start=$(date +%s)
python3 -m pip install --no-index --no-deps --no-build-isolation .gpu/llama_cpp_python-0.3.36-trim.tar.gz > "$OUT/build.log" 2>&1 \
  || { tail -40 "$OUT/build.log"; exit 1; }
echo "build took $(( $(date +%s) - start ))s"
PYTHONPATH=. python3 perf/gpu_offload.py 2>&1 | tee "$OUT/gpu_offload.txt"
