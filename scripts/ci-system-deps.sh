#!/usr/bin/env bash
# System packages the test suite needs beyond the Python environment: Debian's chromium,
# which the report browser test drives headless. Idempotent: does nothing when chromium is
# already installed; skips with a message when it cannot install (no apt-get, not root).
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
    echo "ci-system-deps: chromium already installed ($(command -v chromium))"
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ci-system-deps: apt-get not found; skipping chromium (the browser test will be skipped)"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "ci-system-deps: not root; skipping chromium (run as root, or: sudo apt-get install -y chromium)"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
echo "ci-system-deps: installed $(chromium --version 2>/dev/null || echo chromium)"
