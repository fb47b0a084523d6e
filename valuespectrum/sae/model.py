"""One sparse-autoencoder type for every architecture users bring: ReLU, JumpReLU, TopK and gated.

    f = encode(x)          # [..., d_sae] feature activations
    x_hat = decode(f)      # [..., d_in], in the model's activation space

Input processing follows the config the weights came with: optional per-position mean
removal (TransformerLens ``center_writing_weights`` residuals are mean-centred over d_model),
optional input scaling (``normalize_activations``), optional subtraction of ``b_dec`` before
the encoder (``apply_b_dec_to_input``). :meth:`decode` undoes the scaling, so reconstructions
and decoder directions (:meth:`direction`) live in the model's own activation space.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.types import stable_hash

if TYPE_CHECKING:
    import torch

Architecture = Literal["relu", "jumprelu", "topk", "gated"]
Normalize = Literal["none", "constant_norm_rescale", "scale"]
ARCHITECTURES: tuple[str, ...] = ("relu", "jumprelu", "topk", "gated")


@dataclass
class SparseAutoencoder:
    """Weights plus what the encoder needs to read them.

    Shapes: ``W_enc [d_in, d_sae]``, ``b_enc [d_sae]``, ``W_dec [d_sae, d_in]``, ``b_dec [d_in]``;
    ``threshold [d_sae]`` (jumprelu); ``r_mag``, ``b_mag [d_sae]`` (gated, whose gate bias is
    ``b_enc``); ``k`` (topk).
    """

    architecture: Architecture
    W_enc: torch.Tensor
    b_enc: torch.Tensor
    W_dec: torch.Tensor
    b_dec: torch.Tensor
    hook_name: str = "blocks.0.hook_resid_post"
    k: int | None = None
    threshold: torch.Tensor | None = None
    r_mag: torch.Tensor | None = None
    b_mag: torch.Tensor | None = None
    apply_b_dec_to_input: bool = False
    normalize: Normalize = "none"
    scale: float = 1.0
    """Input multiplier for ``normalize="scale"`` (e.g. SAELens' expected-average-norm factor)."""
    center: bool = False
    """Subtract each position's mean over d_model before encoding (TransformerLens-processed models)."""
    model_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.architecture not in ARCHITECTURES:
            raise ConfigError(
                f"SAE architecture {self.architecture!r} unknown; expected one of {ARCHITECTURES}"
            )
        d_in, d_sae = self.d_in, self.d_sae
        shapes = {
            "W_enc": (self.W_enc, (d_in, d_sae)),
            "b_enc": (self.b_enc, (d_sae,)),
            "W_dec": (self.W_dec, (d_sae, d_in)),
            "b_dec": (self.b_dec, (d_in,)),
        }
        if self.architecture == "jumprelu":
            if self.threshold is None:
                raise ConfigError("a jumprelu SAE needs a 'threshold' tensor [d_sae]")
            shapes["threshold"] = (self.threshold, (d_sae,))
        if self.architecture == "topk" and (self.k is None or not 0 < self.k <= d_sae):
            raise ConfigError(f"a topk SAE needs k in 1..{d_sae}, got {self.k}")
        if self.architecture == "gated":
            if self.r_mag is None or self.b_mag is None:
                raise ConfigError("a gated SAE needs 'r_mag' and 'b_mag' tensors [d_sae]")
            shapes["r_mag"] = (self.r_mag, (d_sae,))
            shapes["b_mag"] = (self.b_mag, (d_sae,))
        for name, (t, want) in shapes.items():
            if tuple(t.shape) != want:
                raise ConfigError(f"SAE tensor {name!r} has shape {tuple(t.shape)}, expected {want}")
        if self.normalize not in ("none", "constant_norm_rescale", "scale"):
            raise ConfigError(f"SAE normalize {self.normalize!r} unknown")

    @property
    def d_in(self) -> int:
        return int(self.W_enc.shape[0])

    @property
    def d_sae(self) -> int:
        return int(self.W_enc.shape[1])

    # -- encoding --------------------------------------------------------------------------
    def _input_scale(self, x: torch.Tensor) -> torch.Tensor:
        """Per-position multiplier applied to the input (and divided out of reconstructions)."""
        import torch

        if self.normalize == "constant_norm_rescale":
            return (self.d_in**0.5) / x.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        if self.normalize == "scale":
            return torch.full_like(x[..., :1], self.scale)
        return torch.ones_like(x[..., :1])

    def preprocess(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(input as the encoder sees it before ``b_dec`` is removed, the scale used)."""
        x = x.to(self.W_enc.dtype)
        if self.center:
            x = x - x.mean(dim=-1, keepdim=True)
        s = self._input_scale(x)
        return x * s, s

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Feature activations of activations ``x [..., d_in]`` (model space)."""
        z, _ = self.preprocess(x)
        return self._encode_processed(z)

    def _encode_processed(self, z: torch.Tensor) -> torch.Tensor:
        import torch

        if self.apply_b_dec_to_input:
            z = z - self.b_dec
        if self.architecture == "gated":
            assert self.r_mag is not None and self.b_mag is not None
            gate = (z @ self.W_enc + self.b_enc) > 0
            mag = z @ (self.W_enc * torch.exp(self.r_mag)) + self.b_mag
            return gate.to(z.dtype) * torch.relu(mag)
        pre = z @ self.W_enc + self.b_enc
        if self.architecture == "relu":
            return torch.relu(pre)
        if self.architecture == "jumprelu":
            assert self.threshold is not None
            return torch.relu(pre) * (pre > self.threshold).to(pre.dtype)
        assert self.k is not None
        top = pre.topk(self.k, dim=-1)
        out = torch.zeros_like(pre)
        return out.scatter(-1, top.indices, torch.relu(top.values))

    def decode(self, f: torch.Tensor, scale: torch.Tensor | float = 1.0) -> torch.Tensor:
        """Reconstruction in model space (``scale``: the input scale :meth:`preprocess` returned)."""
        return (f @ self.W_dec + self.b_dec) / scale

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        z, s = self.preprocess(x)
        return self.decode(self._encode_processed(z), s)

    def direction(self, feature: int) -> torch.Tensor:
        """Decoder row of ``feature`` in model space (what adding one unit of the feature adds)."""
        if not 0 <= feature < self.d_sae:
            raise ConfigError(f"feature {feature} out of range: the SAE has {self.d_sae} features")
        row = self.W_dec[feature]
        return row / self.scale if self.normalize == "scale" else row

    # -- quality ---------------------------------------------------------------------------
    def quality(self, x: torch.Tensor) -> dict[str, float]:
        """Fraction of variance explained and mean L0 on activations ``x [n, d_in]``.

        Measured where the SAE works (after centring and scaling), so a wrong hook or a
        missing normalisation shows as a low FVE rather than being hidden by the scale.
        """
        import torch

        with torch.no_grad():
            z, _ = self.preprocess(x.reshape(-1, self.d_in))
            f = self._encode_processed(z)
            z_hat = f @ self.W_dec + self.b_dec
            resid = ((z - z_hat) ** 2).sum()
            total = ((z - z.mean(dim=0, keepdim=True)) ** 2).sum().clamp_min(1e-12)
            return {
                "fve": float(1.0 - resid / total),
                "l0": float((f > 0).sum(dim=-1).float().mean()),
                "n_tokens": float(z.shape[0]),
            }

    def digest(self) -> str:
        """``sha256:`` of everything that changes what the SAE computes."""
        import hashlib

        h = hashlib.sha256()
        tensors = {"W_enc": self.W_enc, "b_enc": self.b_enc, "W_dec": self.W_dec, "b_dec": self.b_dec}
        for name in ("threshold", "r_mag", "b_mag"):
            t = getattr(self, name)
            if t is not None:
                tensors[name] = t
        for name, t in sorted(tensors.items()):
            h.update(name.encode())
            h.update(t.detach().to("cpu").float().contiguous().numpy().tobytes())
        head: list[Any] = [self.architecture, self.k, self.hook_name, self.apply_b_dec_to_input]
        head += [self.normalize, self.scale, self.center]
        return f"sha256:{stable_hash([stable_hash(head), h.hexdigest()])}"

    def to(self, device: Any = None, dtype: Any = None) -> SparseAutoencoder:
        """Move every tensor (in place) and return self."""
        for name in ("W_enc", "b_enc", "W_dec", "b_dec", "threshold", "r_mag", "b_mag"):
            t = getattr(self, name)
            if t is not None:
                setattr(self, name, t.to(device=device, dtype=dtype))
        return self
