"""Sparse autoencoders: load users' local SAEs, train small ones, find value features, steer with them.

- :mod:`.model`: :class:`SparseAutoencoder` (relu, jumprelu, topk, gated) with encode/decode/quality
- :mod:`.formats`: SAELens, Gemma Scope and EleutherAI sparsify loaders; a SAELens writer; no pickles
- :mod:`.hooks`: SAE hook names mapped onto our decoder-layer templates
- :mod:`.check`: FVE / L0 on the target model at load, refusing a mismatched SAE
- :mod:`.activations`: activations from an offline corpus, streamed to disk in shards
- :mod:`.train`: TopK and ReLU + L1 training, resumable
- :mod:`.features`: contrastive, span-active and nearest-to-a-vector features for a value
- :mod:`.steer`, :mod:`.backend`: feature add / clamp at positions or a span; a steered backend

Heavy dependencies (torch, safetensors, numpy) load inside functions.
"""

from __future__ import annotations

from valuespectrum.sae.formats import load_sae, save_saelens
from valuespectrum.sae.hooks import HookPoint, parse_hook
from valuespectrum.sae.model import SparseAutoencoder
from valuespectrum.sae.steer import FeatureEdit, steer_features

__all__ = [
    "FeatureEdit",
    "HookPoint",
    "SparseAutoencoder",
    "load_sae",
    "parse_hook",
    "save_saelens",
    "steer_features",
]
