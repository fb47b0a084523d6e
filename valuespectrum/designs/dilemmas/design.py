"""The dilemma design driven by a manifest: load, run, summarise, report."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from valuespectrum.designs.common import DesignOutcome, check_header, make_backend, out_folder, resolve
from valuespectrum.designs.dilemmas.loader import load_dilemmas, value_list
from valuespectrum.designs.dilemmas.metrics import summarize
from valuespectrum.designs.dilemmas.report import write_report
from valuespectrum.designs.dilemmas.runner import ContextMode, run_dilemmas
from valuespectrum.manifest import ModelEntry, _Strict, load_config
from valuespectrum.runs.jsonl import write_json_atomic


class DilemmaManifest(_Strict):
    name: str = "dilemmas"
    model: ModelEntry
    data: str
    """MMDs JSON file (relative to the manifest)."""
    values: str | list[str] = "mft6"
    """``mft6``, ``schwartz10`` or a list of value names the labels must match."""
    contexts: list[ContextMode] = Field(default_factory=lambda: ["none"], min_length=1)  # type: ignore[arg-type]
    orders: list[Literal["AB", "BA"]] = Field(default_factory=lambda: ["AB", "BA"], min_length=1)  # type: ignore[arg-type]
    mode: Literal["auto", "options", "text"] = "auto"
    limit: int | None = Field(default=None, ge=1)
    max_new_tokens: int = Field(default=8, ge=1)
    n_boot: int = Field(default=500, ge=0)
    seed: int = 0
    output_dir: str = "runs"
    max_unparsed_rate: float = Field(default=1.0, ge=0.0, le=1.0)
    """Exit non-zero when more than this share of records is unparsed or failed."""


def run_dilemma_manifest(
    path: str | Path, *, out: Path | None = None, fresh: bool = False, model: str | None = None
) -> DesignOutcome:
    path = Path(path)
    m = load_config(DilemmaManifest, path)
    base = path.parent
    data = resolve(base, m.data)
    assert data is not None
    dilemmas = load_dilemmas(data, m.values, limit=m.limit)
    folder = out_folder(base, m.output_dir, m.name, out, fresh)
    backend = make_backend(m.model, model, base=base)
    try:
        header = {
            "design": "dilemmas",
            "manifest": m.model_dump(),
            "model_id": backend.model_id,
            "data": str(data),
            "n_dilemmas": len(dilemmas),
        }
        check_header(folder, header)
        records = run_dilemmas(
            backend,
            dilemmas,
            folder / "records.jsonl",
            contexts=m.contexts,
            orders=m.orders,
            mode=m.mode,
            max_new_tokens=m.max_new_tokens,
        )
    finally:
        backend.close()
    allowed = value_list(m.values)
    offered = {v for d in dilemmas for s in d.steps for v in s.values}
    summary = summarize(records, [v for v in allowed if v in offered], n_boot=m.n_boot, seed=m.seed)
    summary["model_id"] = header["model_id"]
    summary["value_system"] = m.values if isinstance(m.values, str) else "custom"
    write_json_atomic(folder / "summary.json", summary)
    write_report(summary, folder, f"Multi-step dilemmas: {header['model_id']}")
    unread = sum(r["status"] != "parsed" for r in records)
    return DesignOutcome(folder, summary, len(records), unread, m.max_unparsed_rate)
