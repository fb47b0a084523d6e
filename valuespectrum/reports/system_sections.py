"""The report's value-system section: which system the run measured, and which Schwartz-only
analyses do not apply to it (one line each, as in ``summary.json``'s ``not_applicable``)."""

from __future__ import annotations

from valuespectrum.reports.loading import RunData
from valuespectrum.reports.page import Section, Table
from valuespectrum.value_systems import BUILTIN, dim_name, schwartz_only_lines


def value_system_section(run: RunData) -> Section | None:
    """None for Schwartz's ten (reports of those runs stay as they were)."""
    if run.is_schwartz:
        return None
    system = BUILTIN.get(run.value_system)
    rows = [[dim_name(d), (system.definitions.get(dim_name(d), "") if system else "")] for d in run.dims]
    lines = (run.summary.not_applicable if run.summary is not None else []) or schwartz_only_lines(
        run.value_system
    )
    return Section(
        id="value-system",
        title=f"Value system: {run.value_system}",
        intro=f"The items are keyed to the {len(run.dims)} dimensions of value system {run.value_system}; "
        "profiles, intervals, persona effects, chance tests and comparisons are over these dimensions.",
        tables=[Table(["dimension", "definition"], rows)],
        notes=list(lines),
    )
