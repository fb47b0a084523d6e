"""Value tagging: keyword prompts per Schwartz value -> prototypes -> per-video scores and top values.

The shipped prompts live in ``ingestion/data/value_keywords.yaml``; a user file overrides the
values it lists. Metadata keys are scalars so a value filter is a plain ``where`` clause:
``v_<Value>`` (float score) and ``is_<Value>`` (bool, one of the video's top values), with
'-' written as '_' (``v_Self_Direction``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from valuespectrum.errors import ConfigError
from valuespectrum.values import Value, parse_value

if TYPE_CHECKING:
    from ingestion.encoders import Encoder

VALUES: tuple[Value, ...] = tuple(Value)


def value_slug(value: Value) -> str:
    return value.value.replace("-", "_")


def score_key(value: Value) -> str:
    return "v_" + value_slug(value)


def flag_key(value: Value) -> str:
    return "is_" + value_slug(value)


def load_keywords(user_file: Path | None = None) -> dict[Value, list[str]]:
    """The shipped keyword prompts, with values listed in ``user_file`` replaced."""
    import yaml

    text = resources.files("ingestion").joinpath("data/value_keywords.yaml").read_text(encoding="utf-8")
    out = _parse_keywords(yaml.safe_load(text), "ingestion/data/value_keywords.yaml")
    if user_file is not None:
        try:
            raw = yaml.safe_load(Path(user_file).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"keywords_file: cannot read {user_file} ({exc})") from exc
        out.update(_parse_keywords(raw, str(user_file)))
    return out


def _parse_keywords(raw: Any, source: str) -> dict[Value, list[str]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping from value name to a list of keyword prompts")
    out: dict[Value, list[str]] = {}
    for key, prompts in raw.items():
        try:
            value = parse_value(str(key))
        except ValueError as exc:
            raise ConfigError(f"{source}: key {key!r}: {exc}") from exc
        if (
            not isinstance(prompts, list)
            or not prompts
            or not all(isinstance(p, str) and p.strip() for p in prompts)
        ):
            raise ConfigError(f"{source}: {value.value}: give a non-empty list of non-empty prompt strings")
        out[value] = [p.strip() for p in prompts]
    return out


@dataclass
class ValueTagger:
    """Unit-norm prototype per value (rows in VALUES order) in the encoder's space."""

    prototypes: np.ndarray
    top_k: int = 2
    caption_weight: float = 0.5

    @classmethod
    def build(
        cls,
        encoder: Encoder,
        keywords: dict[Value, list[str]],
        top_k: int = 2,
        caption_weight: float = 0.5,
        cache_dir: Path | None = None,
    ) -> ValueTagger:
        """Embed the prompts (or load them from ``cache_dir``, keyed by encoder id and prompt text)."""
        missing = [v.value for v in VALUES if v not in keywords]
        if missing:
            raise ConfigError(f"value keywords: no prompts for {', '.join(missing)}")
        key = hashlib.sha256(
            json.dumps([encoder.id, [keywords[v] for v in VALUES]]).encode("utf-8")
        ).hexdigest()[:16]
        cached = cache_dir / f"value_prototypes-{key}.npy" if cache_dir is not None else None
        if cached is not None and cached.is_file():
            protos = np.load(cached, allow_pickle=False)
            if protos.shape == (len(VALUES), encoder.dim):
                return cls(protos.astype(np.float32), top_k, caption_weight)
        rows = []
        for v in VALUES:
            emb = encoder.encode_texts(keywords[v]).mean(axis=0)
            rows.append(emb / max(float(np.linalg.norm(emb)), 1e-12))
        protos = np.stack(rows).astype(np.float32)
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(".tmp.npy")
            np.save(tmp, protos, allow_pickle=False)
            tmp.replace(cached)
        return cls(protos, top_k, caption_weight)

    def scores(self, image_emb: np.ndarray, caption_emb: np.ndarray | None) -> np.ndarray:
        """Cosine similarity to each prototype; blended with the caption's when there is one."""
        s = self.prototypes @ image_emb
        if caption_emb is not None:
            s = (1.0 - self.caption_weight) * s + self.caption_weight * (self.prototypes @ caption_emb)
        return s.astype(np.float32)

    def top(self, scores: np.ndarray) -> list[Value]:
        order = sorted(range(len(VALUES)), key=lambda i: (-float(scores[i]), i))
        return [VALUES[i] for i in order[: self.top_k]]

    def metadata(self, scores: np.ndarray, top: list[Value]) -> dict[str, Any]:
        meta: dict[str, Any] = {score_key(v): round(float(scores[i]), 6) for i, v in enumerate(VALUES)}
        meta.update({flag_key(v): v in top for v in VALUES})
        meta["top_values"] = ",".join(v.value for v in top)
        return meta
