"""Probe-set files: versioned JSONL of probes with media references and content digests.

The first line is a header (``{"probe_set": NAME, "version": N, ...}``), each further line
a Probe. Media paths are stored relative to the file's folder so a probe set and its
frames can be moved together; loading checks every digest and refuses media that changed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from valuespectrum.config import validate_value
from valuespectrum.errors import ConfigError
from valuespectrum.probes.schema import Probe, ProbeBank
from valuespectrum.types import MediaRef

FORMAT_VERSION = 1


def _relativise(probe: Probe, root: Path) -> Probe:
    media = []
    for m in probe.media:
        p = Path(m.path).resolve()
        rel = Path(os.path.relpath(p, root.resolve()))
        media.append(MediaRef(path=rel.as_posix(), digest=m.digest or MediaRef.pinned(p).digest))
    return probe.model_copy(update={"media": media})


def save_probe_set(bank: ProbeBank, path: str | Path, *, info: dict[str, Any] | None = None) -> Path:
    """Write a probe set; media are pinned by digest and stored relative to the file."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    root = out.parent
    header = {"probe_set": bank.name, "version": bank.version, "format": FORMAT_VERSION, **(info or {})}
    lines = [json.dumps(header, ensure_ascii=False)]
    lines += [_relativise(p, root).model_dump_json() for p in bank.probes]
    tmp = out.with_suffix(out.suffix + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(out)
    return out


def load_probe_set(path: str | Path, *, verify_media: bool = True) -> ProbeBank:
    """Read a probe set; media paths become absolute and (by default) digests are checked."""
    src = Path(path)
    if not src.is_file():
        raise ConfigError(f"{src}: probe-set file not found")
    lines = [ln for ln in src.read_text(encoding="utf-8").splitlines() if ln.strip()]
    if not lines:
        raise ConfigError(f"{src}: empty probe-set file")
    try:
        header = json.loads(lines[0])
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{src} line 1: not JSON ({exc.msg})") from exc
    if not isinstance(header, dict) or "probe_set" not in header:
        raise ConfigError(f"{src} line 1: expected a header with a 'probe_set' field")
    probes: list[Probe] = []
    for n, line in enumerate(lines[1:], start=2):
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{src} line {n}: not JSON ({exc.msg})") from exc
        probe = validate_value(Probe, raw, f"{src} line {n}")
        media = [MediaRef(path=str(m.resolve(src.parent.resolve())), digest=m.digest) for m in probe.media]
        probe = probe.model_copy(update={"media": media})
        if verify_media:
            for m in probe.media:
                m.verify()
        probes.append(probe)
    return validate_value(
        ProbeBank,
        {"name": str(header["probe_set"]), "version": str(header.get("version", "1")), "probes": probes},
        str(src),
    )
