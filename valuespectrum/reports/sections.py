"""Section builders and the extension point for optional report sections.

A builder is a callable ``(ctx) -> Section | None`` (``None``: nothing to show for this run).
Core builders take a :class:`ReportContext` with the loaded run; the optional sections for
other parts of the project (browsing drift, steering effects) are *run-dir builders*,
``(run_dir: Path) -> Section | None``, registered without editing this module, either

- in code: ``@register_section`` on a function in your module, imported before the report is
  built, or
- for installed packages: an entry point in the group ``valuespectrum.report_sections``
  pointing at the builder (loaded lazily when a report is built).

A run-dir builder that needs somewhere to write figures uses ``run_dir / "report"``.
When ``browse/summary.json`` or ``steering/report.json`` exists but no registered builder
produced a section with id ``browsing``/``steering``, a generic section lists the file's
top-level scalar fields, so the data is never silently left out.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from valuespectrum.personas import NO_PERSONA
from valuespectrum.reports import figures, readout_sections
from valuespectrum.reports.loading import Group, RunData, load_run, model_label
from valuespectrum.reports.page import Cell, Section, Table
from valuespectrum.value_systems import Dim, as_dim, dim_name, short_label
from valuespectrum.values import HigherOrder

RunDirBuilder = Callable[[Path], "Section | None"]

ENTRY_POINT_GROUP = "valuespectrum.report_sections"

__all__ = [
    "ENTRY_POINT_GROUP",
    "ReportContext",
    "Section",
    "load_run",
    "register_section",
    "registered_sections",
]

_REGISTERED: list[RunDirBuilder] = []


def register_section(builder: RunDirBuilder) -> RunDirBuilder:
    """Add a run-dir section builder (usable as a decorator); registering twice is a no-op."""
    if builder not in _REGISTERED:
        _REGISTERED.append(builder)
    return builder


def registered_sections() -> list[RunDirBuilder]:
    """Builders registered in code, then those from the entry-point group (lazily loaded)."""
    from importlib.metadata import entry_points

    out = list(_REGISTERED)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        fn = ep.load()
        if fn not in out:
            out.append(fn)
    return out


@dataclass(frozen=True)
class ReportContext:
    run: RunData
    fig_dir: Path


def _ordered_groups(run: RunData) -> dict[str, list[Group]]:
    """Groups per model, the ``none`` persona first."""
    by_model: dict[str, list[Group]] = {}
    for g in run.groups:
        by_model.setdefault(g.model, []).append(g)
    for gs in by_model.values():
        gs.sort(key=lambda g: (g.persona != NO_PERSONA, g.persona))
    return by_model


SCALE_LABEL = {
    "rating": "mean rating (reverse-keyed items flipped)",
    "endorse": "mean endorsement (0 = no, 1 = yes)",
    "choice": "mean option weight",
    "mixed": "mean item score (mixed item kinds)",
    "none": "no scores",
}


def profiles_section(ctx: ReportContext) -> Section | None:
    scored = [g for g in ctx.run.groups if any(x is not None for x in g.scores.values())]
    if not scored:
        return None
    figs = []
    for m_i, (model, gs) in enumerate(_ordered_groups(ctx.run).items()):
        gs = [g for g in gs if g in scored]
        for c_i in range(0, len(gs), figures.MAX_TRACES):
            chunk = gs[c_i : c_i + figures.MAX_TRACES]
            part = f" (part {c_i // figures.MAX_TRACES + 1})" if len(gs) > figures.MAX_TRACES else ""
            scales = sorted({g.scale for g in chunk})
            if not ctx.run.is_schwartz:  # no circular order to draw: bars per dimension
                figs.append(
                    figures.grouped_bars(
                        [dim_name(v) for v in ctx.run.dims],
                        [(g.persona, [g.scores.get(v) for v in ctx.run.dims]) for g in chunk],
                        name=f"profiles-bars-{m_i + 1}-{c_i // figures.MAX_TRACES + 1}",
                        title=f"Value profile of {model}{part}, one bar per persona",
                        out_dir=ctx.fig_dir,
                        ylabel=", ".join(SCALE_LABEL.get(s, s) for s in scales),
                    )
                )
                continue
            figs.append(
                figures.polar_profiles(
                    [(g.persona, g.scores, g.ci_low, g.ci_high) for g in chunk],
                    name=f"profiles-polar-{m_i + 1}-{c_i // figures.MAX_TRACES + 1}",
                    title=f"Value profile of {model}{part}, one trace per persona, with bootstrap CIs",
                    out_dir=ctx.fig_dir,
                    radial_label=", ".join(SCALE_LABEL.get(s, s) for s in scales),
                )
            )
    dims = ctx.run.dims
    rows = [[g.model, g.persona, *[g.scores.get(v) for v in dims], g.spread] for g in scored]
    intro = (
        "Mean item score per value in circumplex order (neighbours compatible, opposites in conflict); "
        "shaded bands are bootstrap CIs over probes."
        if ctx.run.is_schwartz
        else f"Mean item score per dimension of value system {ctx.run.value_system}, in its order."
    )
    tables = [
        Table(
            ["model", "persona", *[short_label(dim_name(v)) for v in dims], "spread"], rows, caption="Scores"
        )
    ]
    if not ctx.run.is_schwartz:
        tables.append(
            Table(
                ["model", "persona", "value", "score", "CI low", "CI high", "items"],
                [
                    [
                        g.model,
                        g.persona,
                        dim_name(v),
                        g.scores.get(v),
                        g.ci_low.get(v),
                        g.ci_high.get(v),
                        g.n_items.get(v),
                    ]
                    for g in scored
                    for v in dims
                ],
                caption="Scores with bootstrap CIs over probes",
            )
        )
    return Section(id="profiles", title="Value profiles", intro=intro, figures=figs, tables=tables)


def higher_order_section(ctx: ReportContext) -> Section | None:
    gs = [g for g in ctx.run.groups if any(x is not None for x in g.higher_order.values())]
    if not gs or not ctx.run.is_schwartz:
        return None
    hos = list(HigherOrder)
    fig = figures.grouped_bars(
        [h.value for h in hos],
        [(g.label, [g.higher_order[h] for h in hos]) for g in gs[:12]],
        name="higher-order-bars",
        title="Higher-order values (mean of member values)",
        out_dir=ctx.fig_dir,
        ylabel="score",
    )
    notes = [f"The figure shows the first 12 of {len(gs)} groups; the table has all."] if len(gs) > 12 else []
    return Section(
        id="higher-order",
        title="Higher-order values",
        intro="Mean of member values' scores; Hedonism counted under Openness to Change.",
        figures=[fig],
        tables=[
            Table(
                ["model", "persona", *[h.value for h in hos]],
                [[g.model, g.persona, *[g.higher_order[h] for h in hos]] for g in gs],
            )
        ],
        notes=notes,
    )


def parse_quality_section(ctx: ReportContext) -> Section | None:
    if not ctx.run.groups:
        return None
    rows: list[list[Cell]] = []
    classes: dict[tuple[int, int], str] = {}
    for i, g in enumerate(ctx.run.groups):
        rows.append(
            [
                g.model,
                g.persona,
                g.n_records,
                g.n_parsed,
                g.n_unparsed,
                g.n_failed,
                g.n_cached,
                g.parse_rate,
                g.unparsed_rate,
                g.failure_rate,
                g.order_rho,
                g.order_p,
            ]
        )
        if g.order_rho is not None and g.order_rho < 0:
            classes[(i, 10)] = "bad"
        if g.n_failed:
            classes[(i, 5)] = "bad"
    negative = [g.label for g in ctx.run.groups if g.order_rho is not None and g.order_rho < 0]
    notes = (
        [
            f"Label-order rho below 0 (answers depend on option order more than on content): {', '.join(negative)}."
        ]
        if negative
        else []
    )
    return Section(
        id="parse-quality",
        title="Answer quality and label-order agreement",
        intro="Unparsed answers and failed requests are counted, never scored. Order rho is Spearman's rho "
        "between the profiles from forward and reversed option labels: low or negative values mean the "
        "profile reflects position bias rather than values.",
        tables=[
            Table(
                [
                    "model",
                    "persona",
                    "records",
                    "parsed",
                    "unparsed",
                    "failed",
                    "cached",
                    "parse rate",
                    "unparsed rate",
                    "failure rate",
                    "order rho",
                    "order p",
                ],
                rows,
                classes=classes,
            )
        ],
        notes=notes,
    )


@dataclass(frozen=True)
class Steerability:
    model: str
    persona: str
    changes: dict[Dim, float]
    targets: list[Dim]
    mean_target_rank: float | None
    measure: str = "scores"
    """``like_rate`` (0-100) for yes/no items, else ``scores`` (the item scale)."""


def steerability(run: RunData) -> list[Steerability]:
    """Each persona's value changes vs the ``none`` persona of the same model, as the run's
    summary holds them (one number per metric: the report never recomputes it)."""
    if run.summary is None:
        return []
    effects = run.summary.steerability.personas
    several = len({g.modality for g in run.summary.groups}) > 1
    out = []
    for e in sorted(effects, key=lambda e: (e.model, e.modality, e.persona)):
        out.append(
            Steerability(
                model=model_label(e.model, e.modality) if several else e.model,
                persona=e.persona,
                changes={as_dim(k): float(d) for k, d in e.changes.items()},
                targets=[as_dim(t) for t in e.targets],
                mean_target_rank=e.mean_target_rank,
                measure=e.measure,
            )
        )
    return out


def steerability_section(ctx: ReportContext) -> Section | None:
    rows = steerability(ctx.run)
    if not rows:
        return None
    figs = []
    for m_i, model in enumerate(dict.fromkeys(r.model for r in rows)):
        mine = [r for r in rows if r.model == model]
        figs.append(
            figures.heatmap(
                [r.persona for r in mine],
                [dim_name(v) for v in ctx.run.dims],
                [[r.changes.get(v) for v in ctx.run.dims] for r in mine],
                name=f"steerability-heatmap-{m_i + 1}",
                title=f"{model}: score change vs the 'none' persona",
                out_dir=ctx.fig_dir,
                cbar_label="persona - none",
            )
        )
    ranked = [r for r in rows if r.targets]
    tables = [
        Table(
            ["model", "persona", *[short_label(dim_name(v)) for v in ctx.run.dims]],
            [[r.model, r.persona, *[r.changes.get(v) for v in ctx.run.dims]] for r in rows],
            caption="Change vs the 'none' persona, on each group's measure as in summary.json ("
            + ", ".join(sorted({readout_sections.MEASURES.get(r.measure, "mean item score") for r in rows}))
            + ")",
        )
    ]
    if ranked:
        tables.append(
            Table(
                ["model", "persona", "targets", "mean target rank"],
                [
                    [r.model, r.persona, ", ".join(dim_name(t) for t in r.targets), r.mean_target_rank]
                    for r in ranked
                ],
                caption=f"Mean rank of target values among the {len(ctx.run.dims)} changes (1 = moved up most; "
                f"{(len(ctx.run.dims) + 1) / 2:g} = chance)",
            )
        )
    return Section(
        id="steerability",
        title="Persona steerability",
        intro="How each persona moves the profile relative to the same model with no persona.",
        figures=figs,
        tables=tables,
    )


#: References compared by default: the human ones and the Value-Spectrum paper's table.
def default_references() -> list[str]:
    from valuespectrum.references import list_references

    return list_references()


def reference_rhos(
    scores: dict[Dim, float | None], names: list[str]
) -> list[tuple[float | None, float | None, int]]:
    """(rho, p, n) of a profile against each named reference."""
    from valuespectrum.references import get_reference
    from valuespectrum.scoring.profile import compare_profiles

    out = []
    for n in names:
        c = compare_profiles(scores, dict(get_reference(n).scores))
        out.append((c.rho, c.p_value, c.n))
    return out


def references_section(ctx: ReportContext) -> Section | None:
    gs = [g for g in ctx.run.groups if sum(x is not None for x in g.scores.values()) >= 3]
    if not gs or not ctx.run.is_schwartz:
        return None
    names = default_references()
    rows = [[g.model, g.persona, *[r for r, _, _ in reference_rhos(g.scores, names)]] for g in gs]
    return Section(
        id="references",
        title="Agreement with reference profiles",
        intro="Spearman's rho between each profile and reference value orderings: the pan-cultural human "
        "hierarchy, a human PVQ baseline, and the Value-Spectrum paper's per-model like-rates.",
        tables=[Table(["model", "persona", *names], rows)],
        notes=["Rank correlations ignore scale, so profiles on different scales can be compared with them."],
    )


def reliability_section(ctx: ReportContext) -> Section | None:
    """Cronbach's alpha per value and model, from the typed summary's ``reliability`` block."""
    blocks = ctx.run.summary.reliability if ctx.run.summary is not None else []
    if not blocks:
        return None
    rows: list[list[Cell]] = [
        [b["model"], b["modality"], b["n_replications"], *[b["alpha"].get(dim_name(v)) for v in ctx.run.dims]]
        for b in blocks
    ]
    return Section(
        id="reliability",
        title="Internal consistency (Cronbach's alpha)",
        intro="Alpha of each value's items; rows of the alpha matrix are the model's (persona, label order) "
        "replications. Empty where a value has fewer than two items answered in every replication or "
        "its items do not vary.",
        tables=[
            Table(
                ["model", "modality", "replications", *[short_label(dim_name(v)) for v in ctx.run.dims]], rows
            )
        ],
    )


def item_sources_section(ctx: ReportContext) -> Section | None:
    """Which tagger chose the items drawn from a video index (``tagged_by`` of each item)."""
    path = ctx.run.root / "probes.jsonl"
    if not path.is_file():
        return None
    counts: dict[str, int] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            chosen = json.loads(line).get("metadata", {}).get("tagged_by")
        except (json.JSONDecodeError, AttributeError):
            continue
        if isinstance(chosen, str):
            counts[chosen] = counts.get(chosen, 0) + 1
    if not counts:
        return None
    return Section(
        id="item-sources",
        title="How the items were chosen",
        intro="Items drawn from the video index are the videos whose value tags rank highest for each "
        "value; this is the tagger that produced those tags.",
        tables=[Table(["chosen by", "items"], [[k, n] for k, n in sorted(counts.items())])],
        notes=[
            "Image tags come from the index's image-text encoder; with random weights (the offline demo) "
            "they carry no meaning, which is why the demo draws by text tags from a real sentence encoder."
        ],
    )


def _wordings_section(ctx: ReportContext) -> Section | None:
    from valuespectrum.reports.wordings import wordings_section

    return wordings_section(ctx)


def _value_system_section(ctx: ReportContext) -> Section | None:
    from valuespectrum.reports.system_sections import value_system_section

    return value_system_section(ctx.run)


CORE_SECTIONS: tuple[Callable[[ReportContext], Section | None], ...] = (
    _value_system_section,
    profiles_section,
    higher_order_section,
    parse_quality_section,
    steerability_section,
    references_section,
    readout_sections.chance_section,
    readout_sections.readout_section,
    readout_sections.bias_section,
    reliability_section,
    item_sources_section,
    _wordings_section,
)


def _scalar_fields_section(run_dir: Path, rel: str, section_id: str, title: str) -> Section | None:
    path = run_dir / rel
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return Section(id=section_id, title=title, notes=[f"{rel}: could not be read ({exc})."])
    rows: list[list[str | int | float | None]] = []
    if isinstance(data, dict):
        rows = [[k, v] for k, v in data.items() if isinstance(v, str | int | float) or v is None]
    return Section(
        id=section_id,
        title=title,
        intro=f"Top-level fields of {rel} (no dedicated report section is installed for it).",
        tables=[Table(["field", "value"], rows)] if rows else [],
    )


#: (relative file, section id, title) of optional data that gets a generic section as a fallback.
FALLBACKS: tuple[tuple[str, str, str], ...] = (
    ("browse/summary.json", "browsing", "Browsing drift"),
    ("steering/report.json", "steering", "Steering effects"),
)


def optional_sections(run_dir: Path) -> list[Section]:
    """Sections from registered builders, then generic fallbacks for unclaimed optional data."""
    out = [s for b in registered_sections() if (s := b(run_dir)) is not None]
    have = {s.id for s in out}
    for rel, sid, title in FALLBACKS:
        if sid not in have and (s := _scalar_fields_section(run_dir, rel, sid, title)) is not None:
            out.append(s)
    return out
