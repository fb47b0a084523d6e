#!/usr/bin/env bash
# Build llama.cpp's OpenAI-compatible server (llama-cpp-python[server]) from source into the
# project's virtual environment, for the real-server tests (tests/test_backend_llamacpp.py).
#
# The wheel is built once (about 7.5 min on 2 cores) into a project cache keyed by the package
# version and the build flags derived below, then installed from there; later installs on the
# same machine take seconds:
#   ${XDG_CACHE_HOME:-$HOME/.cache}/valuespectrum/wheels/<sha256 of version + CMAKE_ARGS>/
# `scripts/install-llamacpp.sh --cache-dir` prints that folder. pip's own wheel cache is never
# used for this package: it is keyed by the source archive alone, so a wheel built on another
# CPU (with AVX-512, say) would be reused here and die with SIGILL.
#
# Instruction sets come from this CPU's flags, never from -DGGML_NATIVE=ON: a VM may advertise
# instructions (AMX tiles) it does not allow, and the server then dies with SIGILL on its
# first completion. AVX-512 is enabled only where the CPU lists it.
#
# A failed build is reported and skipped (exit 0): those tests then skip.
set -uo pipefail
cd "$(dirname "$0")/.."
VENV="${VSPEC_VENV:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || PY="${PYTHON:-python3}"
VERSION="${VSPEC_LLAMACPP_VERSION:-0.3.36}"   # the version the tests cover
flags="$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null || true)"
has() { [[ " $flags " == *" $1 "* ]] && echo ON || echo OFF; }
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_BLAS=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF"
CMAKE_ARGS+=" -DGGML_AVX=$(has avx) -DGGML_AVX2=$(has avx2) -DGGML_FMA=$(has fma) -DGGML_F16C=$(has f16c)"
CMAKE_ARGS+=" -DGGML_AVX512=$(has avx512f) -DGGML_AVX512_VNNI=$(has avx512_vnni)"
CMAKE_ARGS+=" -DGGML_AVX512_VBMI=$(has avx512vbmi) -DGGML_AVX512_BF16=$(has avx512_bf16) -DGGML_AVX_VNNI=$(has avx_vnni)"
export CMAKE_ARGS
key="$(printf 'llama-cpp-python==%s\n%s\n' "$VERSION" "$CMAKE_ARGS" | sha256sum | cut -c1-16)"
CACHE="${XDG_CACHE_HOME:-${HOME:-$PWD}/.cache}/valuespectrum/wheels/$key"
if [ "${1:-}" = "--cache-dir" ]; then
  echo "$CACHE"
  exit 0
fi
constraints=()
[ -f constraints-cpu.txt ] && constraints=(-c constraints-cpu.txt)

wheel="$(ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl 2>/dev/null | head -n1)"
if [ -z "$wheel" ]; then
  echo "building llama-cpp-python $VERSION with CMAKE_ARGS=$CMAKE_ARGS into $CACHE"
  tmp="$CACHE.partial.$$"
  rm -rf "$tmp" && mkdir -p "$tmp"
  # --no-cache-dir: never take (or leave) a wheel in pip's cache, which ignores CMAKE_ARGS
  if "$PY" -m pip wheel -q --no-cache-dir --no-deps -w "$tmp" "llama-cpp-python==$VERSION"; then
    mkdir -p "$(dirname "$CACHE")"
    rm -rf "$CACHE" && mv "$tmp" "$CACHE"   # a build cut short never looks finished
    printf '%s\n' "$CMAKE_ARGS" >"$CACHE/CMAKE_ARGS"
    wheel="$(ls "$CACHE"/llama_cpp_python-"$VERSION"-*.whl | head -n1)"
  else
    rm -rf "$tmp"
    echo "llama-cpp-python did not build here; the llama.cpp server tests will skip" >&2
    exit 0
  fi
else
  echo "llama-cpp-python $VERSION: reusing $wheel (built with these flags)"
fi
if "$PY" -m pip install -q --no-cache-dir "${constraints[@]}" "$wheel[server]"; then
  echo "llama.cpp server installed: python -m llama_cpp.server --model FILE.gguf"
else
  echo "llama-cpp-python did not install here; the llama.cpp server tests will skip" >&2
fi
exit 0
