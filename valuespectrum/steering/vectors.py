"""Steering vectors: per-layer directions with the metadata needed to reuse them safely.

Stored as a safetensors file (tensors only) plus a JSON sidecar (model id, layers, value,
method, data digest, probe biases). Nothing is ever pickled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.sidecar import read_meta, write_pair
from valuespectrum.types import stable_hash
from valuespectrum.values import Value, parse_value

if TYPE_CHECKING:
    import torch

Method = Literal["caa", "probe", "random", "pca", "actadd"]
METHODS = ("caa", "probe", "random", "pca", "actadd")
FORMAT_VERSION = 1


@dataclass
class SteeringVector:
    """Directions to add to the residual stream, one per decoder layer.

    For ``method="caa"`` each tensor is mean(positive) - mean(negative) activations. For
    ``method="probe"`` each tensor is a logistic-regression weight ``w`` and
    ``probe_bias[layer]`` its bias ``b`` (probability of the value = sigmoid(w.e + b)).
    """

    value: Value
    method: Method
    layers: dict[int, torch.Tensor]
    model_id: str
    layer_template: str
    data_digest: str
    probe_bias: dict[int, float] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        """``sha256:`` of what steering with this vector does: its tensors' bytes (float32), method,
        value, probe biases and layer template; model id and notes do not enter."""
        import hashlib

        h = hashlib.sha256()
        for i in sorted(self.layers):
            h.update(f"layer.{i}:".encode())
            h.update(self.layers[i].detach().to("cpu").float().contiguous().numpy().tobytes())
        bias = None if self.probe_bias is None else {str(i): b for i, b in sorted(self.probe_bias.items())}
        head = stable_hash([self.value.value, self.method, self.layer_template, bias])
        return f"sha256:{stable_hash([head, h.hexdigest()])}"

    def norms(self) -> dict[int, float]:
        return {i: float(t.norm()) for i, t in self.layers.items()}

    def random_like(self, seed: int) -> SteeringVector:
        """A random direction per layer with the same norm as this vector's (a control).

        Probe biases are kept, so a random probe direction can be used in gated mode too.
        """
        import torch

        gen = torch.Generator().manual_seed(seed)
        layers: dict[int, torch.Tensor] = {}
        for i in sorted(self.layers):
            t = self.layers[i]
            r = torch.randn(t.shape, generator=gen, dtype=torch.float32)
            layers[i] = (r * (t.float().norm() / r.norm())).to(t.dtype)
        return SteeringVector(
            value=self.value,
            method="random",
            layers=layers,
            model_id=self.model_id,
            layer_template=self.layer_template,
            data_digest=self.data_digest,
            probe_bias=None if self.probe_bias is None else dict(self.probe_bias),
            metadata={"seed": seed, "norm_of": self.method},
        )

    def save(self, path: str | Path) -> Path:
        """Write ``<path>.safetensors`` and ``<path>.json``; returns the safetensors path."""
        from safetensors.torch import save_file

        tensors = {f"layer.{i}": t.detach().cpu().contiguous() for i, t in self.layers.items()}
        meta = {
            "format_version": FORMAT_VERSION,
            "value": self.value.value,
            "method": self.method,
            "model_id": self.model_id,
            "layer_template": self.layer_template,
            "layers": sorted(self.layers),
            "data_digest": self.data_digest,
            "probe_bias": None
            if self.probe_bias is None
            else {str(i): b for i, b in sorted(self.probe_bias.items())},
            "metadata": self.metadata,
        }
        return write_pair(path, save_file, tensors, meta)

    @classmethod
    def load(cls, path: str | Path) -> SteeringVector:
        """Read a vector written by :meth:`save` (give either file, or the common stem)."""
        from safetensors.torch import load_file

        required = ("value", "method", "model_id", "layer_template", "layers", "data_digest")
        st, js, meta = read_meta(path, "a steering vector", required)
        if meta["method"] not in METHODS:
            raise ConfigError(
                f"{js}: field 'method' is {meta['method']!r}; expected one of {', '.join(METHODS)}"
            )
        tensors = load_file(str(st))
        layers: dict[int, torch.Tensor] = {}
        for i in meta["layers"]:
            key = f"layer.{i}"
            if key not in tensors:
                raise ConfigError(f"{st}: tensor {key!r} listed in {js.name} 'layers' is missing")
            layers[int(i)] = tensors[key]
        bias = meta.get("probe_bias")
        return cls(
            value=parse_value(meta["value"]),
            method=meta["method"],
            layers=layers,
            model_id=meta["model_id"],
            layer_template=meta["layer_template"],
            data_digest=meta["data_digest"],
            probe_bias=None if bias is None else {int(k): float(v) for k, v in bias.items()},
            metadata=dict(meta.get("metadata") or {}),
        )


def texts_digest(texts: list[str] | list[tuple[str, str]]) -> str:
    """Digest of the training data, recorded with each vector so results can be traced."""
    return "sha256:" + stable_hash(list(texts))
