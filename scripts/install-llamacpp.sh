#!/usr/bin/env bash
# Build llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) from source into the
# project's virtual environment, for the real-server tests (tests/test_backend_llamacpp.py).
# About 7.5 min on 2 cores. A failed build is reported and skipped (exit 0): those tests then
# skip. Set VSPEC_WHEELS=DIR to reuse a wheel built earlier (pip wheel ... -w DIR).
#
# Instruction sets come from this CPU's flags, never from -DGGML_NATIVE=ON: a VM may advertise
# instructions (AMX tiles) it does not allow, and the server then dies with SIGILL on its
# first completion. AVX-512 is enabled only where the CPU lists it.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${VSPEC_VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY="${PYTHON:-python3}"
flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
has() { [[ " $flags " == *" $1 "* ]] && echo ON || echo OFF; }
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
CMAKE_ARGS+=" -DGGML_AVX=$(has avx) -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma) -DGGML_F16C=$(has f16c)"
CMAKE_ARGS+=" -DGGML_AVX512=$(has avx512f) -DGGML_AVX512_VNNI=$(has avx512_vnni)"
CMAKE_ARGS+=" -DGGML_AVX512_VBMI=$(has avx512vbmi) -DGGML_AVX512_BF16=$(has avx512_bf16) -DGGML_AVX_VNNI=$(has avx_vnni)"
export CMAKE_ARGS
constraints=()
[ -f constraints-cpu.txt ] && constraints=(-c constraints-cpu.txt)
find_links=()
[ -n "${VSPEC_WHEELS:-}" ] && find_links=(--find-links "$VSPEC_WHEELS")
echo "building llama-cpp-python[server] with CMAKE_ARGS=$CMAKE_ARGS"
if "$PY" -m pip install -q "${constraints[@]}" "${find_links[@]}" 'llama-cpp-python[server]>=0.3.30'; then
  echo "llama.cpp server installed: python -m llama_cpp.server --model FILE.gguf"
else
  echo "llama-cpp-python did not build here; the llama.cpp server tests will skip" >&2
fi
exit 0
