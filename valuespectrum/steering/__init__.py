"""Activation steering of text LLMs and VLM language towers toward Schwartz values.

- :mod:`.vectors`: :class:`SteeringVector` (safetensors + JSON, never pickle)
- :mod:`.layers`: decoder-layer name templates per architecture
- :mod:`.collect`: activations, CAA mean-difference vectors, per-layer probes
- :mod:`.apply`: :func:`steer` context manager (add or ConVA gated), always restoring the model
- :mod:`.gated`: minimum-norm probe shift and gates
- :mod:`.pairs`: built-in and user contrastive pairs
- :mod:`.evaluate`: probe sets under steering with the standard controls
- :mod:`.interdependence`: value-to-value effects, PC graph, circumplex check

Heavy dependencies (torch, transformers, scikit-learn, causal-learn) load inside functions.
"""

from __future__ import annotations

from valuespectrum.steering.apply import steer
from valuespectrum.steering.pairs import ContrastivePair, builtin_pairs, load_pairs
from valuespectrum.steering.vectors import SteeringVector

__all__ = ["ContrastivePair", "SteeringVector", "builtin_pairs", "load_pairs", "steer"]
