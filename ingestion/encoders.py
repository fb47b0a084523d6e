"""Image and text encoders into one embedding space (open_clip), L2-normalised numpy output."""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from valuespectrum.errors import BackendError, require

if TYPE_CHECKING:
    from PIL.Image import Image

#: Encoder precisions; below float32 only on a GPU (IndexConfig.encoder_dtype).
DTYPES: tuple[str, ...] = ("float32", "float16", "bfloat16")

#: Name of the tiny open_clip config used by tests and the demo (random weights).
TINY_CLIP = "vspec-tiny-clip"

_TINY_CONFIG: dict[str, Any] = {
    "embed_dim": 64,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "patch_size": 16, "head_width": 32},
    "text_cfg": {"context_length": 77, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}
_register_lock = threading.Lock()


@runtime_checkable
class Encoder(Protocol):
    """Embeds images and texts into one space; rows are L2-normalised float32."""

    id: str
    dim: int

    def encode_images(self, images: list[Image]) -> np.ndarray: ...

    def encode_texts(self, texts: list[str]) -> np.ndarray: ...


def register_tiny_clip() -> str:
    """Register a tiny open_clip config (64-d, 2 layers per tower; random weights) and return its name."""
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    open_clip: Any = require(
        "open_clip", package="open_clip_torch", extra="video", feature="image embeddings"
    )
    with _register_lock:
        if TINY_CLIP not in open_clip.list_models():
            folder = Path(tempfile.mkdtemp(prefix="vspec-clip-cfg-"))
            (folder / f"{TINY_CLIP}.json").write_text(json.dumps(_TINY_CONFIG), encoding="utf-8")
            open_clip.add_model_config(folder)
    return TINY_CLIP


class OpenClipEncoder:
    """open_clip model by name with a pretrained tag, a local checkpoint path, or random weights.

    Random weights (``pretrained=None``) are drawn from ``seed`` so that two runs embed alike;
    similarities from such a model carry no meaning.
    """

    def __init__(
        self,
        model_name: str,
        pretrained: str | None = None,
        device: str | None = None,
        seed: int = 0,
        dtype: str = "float32",
    ) -> None:
        from valuespectrum.compat import ensure_torch_stack

        ensure_torch_stack()
        import torch

        open_clip: Any = require(
            "open_clip", package="open_clip_torch", extra="video", feature="image embeddings"
        )
        if model_name == TINY_CLIP:
            register_tiny_clip()
        if model_name not in open_clip.list_models():
            raise BackendError(
                f"model: unknown open_clip model {model_name!r}; choose one of open_clip.list_models() "
                f"(e.g. ViT-B-32) or register a config with open_clip.add_model_config"
            )
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        tag: str
        if pretrained is None:
            tag = f"random-seed{seed}"
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                model, _, preprocess = open_clip.create_model_and_transforms(model_name, pretrained=None)
        else:
            ckpt = Path(pretrained)
            tag = f"file-{_file_digest(ckpt)}" if ckpt.is_file() else pretrained
            try:
                model, _, preprocess = open_clip.create_model_and_transforms(
                    model_name, pretrained=pretrained
                )
            except Exception as exc:
                raise BackendError(
                    f"pretrained: cannot load {pretrained!r} for {model_name} ({exc}); pass a tag from "
                    f"open_clip.list_pretrained() with hub access, or a local checkpoint file"
                ) from exc
        if dtype not in DTYPES:
            raise BackendError(f"encoder_dtype: {dtype!r} is not one of {', '.join(DTYPES)}")
        if dtype != "float32" and not str(self.device).startswith("cuda"):
            raise BackendError(
                f"encoder_dtype: {dtype} runs on a GPU only (device is {self.device}); use float32 on the CPU"
            )
        self.dtype = dtype
        self.model = model.to(self.device, dtype=getattr(torch, dtype)).eval()
        self.preprocess = preprocess
        self.tokenizer = open_clip.get_tokenizer(model_name)
        # half-precision embeddings differ from float32 ones in the last digits: a different encoder
        self.id = f"open_clip:{model_name}:{tag}" + ("" if dtype == "float32" else f"@{dtype}")
        self._lock = threading.Lock()  # one forward pass at a time per model
        self.dim = int(self.encode_texts(["probe"]).shape[1])

    def encode_images(self, images: list[Image]) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.encode_pixels(self.pixels(images))

    def pixels(self, images: list[Image]) -> Any:
        """The model's input tensor for ``images`` (resize, crop, normalise), on the CPU.

        Thread-safe and separate from :meth:`encode_pixels` so that a pipeline can prepare
        the next batch in worker threads while the model runs on the current one.
        """
        import torch

        return torch.stack([self.preprocess(im.convert("RGB")) for im in images])

    def encode_pixels(self, pixels: Any) -> np.ndarray:
        """Embed a tensor made by :meth:`pixels` (rows may come from several calls, concatenated)."""
        import torch

        if len(pixels) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock, torch.inference_mode():
            feats = self.model.encode_image(pixels.to(self.device, dtype=getattr(torch, self.dtype)))
        return _normalise(feats.float().cpu().numpy())

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        tokens = self.tokenizer(texts).to(self.device)
        with self._lock, torch.inference_mode():
            feats = self.model.encode_text(tokens)
        return _normalise(feats.float().cpu().numpy())


def _normalise(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.maximum(norms, 1e-12)).astype(np.float32)


def _file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()[:16]


def encoder_from_config(
    model: str, pretrained: str | None, device: str | None, seed: int, dtype: str = "float32"
) -> OpenClipEncoder:
    return OpenClipEncoder(model, pretrained=pretrained, device=device, seed=seed, dtype=dtype)
