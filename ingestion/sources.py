"""Find the videos of a corpus and their metadata: folder scan, yt-dlp sidecars, subtitles, listings.

Every path is confined to the corpus root: a symlink that resolves outside it, an absolute
path elsewhere or a '..' in a listing is refused with a reason, never followed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingestion.config import VIDEO_EXTENSIONS
from ingestion.records import normalise_platform
from valuespectrum.errors import ConfigError
from valuespectrum.tables import read_table


@dataclass
class SourceVideo:
    """A candidate video before decoding: where it is and what its sidecars or listing say."""

    path: Path
    """Resolved absolute path (inside the root)."""
    rel: str
    """Path relative to the root, '/'-separated."""
    meta: dict[str, Any] = field(default_factory=dict)
    provenance: str = "folder-scan"


@dataclass
class Refusal:
    path: str
    reason: str


class PathEscapeError(ValueError):
    """A path would leave the corpus root."""


def confine(root: Path, candidate: str | Path) -> tuple[Path, str]:
    """Resolve ``candidate`` (relative to ``root``) and return (absolute path, relative string).

    Raises PathEscapeError for '..' components or when the resolved path (symlinks followed)
    is outside the root.
    """
    root_r = root.resolve()
    p = Path(candidate)
    if ".." in p.parts:
        raise PathEscapeError(f"'..' is not allowed in corpus paths: {candidate}")
    full = p if p.is_absolute() else root / p
    resolved = full.resolve()
    if not resolved.is_relative_to(root_r):
        raise PathEscapeError(f"{candidate} resolves to {resolved}, outside the corpus root {root_r}")
    # keep the name the user sees (a symlink inside the root keeps its own name)
    try:
        rel = full.absolute().relative_to(root.absolute()).as_posix()
    except ValueError:
        rel = resolved.relative_to(root_r).as_posix()
    return resolved, rel


def scan_folder(root: Path) -> tuple[list[SourceVideo], list[Refusal]]:
    """All videos under ``root`` (recursively, sorted), with their sidecar metadata."""
    if not root.is_dir():
        raise ConfigError(f"corpus_root: {root} is not a folder; pass the folder that holds the videos")
    found: list[SourceVideo] = []
    refused: list[Refusal] = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in VIDEO_EXTENSIONS or p.is_dir():
            continue
        rel_name = p.relative_to(root).as_posix()
        try:
            resolved, rel = confine(root, p.relative_to(root))
        except PathEscapeError as exc:
            refused.append(Refusal(rel_name, str(exc)))
            continue
        meta, prov = read_sidecars(p)
        found.append(SourceVideo(resolved, rel, meta, "folder-scan" + prov))
    return found, refused


def read_listing(root: Path, listing: Path) -> tuple[list[SourceVideo], list[Refusal]]:
    """Videos named in a CSV or JSONL listing; sidecars are merged under the listing's fields."""
    rows = _listing_rows(listing)
    found: list[SourceVideo] = []
    refused: list[Refusal] = []
    for line_no, row in rows:
        where = f"{listing.name}#{line_no}"
        raw_path = str(row.get("path") or "").strip()
        if not raw_path:
            refused.append(Refusal(where, f"{listing}: line {line_no}: field 'path' is empty"))
            continue
        try:
            resolved, rel = confine(root, raw_path)
        except PathEscapeError as exc:
            refused.append(Refusal(raw_path, f"{listing}: line {line_no}: {exc}"))
            continue
        if not resolved.is_file():
            refused.append(
                Refusal(raw_path, f"{listing}: line {line_no}: file not found under the corpus root")
            )
            continue
        meta, prov = read_sidecars(root / rel)
        for k, v in row.items():
            if k == "path" or v is None or v == "":
                continue
            key = "upload_date" if k == "date" else k
            meta[key] = v
        found.append(SourceVideo(resolved, rel, meta, f"listing:{where}" + prov))
    return found, refused


def _listing_rows(listing: Path) -> list[tuple[int, dict[str, Any]]]:
    if not listing.is_file():
        raise ConfigError(f"listing: {listing} does not exist; pass a CSV or JSONL file of videos")
    if listing.suffix.lower() not in (".csv", ".jsonl", ".ndjson"):
        raise ConfigError(f"listing: {listing} must end in .csv or .jsonl")
    table = read_table(listing, line_word="line")
    if listing.suffix.lower() == ".csv" and "path" not in table.columns:
        raise ConfigError(f"{listing}: the CSV header needs a 'path' column (found {table.columns})")
    return table.rows


def read_sidecars(video: Path) -> tuple[dict[str, Any], str]:
    """Metadata from ``<stem>.info.json`` and subtitles ``<stem>[.lang].vtt|srt`` beside a video."""
    meta: dict[str, Any] = {}
    prov = ""
    info = video.with_name(video.stem + ".info.json")
    if info.is_file():
        try:
            data = json.loads(info.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            data = None
        if isinstance(data, dict):
            meta.update(info_json_fields(data))
            prov += "+info.json"
    subs = sorted(
        s
        for s in video.parent.glob(glob_escape(video.stem) + ".*")
        if s.suffix.lower() in (".vtt", ".srt") and s.is_file()
    )
    if subs:
        text = subtitle_text(subs[0].read_text(encoding="utf-8", errors="replace"))
        if text:
            meta["subtitles"] = text
            prov += "+" + subs[0].suffix.lower().lstrip(".")
    return meta, prov


def glob_escape(s: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", s)


def info_json_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The yt-dlp fields we keep, normalised (upload_date YYYYMMDD -> YYYY-MM-DD)."""
    out: dict[str, Any] = {}
    for key in ("title", "description", "uploader", "webpage_url", "duration"):
        if data.get(key) not in (None, ""):
            out[key] = data[key]
    if isinstance(data.get("tags"), list):
        out["tags"] = [str(t) for t in data["tags"]]
    date = str(data.get("upload_date") or "")
    if re.fullmatch(r"\d{8}", date):
        date = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    if date:
        out["upload_date"] = date
    extractor = data.get("extractor_key") or data.get("extractor")
    out["platform"] = normalise_platform(str(extractor or ""), str(data.get("webpage_url") or ""))
    return out


_TIMING = re.compile(r"^\s*(\d+:)?\d+:\d+[.,]\d+\s*-->")


def subtitle_text(raw: str) -> str:
    """Plain text of a WebVTT or SRT file: cue lines only, tags stripped, repeats dropped."""
    lines: list[str] = []
    for line in raw.splitlines():
        s = line.strip()
        if not s or s == "WEBVTT" or s.isdigit() or _TIMING.match(s):
            continue
        if s.startswith(("NOTE", "STYLE", "Kind:", "Language:")):
            continue
        s = re.sub(r"<[^>]+>", "", s).strip()
        if s and (not lines or lines[-1] != s):
            lines.append(s)
    return " ".join(lines)
