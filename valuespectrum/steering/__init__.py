"""Activation steering of text LLMs and VLM language towers toward Schwartz values.

- :mod:`.vectors`: :class:`SteeringVector` (safetensors + JSON, never pickle)
- :mod:`.layers`: decoder-layer name templates per architecture
- :mod:`.collect`: activations, CAA mean-difference vectors, per-layer probes
- :mod:`.apply`: :func:`steer` context manager (add or ConVA gated), always restoring the model
- :mod:`.gated`: minimum-norm probe shift and gates
- :mod:`.pairs`: built-in and user contrastive pairs
- :mod:`.extract`: :func:`extract`, vectors per value from a backend in one call
- :mod:`.conditions`, :mod:`.evaluate`: probe sets under steering with the standard controls,
  as one ordinary probe run (responses, resume, cache, re-scoring)
- :class:`SteeredBackend` (:mod:`valuespectrum.backends.steered`): a backend with a steering
  condition, usable wherever a backend is (probe runs, VQA, browsing)
- :mod:`.interdependence`: value-to-value effects, PC graph, circumplex check
- :mod:`.directions`: PCA/RepE and ActAdd vectors, directional ablation
- :mod:`.conva_shift`: ConVA's prompt-constant sequential shift (raise or lower)
- :mod:`.preference`, :mod:`.sweep`: pair preference and the layer x strength sweep
- :mod:`.gguf_export`: llama.cpp control vectors; :mod:`.mmlu`: MMLU-layout capability;
  :mod:`.classifier_gate`: a gate from a local text classifier
- value neurons live in :mod:`valuespectrum.neurons`

Heavy dependencies (torch, transformers, scikit-learn, causal-learn) load inside functions.
"""

from __future__ import annotations

from typing import Any

from valuespectrum.steering.apply import steer
from valuespectrum.steering.extract import ValueVectors, extract
from valuespectrum.steering.pairs import ContrastivePair, builtin_pairs, load_pairs
from valuespectrum.steering.vectors import SteeringVector

__all__ = [
    "ContrastivePair",
    "SteeredBackend",
    "SteeringVector",
    "ValueVectors",
    "builtin_pairs",
    "extract",
    "load_pairs",
    "steer",
]


def __getattr__(name: str) -> Any:
    # backends.steered imports this package's modules; importing it lazily keeps the graph acyclic
    if name == "SteeredBackend":
        from valuespectrum.backends.steered import SteeredBackend

        return SteeredBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
