#!/usr/bin/env bash
# System packages the test suite needs beyond the Python environment: Debian's chromium, which
# the report browser tests drive headless, and a C/C++ compiler, which building the llama.cpp
# server for its real-server tests needs (scripts/install-llamacpp.sh). Idempotent: installs
# only what is missing; skips with a message when it cannot install (no apt-get, not root), and
# those tests then skip.
set -euo pipefail

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium fonts-dejavu-core)
{ command -v cc >/dev/null 2>&1 && command -v c++ >/dev/null 2>&1; } || missing+=(build-essential)
if [ "${#missing[@]}" -eq 0 ]; then
    echo "ci-system-deps: chromium and a C/C++ compiler already installed"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-system-deps: apt-get not found; skipping ${missing[*]} (the tests needing them will skip)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ci-system-deps: not root; skipping ${missing[*]} (run as root, or: sudo apt-get install -y ${missing[*]})"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "ci-system-deps: installed ${missing[*]}"
