"""Steering vectors as llama.cpp control-vector files (GGUF) and back.

A control vector is a tensor-only GGUF file with architecture ``controlvector``, the keys
``controlvector.model_hint`` (the model's architecture, e.g. ``llama``) and
``controlvector.layer_count``, and one float32 tensor ``direction.N`` of the hidden size per
layer. llama.cpp adds ``direction.N`` (times the user's scale) to the output of decoder block
``N``, the same index as our layer ``N``; it never applies ``direction.0``, so layer 0 is refused.
Our own metadata (value, method, data digest, layer template) travels in ``valuespectrum.*`` keys,
which llama.cpp ignores, so a file written here reads back as the same :class:`SteeringVector`.

    export_control_vector(vec, "benevolence.gguf", strength=4.0, model_hint="llama")
    llama-cli -m model.gguf --control-vector benevolence.gguf
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.steering.vectors import METHODS, Method, SteeringVector
from valuespectrum.values import parse_value

ARCH = "controlvector"
_META = ("value", "method", "model_id", "layer_template", "data_digest")


def _gguf() -> Any:
    try:
        import gguf
    except ImportError as exc:
        raise ConfigError("GGUF export needs the 'gguf' package: pip install 'valuespectrum[hf]'") from exc
    return gguf


def export_control_vector(
    vector: SteeringVector, path: str | Path, *, strength: float = 1.0, model_hint: str = "llama"
) -> Path:
    """Write ``vector`` (multiplied by ``strength``) as a llama.cpp control vector; returns the path."""
    gguf = _gguf()
    if 0 in vector.layers:
        raise ConfigError("layer 0: llama.cpp never applies direction.0; export the vector without layer 0")
    out = Path(path)
    if out.suffix != ".gguf":
        raise ConfigError(f"{out}: a control vector file must end in .gguf")
    out.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out), ARCH)
    try:
        writer.add_string(f"{ARCH}.model_hint", model_hint)
        writer.add_uint32(f"{ARCH}.layer_count", len(vector.layers))
        for key in _META:
            writer.add_string(
                f"valuespectrum.{key}",
                str(getattr(vector, key).value if key == "value" else getattr(vector, key)),
            )
        writer.add_float32("valuespectrum.strength", float(strength))
        if vector.probe_bias is not None:
            # biases belong to the unscaled probe; kept in layer order (llama.cpp ignores them)
            writer.add_array(
                "valuespectrum.probe_bias", [float(vector.probe_bias[i]) for i in sorted(vector.layers)]
            )
        for i in sorted(vector.layers):
            data = vector.layers[i].detach().cpu().double().numpy() * float(strength)
            writer.add_tensor(f"direction.{i}", data.astype(np.float32))
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
    finally:
        writer.close()
    return out


def _field_value(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return None
    part = field.parts[field.data[0]]
    if field.types and field.types[0].name == "STRING":
        return bytes(part).decode("utf-8")
    return part.tolist()[0]


def import_control_vector(
    path: str | Path, *, value: str | None = None, unscale: bool = True
) -> SteeringVector:
    """Read a control-vector GGUF (ours or another tool's) as a :class:`SteeringVector`.

    ``unscale`` divides by the strength recorded at export, giving back the stored vector.
    Files from other tools carry no value: pass ``value=``.
    """
    import torch

    gguf = _gguf()
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: control-vector file not found")
    try:
        reader = gguf.GGUFReader(str(p))
    except Exception as exc:  # the reader raises plain ValueError/struct errors on bad bytes
        raise ConfigError(f"{p}: not a readable GGUF file ({exc})") from exc
    arch = _field_value(reader, "general.architecture")
    if arch != ARCH:
        raise ConfigError(f"{p}: general.architecture is {arch!r}; a control vector has {ARCH!r}")
    layers: dict[int, torch.Tensor] = {}
    for t in reader.tensors:
        if not t.name.startswith("direction."):
            continue
        try:
            idx = int(t.name.split(".", 1)[1])
        except ValueError as exc:
            raise ConfigError(f"{p}: tensor {t.name!r} is not named direction.<layer>") from exc
        layers[idx] = torch.from_numpy(np.array(t.data, dtype=np.float32).reshape(-1))
    if not layers:
        raise ConfigError(f"{p}: no direction.<layer> tensors")
    meta = {k: _field_value(reader, f"valuespectrum.{k}") for k in _META}
    strength = _field_value(reader, "valuespectrum.strength") or 1.0
    if unscale and strength != 1.0:
        layers = {i: t / float(strength) for i, t in layers.items()}
    name = value or meta["value"]
    if name is None:
        raise ConfigError(f"{p}: the file names no value (not written by valuespectrum); pass value=")
    method = cast("Method", meta["method"] if meta["method"] in METHODS else "caa")
    bias_field = reader.fields.get("valuespectrum.probe_bias")
    bias = None
    if bias_field is not None:
        vals = [float(bias_field.parts[j][0]) for j in bias_field.data]
        bias = dict(zip(sorted(layers), vals, strict=True))
    return SteeringVector(
        value=parse_value(name),
        method=method,
        layers=layers,
        model_id=meta["model_id"] or str(_field_value(reader, f"{ARCH}.model_hint") or ""),
        layer_template=meta["layer_template"] or "model.layers.{i}",
        data_digest=meta["data_digest"] or "",
        probe_bias=bias,
        metadata={"imported_from": p.name, "strength": float(strength)},
    )
