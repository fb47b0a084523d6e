"""A source video's record: its content hash (which gives the video id), caption and listing
metadata, as the index stores them."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ingestion.records import VideoRecord, normalise_platform
from ingestion.sources import SourceVideo

if TYPE_CHECKING:
    from ingestion.frames import DecodedVideo


def content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return "sha256:" + h.hexdigest()


def caption_text(meta: dict[str, Any]) -> str:
    """Listing caption, else subtitles, else title and description."""
    for key in ("caption", "subtitles"):
        if str(meta.get(key) or "").strip():
            return str(meta[key]).strip()
    return " ".join(str(meta.get(k) or "").strip() for k in ("title", "description")).strip()


_KNOWN = {"caption", "subtitles", "title", "description", "tags", "uploader", "upload_date", "webpage_url"}
_KNOWN |= {"url", "platform", "duration"}


def build_record(src: SourceVideo, digest: str, decoded: DecodedVideo | None) -> VideoRecord:
    m = src.meta
    tags = m.get("tags") or []
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.replace(";", ",").split(",") if t.strip()]
    url = str(m.get("webpage_url") or m.get("url") or "")
    return VideoRecord(
        video_id=digest.split(":", 1)[1][:16],
        path=src.rel,
        content_hash=digest,
        platform=normalise_platform(str(m.get("platform") or ""), url),  # type: ignore[arg-type]
        duration_s=decoded.duration_s if decoded else None,
        fps=decoded.fps if decoded else None,
        n_source_frames=decoded.n_frames if decoded else None,
        caption=caption_text(m),
        title=str(m.get("title") or ""),
        description=str(m.get("description") or ""),
        tags=[str(t) for t in tags],
        uploader=str(m.get("uploader") or ""),
        upload_date=str(m.get("upload_date") or ""),
        url=url,
        provenance=src.provenance,
        extra={str(k): str(v) for k, v in m.items() if k not in _KNOWN},
    )
