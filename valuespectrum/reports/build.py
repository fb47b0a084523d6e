"""``vspec report RUN_DIR``: the HTML report, figures and tables of one scored run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from valuespectrum.errors import ConfigError
from valuespectrum.reports import sections as S
from valuespectrum.reports import tables
from valuespectrum.reports.loading import RunData, load_run
from valuespectrum.reports.ordinal_report import ordinal_report_sections
from valuespectrum.reports.page import Figure, Section, render_page
from valuespectrum.runs.folder import RunFolder
from valuespectrum.value_systems import dim_name


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

    Sections appear only when the run has their data. A scored probe run (``summary.json``)
    gives the core sections; optional sections come from the builders registered with
    :func:`valuespectrum.reports.sections.register_section` (steering, browsing...), so a folder
    with only ``steering/report.json`` or ``browse/summary.json`` gets a page too. A folder with
    nothing reportable raises :class:`ConfigError` naming what was looked for.
    """
    run_dir = Path(run_dir)
    has_scores = RunFolder(run_dir).summary.is_file()
    run = load_run(run_dir) if has_scores else None
    out = Path(out_dir) if out_dir is not None else run_dir / "report"
    found: list[Section] = []
    if run is not None:
        out.mkdir(parents=True, exist_ok=True)
        ctx = S.ReportContext(run=run, fig_dir=out)
        found = [s for b in S.CORE_SECTIONS if (s := b(ctx)) is not None]
    found += S.optional_sections(run_dir)
    found += ordinal_report_sections(run_dir)
    if not found:
        raise ConfigError(_nothing_to_report(run_dir))
    out.mkdir(parents=True, exist_ok=True)

    files = [p for s in found for f in s.figures for p in _figure_files(f, out)]
    if run is not None:
        files += _core_tables(run, out)

    if run is not None:
        name = run.name
        meta = f"Run folder: {run_dir.resolve()} · {len(run.groups)} groups (model x persona)"
    else:
        name = run_dir.resolve().name
        meta = f"Run folder: {run_dir.resolve()} · no probe scores (summary.json); optional sections only"
    html_path = out / "report.html"
    html_path.write_text(render_page(f"Value report: {name}", found, meta=meta), encoding="utf-8")
    return ReportResult(html=html_path, out_dir=out, sections=[s.id for s in found], files=files)


def _figure_files(f: Figure, out: Path) -> list[Path]:
    """A figure's files, kept in the output folder: builders that wrote elsewhere get copied in."""
    import shutil

    kept = []
    for p in f.files:
        target = out / p.name
        if p.resolve() != target.resolve() and p.is_file():
            shutil.copyfile(p, target)
        kept.append(target)
    return kept


def _core_tables(run: RunData, out: Path) -> list[Path]:
    files = tables.write_table(tables.value_rows(run), out, "values")
    files += tables.write_table(tables.higher_order_rows(run), out, "higher_order")
    files += tables.write_table(tables.quality_rows(run), out, "parse_quality")
    steer = S.steerability(run)
    if steer:
        rows = [
            {
                "model": r.model,
                "persona": r.persona,
                "value": dim_name(v),
                "change": c,
                "targets": ";".join(dim_name(t) for t in r.targets),
                "mean_target_rank": r.mean_target_rank,
            }
            for r in steer
            for v, c in r.changes.items()
        ]
        files += tables.write_table(rows, out, "steerability")
    return files


def _nothing_to_report(run_dir: Path) -> str:
    looked = [
        f"{RunFolder(run_dir).summary}: not found (a scored probe run: `vspec run`, then `vspec score`)"
    ]
    looked += [f"{run_dir / rel}: not found ({title.lower()})" for rel, _, title in S.FALLBACKS]
    looked.append(f"{run_dir / 'ordinal.json'}: not found (`vspec compare --ordinal`)")
    return (
        f"{run_dir}: nothing to report. Looked for " + "; ".join(looked) + "; and no registered report "
        "section found data there. Point `vspec report` at a run folder that has one of these."
    )
