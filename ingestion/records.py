"""VideoRecord: what the index knows about one video, and how it flattens into store metadata."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

Platform = Literal["tiktok", "youtube_shorts", "instagram_reels", "other"]
PLATFORMS: tuple[str, ...] = ("tiktok", "youtube_shorts", "instagram_reels", "other")

_PLATFORM_ALIASES = {
    "tiktok": "tiktok",
    "douyin": "tiktok",
    "youtube_shorts": "youtube_shorts",
    "youtubeshorts": "youtube_shorts",
    "shorts": "youtube_shorts",
    "youtube": "youtube_shorts",
    "instagram_reels": "instagram_reels",
    "instagramreels": "instagram_reels",
    "instagram": "instagram_reels",
    "reels": "instagram_reels",
}


def frame_record_id(video_id: str, frame_no: int) -> str:
    """Store id of a video's ``frame_no``-th sampled frame (deterministic: re-indexing is idempotent)."""
    return f"{video_id}:f{frame_no:03d}"


def normalise_platform(name: str | None, url: str | None = None) -> str:
    """Map a listing value or a yt-dlp extractor name ("TikTok", "youtube", "Instagram") to a platform."""
    key = (name or "").strip().lower().replace(" ", "_").replace("-", "_").split(":")[0]
    if key in _PLATFORM_ALIASES:
        return _PLATFORM_ALIASES[key]
    if key.replace("_", "") in _PLATFORM_ALIASES:
        return _PLATFORM_ALIASES[key.replace("_", "")]
    u = (url or "").lower()
    if "tiktok.com" in u:
        return "tiktok"
    if "youtube.com/shorts" in u or "youtu.be" in u:
        return "youtube_shorts"
    if "instagram.com" in u:
        return "instagram_reels"
    return "other"


class VideoRecord(BaseModel):
    """One indexed video. ``video_id`` is a prefix of the sha256 of its bytes."""

    video_id: str
    """First 16 hex digits of content_hash: the same bytes always get the same id."""
    path: str
    """Path relative to the corpus root, with '/' separators."""
    content_hash: str
    """``sha256:<hex>`` of the file's bytes."""
    platform: Platform = "other"
    duration_s: float | None = None
    fps: float | None = None
    n_source_frames: int | None = None
    caption: str = ""
    """Text used for caption embedding: listing caption, else subtitles, else title + description."""
    title: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    uploader: str = ""
    upload_date: str = ""
    """ISO date (YYYY-MM-DD) when known."""
    url: str = ""
    provenance: str = "folder-scan"
    """Where the metadata came from, e.g. 'folder-scan+info.json+vtt' or 'listing:corpus.csv#3'."""
    extra: dict[str, str] = Field(default_factory=dict)
    """Other listing columns or sidecar fields, kept as strings."""

    def store_metadata(self) -> dict[str, Any]:
        """Scalar-only metadata for the vector store (Chroma allows str, int, float, bool)."""
        meta: dict[str, Any] = {
            "video_id": self.video_id,
            "path": self.path,
            "content_hash": self.content_hash,
            "platform": self.platform,
            "title": self.title,
            "tags": ",".join(self.tags),
            "uploader": self.uploader,
            "upload_date": self.upload_date,
            "url": self.url,
            "provenance": self.provenance,
        }
        if self.duration_s is not None:
            meta["duration_s"] = float(self.duration_s)
        if self.fps is not None:
            meta["fps"] = float(self.fps)
        for k, v in self.extra.items():
            meta[f"x_{k}"] = v
        return meta
