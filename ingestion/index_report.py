"""What an indexing run did (``index_report.json``): indexed, partial, unchanged, skipped and
failed videos with reasons, and the encoder and store it used; with its write/read pair."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field


class Outcome(BaseModel):
    path: str
    video_id: str | None = None
    reason: str = ""


class IndexReport(BaseModel):
    """What one run did. ``skipped`` are bad inputs (with reasons); ``failed`` are unexpected errors."""

    indexed: list[Outcome] = Field(default_factory=list)
    partial: list[Outcome] = Field(default_factory=list)
    """Indexed from what decodes, fewer frames than the container declares (also in ``indexed``)."""
    unchanged: list[Outcome] = Field(default_factory=list)
    """Already in the index with the same settings (resume / re-index)."""
    skipped: list[Outcome] = Field(default_factory=list)
    failed: list[Outcome] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    """Decoder fallbacks and other warnings."""
    frames_written: int = 0
    elapsed_s: float = 0.0
    encoder_id: str = ""
    text_tagger: str = ""
    """Sentence encoder of the text tags ('' when only image tags were computed)."""
    dim: int = 0
    store: str = ""

    @property
    def videos_per_s(self) -> float:
        return len(self.indexed) / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def summary(self) -> str:
        return (
            f"indexed {len(self.indexed)}, unchanged {len(self.unchanged)}, skipped {len(self.skipped)}, "
            f"failed {len(self.failed)}, partial {len(self.partial)}; {self.frames_written} frames in {self.elapsed_s:.1f} s "
            f"({self.videos_per_s:.2f} videos/s)"
        )


def save_report(report: IndexReport, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(report.model_dump_json(indent=1), encoding="utf-8")
    tmp.replace(path)


def load_report(path: Path) -> IndexReport | None:
    """The last run's report, or None when there is none (or it cannot be read)."""
    try:
        return IndexReport.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
