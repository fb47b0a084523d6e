"""Train small SAEs on collected activations: TopK (Gao et al. style) and ReLU + L1.

TopK: decoder rows kept at unit norm after every step, ``b_dec`` initialised at the
coordinate-wise median of the first shard, encoder initialised as the decoder's transpose,
Adam, and an auxiliary loss (AuxK) that lets dead latents (no activation for
``dead_steps`` steps) reconstruct the residual error so they come back to life.
ReLU + L1: the SAELens "standard" objective, MSE + ``l1`` x sum of f * ||W_dec row||.

Inputs are scaled by ``sqrt(d) / mean norm`` of the first shard (stored as ``normalize="scale"``,
so the SAE reads raw activations). Data are read one shard at a time in a seeded order, so
a run resumes from its last checkpoint (safetensors weights + Adam state, JSON step counter;
nothing pickled) and reaches the same weights as an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.sae.model import SparseAutoencoder

if TYPE_CHECKING:
    import torch

    from valuespectrum.sae.activations import ShardStore

Progress = Callable[[int, int, dict[str, float]], None]


@dataclass
class TrainConfig:
    architecture: Literal["topk", "relu"] = "topk"
    d_sae: int = 4608
    k: int = 32
    l1: float = 5.0
    lr: float = 2e-4
    batch_size: int = 4096
    epochs: int = 1
    seed: int = 0
    aux_k: int | None = None
    """AuxK latents (default d_in // 2); 0 turns the auxiliary loss off."""
    aux_coeff: float = 1.0 / 32.0
    dead_steps: int = 200
    decay_fraction: float = 0.2
    """The learning rate falls linearly to 0 over this last share of the steps."""
    normalize: bool = True
    checkpoint_every: int = 200
    hook_name: str = "blocks.0.hook_resid_post"
    model_id: str | None = None


@dataclass
class TrainResult:
    sae: SparseAutoencoder
    steps: int
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)


class _Source:
    """Shards of activations (a :class:`ShardStore` or one in-memory tensor)."""

    def __init__(self, data: torch.Tensor | ShardStore) -> None:
        import torch

        self.tensor = data if isinstance(data, torch.Tensor) else None
        self.store = None if isinstance(data, torch.Tensor) else data
        if self.tensor is not None:
            self.sizes = [int(self.tensor.shape[0])]
            self.d = int(self.tensor.shape[1])
        else:
            assert self.store is not None
            self.sizes = [int(s["tokens"]) for s in self.store.shards]
            self.d = self.store.d

    def load(self, i: int) -> torch.Tensor:
        if self.tensor is not None:
            return self.tensor.float()
        assert self.store is not None
        return self.store.load(i).float()


def _init(cfg: TrainConfig, first: torch.Tensor, gen: torch.Generator) -> dict[str, torch.Tensor]:
    import torch

    d = first.shape[1]
    w_dec = torch.randn(cfg.d_sae, d, generator=gen)
    w_dec /= w_dec.norm(dim=1, keepdim=True)
    if cfg.architecture == "relu":
        w_dec *= 0.1
    return {
        "W_enc": w_dec.T.clone().contiguous(),
        "b_enc": torch.zeros(cfg.d_sae),
        "W_dec": w_dec,
        "b_dec": first.median(dim=0).values.clone(),
    }


def train_sae(
    data: torch.Tensor | ShardStore,
    cfg: TrainConfig,
    *,
    checkpoint_dir: str | Path | None = None,
    progress: Progress | None = None,
    max_steps: int | None = None,
) -> TrainResult:
    """Train on ``data`` (rows of activations); resumes from ``checkpoint_dir`` when it holds one.

    ``max_steps`` stops early (the checkpoint is written, a later call continues).
    """
    import torch

    if cfg.architecture not in ("topk", "relu"):
        raise ConfigError(f"training supports architecture topk or relu, got {cfg.architecture!r}")
    src = _Source(data)
    if cfg.architecture == "topk" and not 0 < cfg.k <= cfg.d_sae:
        raise ConfigError(f"k must lie in 1..d_sae ({cfg.d_sae}), got {cfg.k}")
    gen = torch.Generator().manual_seed(cfg.seed)
    first = src.load(0)
    scale = float(math.sqrt(src.d) / first.norm(dim=1).mean()) if cfg.normalize else 1.0
    params = _init(cfg, first * scale, gen)
    for p in params.values():
        p.requires_grad_(True)
    opt = torch.optim.Adam(list(params.values()), lr=cfg.lr, betas=(0.9, 0.999))
    last_fired = torch.zeros(cfg.d_sae, dtype=torch.long)
    step = 0
    ckpt = None if checkpoint_dir is None else Path(checkpoint_dir)
    if ckpt is not None and (ckpt / "state.json").is_file():
        step, scale = _restore(ckpt, cfg, params, opt, last_fired)
    plan = _plan(src.sizes, cfg)
    total = len(plan)
    t0 = time.perf_counter()
    metrics: dict[str, float] = {}
    loaded: tuple[tuple[int, int], torch.Tensor] | None = None
    stop_at = total if max_steps is None else min(total, max_steps)
    while step < stop_at:
        epoch, shard, start = plan[step]
        if loaded is None or loaded[0] != (epoch, shard):
            rows = src.load(shard) * scale
            perm = torch.randperm(
                rows.shape[0], generator=torch.Generator().manual_seed(cfg.seed * 7919 + epoch * 131 + shard)
            )
            loaded = ((epoch, shard), rows[perm])
        x = loaded[1][start : start + cfg.batch_size]
        for group in opt.param_groups:
            group["lr"] = _lr(cfg, step, total)
        loss, metrics, fired = _loss(params, x, cfg, last_fired, step)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            last_fired[fired] = step + 1
            if cfg.architecture == "topk":
                params["W_dec"] /= params["W_dec"].norm(dim=1, keepdim=True).clamp_min(1e-8)
        step += 1
        if progress is not None:
            progress(step, total, metrics)
        if ckpt is not None and (step % cfg.checkpoint_every == 0 or step == stop_at):
            _save(ckpt, cfg, params, opt, last_fired, step, scale)
    sae = _to_sae(params, cfg, scale)
    metrics["dead_fraction"] = float((step - last_fired > cfg.dead_steps).float().mean()) if step else 0.0
    return TrainResult(sae=sae, steps=step, seconds=time.perf_counter() - t0, metrics=metrics)


def _lr(cfg: TrainConfig, step: int, total: int) -> float:
    decay_from = total * (1.0 - cfg.decay_fraction)
    if cfg.decay_fraction <= 0 or step < decay_from:
        return cfg.lr
    return cfg.lr * max(0.0, (total - step) / (total - decay_from))


def _plan(sizes: list[int], cfg: TrainConfig) -> list[tuple[int, int, int]]:
    """(epoch, shard, start row) of every step, in a seeded shard order per epoch."""
    import random

    out: list[tuple[int, int, int]] = []
    for epoch in range(cfg.epochs):
        order = list(range(len(sizes)))
        random.Random(cfg.seed * 1000 + epoch).shuffle(order)
        for s in order:
            out.extend((epoch, s, start) for start in range(0, sizes[s], cfg.batch_size))
    return out


def _loss(
    p: dict[str, torch.Tensor], x: torch.Tensor, cfg: TrainConfig, last_fired: torch.Tensor, step: int
) -> tuple[torch.Tensor, dict[str, float], torch.Tensor]:
    import torch

    pre = (x - p["b_dec"]) @ p["W_enc"] + p["b_enc"]
    if cfg.architecture == "topk":
        top = pre.topk(cfg.k, dim=-1)
        f = torch.zeros_like(pre).scatter(-1, top.indices, torch.relu(top.values))
    else:
        f = torch.relu(pre)
    x_hat = f @ p["W_dec"] + p["b_dec"]
    err = x - x_hat
    var = ((x - x.mean(dim=0, keepdim=True)) ** 2).sum(dim=-1).mean().clamp_min(1e-12)
    mse = (err**2).sum(dim=-1).mean()
    loss = mse / var
    aux_val = 0.0
    if cfg.architecture == "topk":
        dead = (step - last_fired) > cfg.dead_steps
        k_aux = min(int(dead.sum()), cfg.aux_k if cfg.aux_k is not None else x.shape[1] // 2)
        if k_aux > 0 and cfg.aux_coeff > 0:
            masked = pre.masked_fill(~dead, float("-inf"))
            atop = masked.topk(k_aux, dim=-1)
            fa = torch.zeros_like(pre).scatter(-1, atop.indices, torch.relu(atop.values))
            e_hat = fa @ p["W_dec"]
            e = err.detach()
            e_var = ((e - e.mean(dim=0, keepdim=True)) ** 2).sum(dim=-1).mean().clamp_min(1e-12)
            aux = ((e_hat - e) ** 2).sum(dim=-1).mean() / e_var
            loss = loss + cfg.aux_coeff * aux
            aux_val = float(aux)
    else:
        loss = loss + cfg.l1 * (f * p["W_dec"].norm(dim=1)).sum(dim=-1).mean() / var
    fired = (f > 0).any(dim=0).nonzero().flatten()
    metrics = {
        "loss": float(loss.detach()),
        "fve": float(1.0 - mse.detach() / var),
        "l0": float((f > 0).sum(dim=-1).float().mean()),
        "aux": aux_val,
    }
    return loss, metrics, fired


def _to_sae(p: dict[str, torch.Tensor], cfg: TrainConfig, scale: float) -> SparseAutoencoder:
    t = {k: v.detach().clone() for k, v in p.items()}
    return SparseAutoencoder(
        architecture=cfg.architecture,
        W_enc=t["W_enc"],
        b_enc=t["b_enc"],
        W_dec=t["W_dec"],
        b_dec=t["b_dec"],
        k=cfg.k if cfg.architecture == "topk" else None,
        hook_name=cfg.hook_name,
        apply_b_dec_to_input=True,
        normalize="scale" if scale != 1.0 else "none",
        scale=scale,
        model_id=cfg.model_id,
        metadata={"trained": asdict(cfg)},
    )


def _save(
    folder: Path,
    cfg: TrainConfig,
    params: dict[str, torch.Tensor],
    opt: Any,
    last_fired: torch.Tensor,
    step: int,
    scale: float,
) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {f"param.{k}": v.detach().cpu().contiguous() for k, v in params.items()}
    tensors["last_fired"] = last_fired.clone()
    names = list(params)
    adam_steps: dict[str, float] = {}
    for i, p in enumerate(params.values()):
        st = opt.state.get(p, {})
        for key in ("exp_avg", "exp_avg_sq"):
            if key in st:
                tensors[f"adam.{names[i]}.{key}"] = st[key].detach().cpu().contiguous()
        if "step" in st:
            adam_steps[names[i]] = float(st["step"])
    tmp = folder / "checkpoint.safetensors.tmp"
    save_file(tensors, str(tmp))
    tmp.replace(folder / "checkpoint.safetensors")
    state = {"step": step, "scale": scale, "adam_steps": adam_steps, "config": asdict(cfg)}
    tmpj = folder / "state.json.tmp"
    tmpj.write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
    tmpj.replace(folder / "state.json")


def _restore(
    folder: Path, cfg: TrainConfig, params: dict[str, torch.Tensor], opt: Any, last_fired: torch.Tensor
) -> tuple[int, float]:
    import torch
    from safetensors.torch import load_file

    state = json.loads((folder / "state.json").read_text(encoding="utf-8"))
    saved = dict(state["config"])
    mine = asdict(cfg)
    changed = sorted(k for k in mine if k not in ("checkpoint_every",) and saved.get(k) != mine[k])
    if changed:
        raise ConfigError(
            f"{folder}: the checkpoint was trained with other settings ({', '.join(changed)}); "
            "use another checkpoint folder or the same settings"
        )
    t = load_file(str(folder / "checkpoint.safetensors"))
    with torch.no_grad():
        for k, p in params.items():
            p.copy_(t[f"param.{k}"])
        last_fired.copy_(t["last_fired"])
    for k, p in params.items():
        if f"adam.{k}.exp_avg" in t:
            opt.state[p] = {
                "step": torch.tensor(state["adam_steps"][k]),
                "exp_avg": t[f"adam.{k}.exp_avg"].clone(),
                "exp_avg_sq": t[f"adam.{k}.exp_avg_sq"].clone(),
            }
    return int(state["step"]), float(state["scale"])
