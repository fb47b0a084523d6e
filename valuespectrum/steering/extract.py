"""Steering vectors per value from contrastive pairs, as one library call.

    vecs = extract(backend, values=["Power"], layers=[15])
    vecs["Power"].caa, vecs["Power"].probe, vecs["Power"].accuracy      # typed results
    SteeredBackend(backend, vecs["Power"].caa, 4.0)

``backend`` is anything exposing its activations (an ``hf:`` backend) or a model spec string
(loaded for the call and closed after it). Nothing is written unless you save the vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from valuespectrum.backends.base import ActivationAccess, Backend, text_reader
from valuespectrum.errors import ConfigError
from valuespectrum.steering.collect import Extraction, Position, extract_vectors, train_detector
from valuespectrum.steering.layers import resolve_layers
from valuespectrum.steering.pairs import ContrastivePair, builtin_pairs, load_pairs
from valuespectrum.steering.vectors import SteeringVector
from valuespectrum.values import Value, parse_value


@dataclass
class ValueVectors:
    """What was extracted for one value."""

    value: Value
    caa: SteeringVector
    """Mean-difference direction per layer."""
    probe: SteeringVector
    """Logistic-probe direction per layer (with biases: usable in gated mode and as a detector)."""
    accuracy: dict[int, float]
    """Held-out probe accuracy per layer (scenarios unseen in training)."""
    detector: SteeringVector | None = None
    """A whole-input value detector (value texts versus other values' texts), when asked for."""
    detector_accuracy: float | None = None

    def save(self, folder: str | Path) -> list[Path]:
        """Write <value>-caa, -probe (and -detector) .safetensors + .json into ``folder``."""
        slug = self.value.value.lower()
        out = [self.caa.save(Path(folder) / f"{slug}-caa"), self.probe.save(Path(folder) / f"{slug}-probe")]
        if self.detector is not None:
            out.append(self.detector.save(Path(folder) / f"{slug}-detector"))
        return out


def extract(
    backend: ActivationAccess | Backend | str,
    *,
    values: Sequence[Value | str] | None = None,
    layers: Sequence[int],
    pairs: Sequence[ContrastivePair] | str | Path = "builtin",
    position: Position = "last",
    batch_size: int = 8,
    test_fraction: float = 0.25,
    seed: int = 0,
    layer_template: str | None = None,
    detector_layer: int | None = None,
    **backend_options: Any,
) -> dict[Value, ValueVectors]:
    """CAA and probe vectors for each of ``values`` (default: all ten) at ``layers``.

    ``pairs``: ``"builtin"``, a .jsonl/.csv file of pairs, or ContrastivePair objects.
    ``detector_layer`` also trains a whole-input detector per value at that layer. A spec
    string is loaded with ``backend_options`` and closed afterwards. The result is keyed by
    :class:`Value`; value names work as keys too (``vecs["Power"]``).
    """
    if isinstance(backend, str):
        from valuespectrum.backends.registry import create_backend

        loaded = create_backend(backend, **backend_options)
        try:
            return extract(
                loaded, values=values, layers=layers, pairs=pairs, position=position, batch_size=batch_size,
                test_fraction=test_fraction, seed=seed, layer_template=layer_template,
                detector_layer=detector_layer,
            )  # fmt: skip
        finally:
            loaded.close()
    if not isinstance(backend, ActivationAccess):
        raise ConfigError(
            f"{type(backend).__name__} does not expose its activations (model, tokenizer); "
            "extract steering vectors from a local model, e.g. create_backend('hf:PATH')"
        )
    if not layers:
        raise ConfigError("extract needs at least one layer")
    chosen = (
        list(Value) if values is None else [v if isinstance(v, Value) else parse_value(v) for v in values]
    )
    data = builtin_pairs() if isinstance(pairs, str) and pairs == "builtin" else pairs
    data = load_pairs(data) if isinstance(data, str | Path) else list(data)
    model, reader = backend.model, text_reader(backend)
    model_id = str(getattr(backend, "model_id", type(model).__name__))
    out: dict[Value, ValueVectors] = {}
    for v in chosen:
        ex = extract_vectors(
            model, reader, data, v, list(layers), model_id=model_id, layer_template=layer_template,
            position=position, batch_size=batch_size, test_fraction=test_fraction, seed=seed,
        )  # fmt: skip
        found = ValueVectors(v, ex.caa, ex.probe, ex.accuracy_table())
        if detector_layer is not None:
            found.detector, found.detector_accuracy = _detector(
                model,
                reader,
                data,
                v,
                detector_layer,
                ex,
                position=position,
                batch_size=batch_size,
                seed=seed,
            )
        out[v] = found
    return out


def _detector(
    model: Any,
    reader: Any,
    pairs: list[ContrastivePair],
    value: Value,
    layer: int,
    ex: Extraction,
    *,
    position: Position,
    batch_size: int,
    seed: int,
) -> tuple[SteeringVector, float]:
    fit = train_detector(
        model, reader, pairs, value, layer, layer_template=ex.probe.layer_template, position=position,
        batch_size=batch_size, seed=seed,
    )  # fmt: skip
    (index,) = resolve_layers(model, [layer], ex.probe.layer_template)
    vec = SteeringVector(
        value,
        "probe",
        {index: fit.w},
        ex.probe.model_id,
        ex.probe.layer_template,
        ex.probe.data_digest,
        {index: fit.b},
        {"role": "detector", "position": position, "seed": seed, "test_accuracy": fit.test_accuracy},
    )
    return vec, fit.test_accuracy
