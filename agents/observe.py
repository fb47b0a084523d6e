"""What the agent observes at each step: the video's sampled frames, caption and platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from agents.catalog import Catalog
from valuespectrum.types import ContentPart, ImagePart, MediaRef, TextPart, VideoPart
from valuespectrum.values import Value

FrameMode = Literal["all", "middle"]
Modality = Literal["vision", "text"]


@dataclass(frozen=True)
class Observation:
    video_id: str
    platform: str
    caption: str
    duration_s: float
    """The dwell ceiling: the video's duration (or a default when the index lacks it)."""
    values: tuple[Value, ...]
    """The video's value tags: used by the metrics, never shown to the agent."""
    frames: tuple[MediaRef, ...] = ()
    fps: float | None = None

    def media_parts(self) -> list[ContentPart]:
        """Frames as a video (several) or an image (one); nothing when there are none."""
        if len(self.frames) > 1:
            return [VideoPart(frames=list(self.frames), fps=self.fps)]
        return [ImagePart(image=f) for f in self.frames]

    def describe(self) -> TextPart:
        caption = self.caption.strip() or "(no caption)"
        return TextPart(
            text=f"Platform: {self.platform}\nCaption: {caption}\nLength: {self.duration_s:.0f} seconds"
        )


def observe(catalog: Catalog, video_id: str, *, modality: Modality, frames: FrameMode = "all") -> Observation:
    """Build the observation of one video; text-only agents get no frames (and none are read)."""
    item = catalog.item(video_id)
    refs: tuple[MediaRef, ...] = ()
    fps = None
    if modality == "vision":
        paths, fps = catalog.frames(video_id)
        if frames == "middle" and paths:
            paths, fps = (paths[len(paths) // 2],), None
        refs = tuple(MediaRef.pinned(p) for p in paths)
    return Observation(
        video_id=video_id,
        platform=item.platform,
        caption=item.caption or item.title,
        duration_s=item.max_dwell_s,
        values=item.values,
        frames=refs,
        fps=fps,
    )
