"""``vspec compare``: several runs and models side by side.

One aligned table (rows = (run, model, persona), columns = the 10 values), Spearman's rho
between every two groups and with reference profiles, paired bootstrap tests of per-value
differences between groups that share a persona and a scale (item scores from
``scores.jsonl``, probes resampled, seeded), a comparison figure, and HTML + CSV output.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from valuespectrum.errors import ConfigError
from valuespectrum.reports import figures
from valuespectrum.reports.loading import Group, load_item_scores, load_run
from valuespectrum.reports.metrics import BootstrapDifference, paired_bootstrap
from valuespectrum.reports.page import Cell, Section, Table, render_page
from valuespectrum.value_systems import SCHWARTZ10, Dim, dim_name, dims_in, not_applicable, short_label

DEFAULT_REFERENCES: tuple[str, ...] = ("pan-cultural", "human-pvq21")


class ComparisonManifest(BaseModel):
    """A comparison described in YAML (paths relative to the manifest's folder)."""

    model_config = ConfigDict(extra="forbid")

    runs: list[Path] = Field(min_length=1)
    """Scored run folders."""
    references: list[str] = Field(default_factory=lambda: list(DEFAULT_REFERENCES))
    """Reference names (see ``valuespectrum.references.list_references``)."""
    out: Path = Path("comparison")
    n_boot: int = Field(default=2000, ge=1)
    seed: int = 0


def load_comparison_manifest(path: Path) -> ComparisonManifest:

    from valuespectrum.manifest import load_config

    path = Path(path)
    m = load_config(ComparisonManifest, path)
    base = path.parent
    return m.model_copy(
        update={
            "runs": [r if r.is_absolute() else base / r for r in m.runs],
            "out": m.out if m.out.is_absolute() else base / m.out,
        }
    )


@dataclass(frozen=True)
class GroupKey:
    run: str
    model: str
    persona: str

    @property
    def label(self) -> str:
        return f"{self.run}: {self.model} / {self.persona}"


@dataclass(frozen=True)
class PairDifference:
    a: GroupKey
    b: GroupKey
    differences: list[BootstrapDifference]


@dataclass
class ComparisonResult:
    keys: list[GroupKey]
    groups: list[Group]
    rho: list[list[float | None]]
    """Spearman's rho between groups i and j (None where undefined)."""
    reference_rho: dict[str, list[float | None]]
    """Reference name -> rho with each group."""
    differences: list[PairDifference]
    html: Path
    files: list[Path] = field(default_factory=list)


def _run_labels(run_dirs: list[Path], names: list[str]) -> list[str]:
    """Run names, made unique with the folder name (then an index) where they clash."""
    labels: list[str] = []
    for d, n in zip(run_dirs, names, strict=True):
        label = n if names.count(n) == 1 else f"{n} ({d.name})"
        base, k = label, 2
        while label in labels:  # the same folder given twice
            label, k = f"{base} #{k}", k + 1
        labels.append(label)
    return labels


def compare_runs(
    run_dirs: list[Path],
    out_dir: Path,
    *,
    references: tuple[str, ...] | list[str] = DEFAULT_REFERENCES,
    n_boot: int = 2000,
    seed: int = 0,
) -> ComparisonResult:
    """Compare every (run, model, persona) group of the given scored runs; write HTML + CSV."""
    from valuespectrum.references import get_reference
    from valuespectrum.scoring.profile import compare_profiles

    if not run_dirs:
        raise ConfigError("compare: give at least one run folder (or a comparison manifest)")
    for r in references:
        try:
            get_reference(r)
        except ValueError as exc:
            raise ConfigError(f"compare: {exc}") from exc
    runs = [load_run(Path(d)) for d in run_dirs]
    systems = sorted({r.value_system for r in runs})
    if len(systems) > 1:
        raise ConfigError(
            f"compare: the runs measure different value systems {systems}; compare runs of one system"
        )
    system = systems[0] if systems else SCHWARTZ10
    # every run's dimensions (two free systems share the id 'free', not always their names)
    dims = dims_in(d for r in runs for d in r.dims)
    if system != SCHWARTZ10:
        references = ()  # the references are Schwartz profiles
    labels = _run_labels([Path(d) for d in run_dirs], [r.name for r in runs])
    keys: list[GroupKey] = []
    groups: list[Group] = []
    for label, run in zip(labels, runs, strict=True):
        for g in run.groups:
            keys.append(GroupKey(label, g.model, g.persona))
            groups.append(g)
    n = len(groups)
    rho: list[list[float | None]] = [[None] * n for _ in range(n)]
    for i, j in itertools.product(range(n), repeat=2):
        rho[i][j] = 1.0 if i == j else compare_profiles(groups[i].scores, groups[j].scores).rho
    ref_rho = {
        r: [compare_profiles(g.scores, dict(get_reference(r).scores)).rho for g in groups] for r in references
    }

    items = {
        label: load_item_scores(Path(d), readout=run.summary.readout if run.summary else "argmax")
        for label, d, run in zip(labels, run_dirs, runs, strict=True)
    }
    diffs: list[PairDifference] = []
    for i, j in itertools.combinations(range(n), 2):
        a, b = keys[i], keys[j]
        if a.persona != b.persona or groups[i].scale != groups[j].scale or groups[i].scale == "none":
            continue  # differences only mean something on the same persona and scale
        ia = items[a.run].get((a.model, a.persona), {})
        ib = items[b.run].get((b.model, b.persona), {})
        diffs.append(PairDifference(a, b, paired_bootstrap(ia, ib, n_boot=n_boot, seed=seed)))

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = _write_tables(out_dir, keys, groups, rho, ref_rho, diffs, dims)
    fig = figures.grouped_bars(
        [dim_name(v) for v in dims],
        [(k.label, [g.scores.get(v) for v in dims]) for k, g in list(zip(keys, groups, strict=True))[:10]],
        name="comparison-bars",
        title="Value scores per group" + (f" (first 10 of {n})" if n > 10 else ""),
        out_dir=out_dir,
        ylabel="score",
    )
    files += list(fig.files)
    html = out_dir / "comparison.html"
    html.write_text(_page(keys, groups, rho, ref_rho, diffs, fig, dims, system), encoding="utf-8")
    return ComparisonResult(keys, groups, rho, ref_rho, diffs, html, files)


def _aligned_rows(keys: list[GroupKey], groups: list[Group], dims: list[Dim]) -> list[dict[str, Any]]:
    return [
        {
            "run": k.run,
            "model": k.model,
            "persona": k.persona,
            "scale": g.scale,
            **{dim_name(v): g.scores.get(v) for v in dims},
        }
        for k, g in zip(keys, groups, strict=True)
    ]


def _diff_rows(diffs: list[PairDifference]) -> list[dict[str, Any]]:
    return [
        {
            "a": p.a.label,
            "b": p.b.label,
            "value": dim_name(d.value),
            "diff": d.diff,
            "ci_low": d.ci_low,
            "ci_high": d.ci_high,
            "p_value": d.p_value,
            "n_probes": d.n_probes,
        }
        for p in diffs
        for d in p.differences
    ]


def _write_tables(
    out_dir: Path,
    keys: list[GroupKey],
    groups: list[Group],
    rho: list[list[float | None]],
    ref_rho: dict[str, list[float | None]],
    diffs: list[PairDifference],
    dims: list[Dim],
) -> list[Path]:
    from valuespectrum.reports.tables import write_table

    files = write_table(_aligned_rows(keys, groups, dims), out_dir, "aligned", parquet=False)
    files += write_table(
        [{"group": k.label, **{o.label: rho[i][j] for j, o in enumerate(keys)}} for i, k in enumerate(keys)],
        out_dir,
        "rank_correlations",
        parquet=False,
    )
    files += write_table(
        [{"group": k.label, **{r: v[i] for r, v in ref_rho.items()}} for i, k in enumerate(keys)],
        out_dir,
        "reference_correlations",
        parquet=False,
    )
    cols = ["a", "b", "value", "diff", "ci_low", "ci_high", "p_value", "n_probes"]
    files += write_table(_diff_rows(diffs), out_dir, "differences", parquet=False, columns=cols)
    return files


def _page(
    keys: list[GroupKey],
    groups: list[Group],
    rho: list[list[float | None]],
    ref_rho: dict[str, list[float | None]],
    diffs: list[PairDifference],
    fig: figures.Figure,
    dims: list[Dim],
    system: str,
) -> str:
    ids = [f"G{i + 1}" for i in range(len(keys))]
    sections = [
        Section(
            id="aligned",
            title="Aligned profiles",
            figures=[fig],
            tables=[
                Table(
                    ["id", "run", "model", "persona", "scale", *[short_label(dim_name(v)) for v in dims]],
                    [
                        [ids[i], k.run, k.model, k.persona, g.scale, *[g.scores.get(v) for v in dims]]
                        for i, (k, g) in enumerate(zip(keys, groups, strict=True))
                    ],
                )
            ],
        ),
        Section(
            id="rank-correlations",
            title="Rank correlations between groups",
            tables=[Table(["", *ids], [[ids[i], *row] for i, row in enumerate(rho)])],
        ),
        Section(
            id="references",
            title="Rank correlations with references",
            tables=[
                Table(
                    ["id", *ref_rho], [[ids[i], *[v[i] for v in ref_rho.values()]] for i in range(len(keys))]
                )
            ]
            if system == SCHWARTZ10
            else [],
            notes=[] if system == SCHWARTZ10 else [not_applicable("reference profiles and norms", system)],
        ),
    ]
    rows: list[list[Cell]] = []
    classes: dict[tuple[int, int], str] = {}
    for p in diffs:
        for d in p.differences:
            if d.p_value < 0.05:
                classes[(len(rows), 6)] = "bad"
            rows.append(
                [
                    ids[keys.index(p.a)],
                    ids[keys.index(p.b)],
                    dim_name(d.value),
                    d.diff,
                    d.ci_low,
                    d.ci_high,
                    d.p_value,
                    d.n_probes,
                ]
            )
    sections.append(
        Section(
            id="differences",
            title="Paired bootstrap differences (a - b)",
            intro="Groups with the same persona and scale, compared on the probes both answered; probes resampled "
            "with replacement; p-values are two-sided and not corrected for multiple comparisons.",
            tables=[
                Table(["a", "b", "value", "diff", "CI low", "CI high", "p", "probes"], rows, classes=classes)
            ],
            notes=[] if rows else ["No two groups share a persona and a scale."],
        )
    )
    return render_page(
        "Value comparison", sections, meta=f"{len(keys)} groups from {len({k.run for k in keys})} runs"
    )
