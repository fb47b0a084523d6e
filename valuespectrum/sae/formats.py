"""Read SAEs from the local layouts users have, and write ours in the SAELens layout.

| layout | files | read as |
|---|---|---|
| SAELens | ``cfg.json`` + ``sae_weights.safetensors`` | architecture standard/jumprelu/topk/gated, ``hook_name``, ``apply_b_dec_to_input``, ``normalize_activations``, ``model_from_pretrained_kwargs.center_writing_weights`` |
| Gemma Scope | ``params.npz`` (``W_enc, W_dec, b_enc, b_dec, threshold``) | JumpReLU, ``apply_b_dec_to_input`` false; layer from a ``layer_N`` folder name |
| EleutherAI sparsify | ``cfg.json`` + ``sae.safetensors`` in a ``layers.N`` folder | TopK, ``encoder.weight`` transposed, ``b_dec`` subtracted first |

Nothing is unpickled: ``.pt``/``.pth``/``.pkl``/``.ckpt``/``.bin`` files are refused, and
``.npz`` files load with ``allow_pickle=False``. Convert a pickled checkpoint offline, in a
trusted environment, to safetensors plus a SAELens ``cfg.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError
from valuespectrum.sae.hooks import parse_hook
from valuespectrum.sae.model import SparseAutoencoder
from valuespectrum.tables import read_json_object

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin")
SAELENS_WEIGHTS = "sae_weights.safetensors"
_ARCH_FROM_SAELENS = {
    "standard": "relu",
    "relu": "relu",
    "jumprelu": "jumprelu",
    "topk": "topk",
    "gated": "gated",
}
_ARCH_TO_SAELENS = {"relu": "standard", "jumprelu": "jumprelu", "topk": "topk", "gated": "gated"}


def detect_format(path: str | Path) -> str:
    """``saelens``, ``gemmascope`` or ``sparsify`` for a folder or file; a clear error otherwise."""
    p = Path(path)
    if p.suffix in PICKLE_SUFFIXES:
        raise ConfigError(
            f"{p}: pickled checkpoints are refused; convert it offline to safetensors + cfg.json"
        )
    if p.is_file() and p.suffix == ".npz":
        return "gemmascope"
    if not p.is_dir():
        raise ConfigError(f"{p}: no such SAE folder (give the folder holding cfg.json or params.npz)")
    if (p / SAELENS_WEIGHTS).is_file():
        return "saelens"
    if (p / "params.npz").is_file():
        return "gemmascope"
    if (p / "sae.safetensors").is_file():
        return "sparsify"
    pickles = sorted(q.name for q in p.iterdir() if q.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise ConfigError(
            f"{p}: only pickled weights found ({', '.join(pickles)}); pickles are refused. "
            "Convert offline to safetensors with a SAELens cfg.json"
        )
    raise ConfigError(
        f"{p}: no SAE found; expected cfg.json + {SAELENS_WEIGHTS} (SAELens), params.npz (Gemma Scope) "
        "or cfg.json + sae.safetensors (EleutherAI sparsify)"
    )


def load_sae(
    path: str | Path, *, hook_name: str | None = None, scale: float | None = None, device: str = "cpu"
) -> SparseAutoencoder:
    """Load an SAE from a local folder (or a ``params.npz``); ``hook_name`` overrides the file's."""
    fmt = detect_format(path)
    sae = {"saelens": _load_saelens, "gemmascope": _load_gemmascope, "sparsify": _load_sparsify}[fmt](
        Path(path)
    )
    if hook_name is not None:
        parse_hook(hook_name)
        sae.hook_name = hook_name
    if scale is not None:
        sae.normalize, sae.scale = "scale", float(scale)
    sae.metadata.setdefault("source", str(path))
    sae.metadata["format"] = fmt
    return sae.to(device=device)


def _read_cfg(path: Path) -> dict[str, Any]:
    return read_json_object(path, "the JSON object of the SAE folder's cfg.json")


def _tensors(path: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return dict(load_file(str(path)))


def _need(tensors: dict[str, Any], name: str, where: Path) -> Any:
    if name not in tensors:
        raise ConfigError(f"{where}: tensor {name!r} is missing (has {sorted(tensors)})")
    return tensors[name].float()


def _load_saelens(folder: Path) -> SparseAutoencoder:
    cfg_path, w_path = folder / "cfg.json", folder / SAELENS_WEIGHTS
    cfg = _read_cfg(cfg_path)
    raw_arch = str(cfg.get("architecture", "standard"))
    if raw_arch not in _ARCH_FROM_SAELENS:
        raise ConfigError(
            f"{cfg_path}: field 'architecture' is {raw_arch!r}; expected {sorted(_ARCH_FROM_SAELENS)}"
        )
    arch = _ARCH_FROM_SAELENS[raw_arch]
    t = _tensors(w_path)
    import torch

    threshold = None
    if arch == "jumprelu":
        threshold = t["threshold"].float() if "threshold" in t else None
        if threshold is None and "log_threshold" in t:
            threshold = torch.exp(t["log_threshold"].float())
        if threshold is None:
            raise ConfigError(f"{w_path}: a jumprelu SAE needs 'threshold' (or 'log_threshold')")
    b_enc = _need(t, "b_gate" if arch == "gated" else "b_enc", w_path)
    norm, scale = _normalisation(cfg, cfg_path)
    kwargs = cfg.get("model_from_pretrained_kwargs") or {}
    hook = str(cfg.get("hook_name") or cfg.get("hook_point") or "")
    if not hook:
        raise ConfigError(f"{cfg_path}: field 'hook_name' is missing (e.g. blocks.12.hook_resid_post)")
    parse_hook(hook)
    k = cfg.get("k") or (cfg.get("activation_fn_kwargs") or {}).get("k")
    return SparseAutoencoder(
        architecture=arch,  # type: ignore[arg-type]
        W_enc=_need(t, "W_enc", w_path),
        b_enc=b_enc,
        W_dec=_need(t, "W_dec", w_path),
        b_dec=_need(t, "b_dec", w_path),
        hook_name=hook,
        k=None if k is None else int(k),
        threshold=threshold,
        r_mag=_need(t, "r_mag", w_path) if arch == "gated" else None,
        b_mag=_need(t, "b_mag", w_path) if arch == "gated" else None,
        apply_b_dec_to_input=bool(cfg.get("apply_b_dec_to_input", True)),
        normalize=norm,  # type: ignore[arg-type]
        scale=scale,
        center=bool(kwargs.get("center_writing_weights", False)),
        model_id=cfg.get("model_name"),
        metadata={"cfg": {k2: v for k2, v in cfg.items() if isinstance(v, str | int | float | bool)}},
    )


def _normalisation(cfg: dict[str, Any], where: Path) -> tuple[str, float]:
    raw = str(cfg.get("normalize_activations") or "none")
    if raw == "none":
        return "none", 1.0
    if raw == "constant_norm_rescale":
        return "constant_norm_rescale", 1.0
    if raw == "expected_average_only_in":
        for key in ("norm_scaling_factor", "scaling_factor", "activation_norm_scaling_factor"):
            if cfg.get(key) is not None:
                return "scale", float(cfg[key])
        raise ConfigError(
            f"{where}: normalize_activations is 'expected_average_only_in' but no scaling factor is given; "
            "add 'norm_scaling_factor' (sqrt(d_in) / mean activation norm) to cfg.json or pass scale="
        )
    raise ConfigError(
        f"{where}: field 'normalize_activations' is {raw!r}; expected none, constant_norm_rescale "
        "or expected_average_only_in"
    )


def _load_gemmascope(path: Path) -> SparseAutoencoder:
    import numpy as np
    import torch

    npz = path if path.suffix == ".npz" else path / "params.npz"
    try:
        with np.load(npz, allow_pickle=False) as data:
            arrays = {k: torch.from_numpy(np.asarray(data[k], dtype=np.float32)) for k in data.files}
    except ValueError as exc:
        raise ConfigError(f"{npz}: not a plain array archive ({exc}); object arrays are refused") from exc
    missing = [k for k in ("W_enc", "W_dec", "b_enc", "b_dec", "threshold") if k not in arrays]
    if missing:
        raise ConfigError(
            f"{npz}: arrays {missing} missing; a Gemma Scope params.npz has W_enc, W_dec, b_enc, b_dec, threshold"
        )
    where = str(npz.resolve())
    m = re.search(r"layer_(\d+)", where)
    if m is None:
        raise ConfigError(
            f"{npz}: no 'layer_N' folder in the path; pass hook_name= (e.g. blocks.12.hook_resid_post)"
        )
    if re.search(r"-att", where):
        raise ConfigError(f"{npz}: attention-output Gemma Scope SAEs (hook_z) are not supported")
    site = "mlp_out" if re.search(r"-mlp", where) else "resid_post"
    return SparseAutoencoder(
        architecture="jumprelu",
        W_enc=arrays["W_enc"],
        b_enc=arrays["b_enc"],
        W_dec=arrays["W_dec"],
        b_dec=arrays["b_dec"],
        threshold=arrays["threshold"],
        hook_name=f"blocks.{m.group(1)}.hook_{site}",
        apply_b_dec_to_input=False,
    )


def _load_sparsify(folder: Path) -> SparseAutoencoder:
    cfg_path, w_path = folder / "cfg.json", folder / "sae.safetensors"
    cfg = _read_cfg(cfg_path)
    t = _tensors(w_path)
    if "k" not in cfg:
        raise ConfigError(f"{cfg_path}: field 'k' is missing (sparsify SAEs are TopK)")
    m = re.fullmatch(r"(?:.*\.)?layers\.(\d+)", folder.name)
    if m is None:
        raise ConfigError(f"{folder}: sparsify SAEs live in a 'layers.N' folder; pass hook_name= otherwise")
    return SparseAutoencoder(
        architecture="topk",
        W_enc=_need(t, "encoder.weight", w_path).T.contiguous(),
        b_enc=_need(t, "encoder.bias", w_path),
        W_dec=_need(t, "W_dec", w_path),
        b_dec=_need(t, "b_dec", w_path),
        k=int(cfg["k"]),
        hook_name=f"blocks.{m.group(1)}.hook_resid_post",
        apply_b_dec_to_input=True,
    )


def save_saelens(sae: SparseAutoencoder, folder: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
    """Write ``cfg.json`` + ``sae_weights.safetensors`` (SAELens layout) and return the folder."""
    from safetensors.torch import save_file

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    t: dict[str, Any] = {"W_enc": sae.W_enc, "W_dec": sae.W_dec, "b_dec": sae.b_dec}
    t["b_gate" if sae.architecture == "gated" else "b_enc"] = sae.b_enc
    for name in ("threshold", "r_mag", "b_mag"):
        v = getattr(sae, name)
        if v is not None:
            t[name] = v
    save_file({k: v.detach().cpu().float().contiguous() for k, v in t.items()}, str(out / SAELENS_WEIGHTS))
    norm = {
        "none": "none",
        "constant_norm_rescale": "constant_norm_rescale",
        "scale": "expected_average_only_in",
    }
    cfg: dict[str, Any] = {
        "architecture": _ARCH_TO_SAELENS[sae.architecture],
        "d_in": sae.d_in,
        "d_sae": sae.d_sae,
        "hook_name": sae.hook_name,
        "hook_layer": parse_hook(sae.hook_name).layer,
        "apply_b_dec_to_input": sae.apply_b_dec_to_input,
        "normalize_activations": norm[sae.normalize],
        "model_name": sae.model_id or "",
        "dtype": "float32",
        "model_from_pretrained_kwargs": {"center_writing_weights": sae.center},
    }
    if sae.normalize == "scale":
        cfg["norm_scaling_factor"] = sae.scale
    if sae.k is not None:
        cfg["k"] = sae.k
        cfg["activation_fn_kwargs"] = {"k": sae.k}
    cfg.update(extra or {})
    (out / "cfg.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return out
