"""``vspec report RUN_DIR``: the HTML report, figures and tables of one scored run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.reports import sections as S
from valuespectrum.reports import tables
from valuespectrum.reports.loading import load_run
from valuespectrum.reports.page import Section, render_page


@dataclass(frozen=True)
class ReportResult:
    html: Path
    out_dir: Path
    sections: list[str]
    """Section ids in page order."""
    files: list[Path] = field(default_factory=list)
    """Every figure and table file written."""


def build_report(run_dir: Path, out_dir: Path | None = None) -> ReportResult:
    """Write ``report.html`` plus PNG/SVG figures and CSV/Parquet tables (default ``RUN_DIR/report``).

    Sections appear only when the run has their data; optional sections come from the
    builders registered with :func:`valuespectrum.reports.sections.register_section`.
    """
    run_dir = Path(run_dir)
    run = load_run(run_dir)
    out = Path(out_dir) if out_dir is not None else run_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    ctx = S.ReportContext(run=run, fig_dir=out)
    found: list[Section] = [s for b in S.CORE_SECTIONS if (s := b(ctx)) is not None]
    found += S.optional_sections(run_dir)

    files = [p for s in found for f in s.figures for p in f.files]
    files += tables.write_table(tables.value_rows(run), out, "values")
    files += tables.write_table(tables.higher_order_rows(run), out, "higher_order")
    files += tables.write_table(tables.quality_rows(run), out, "parse_quality")
    steer = S.steerability(run)
    if steer:
        rows = [
            {
                "model": r.model,
                "persona": r.persona,
                "value": v.value,
                "change": c,
                "targets": ";".join(t.value for t in r.targets),
                "mean_target_rank": r.mean_target_rank,
            }
            for r in steer
            for v, c in r.changes.items()
        ]
        files += tables.write_table(rows, out, "steerability")

    meta = f"Run folder: {run_dir.resolve()} · {len(run.groups)} groups (model x persona)"
    html_path = out / "report.html"
    html_path.write_text(render_page(f"Value report: {run.name}", found, meta=meta), encoding="utf-8")
    return ReportResult(html=html_path, out_dir=out, sections=[s.id for s in found], files=files)
