"""The typed steering summary: a 0.1 ``steering/report.json`` reads (its derived numbers produced
from its profiles), round-trips through its one write/read pair, and the report shows exactly the
summary's numbers (nothing recomputed)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.steering.interdependence import analyse_report
from valuespectrum.steering.report_section import steering_section
from valuespectrum.steering.summary import (
    STEERING_FORMAT_VERSION,
    SteeringSummary,
    read_steering_summary,
    write_steering_summary,
)
from valuespectrum.values import CIRCUMPLEX, Value

FIXTURE = Path(__file__).parent / "data" / "steering-0.1"
PO = Value.POWER


def test_a_0_1_steering_report_reads_with_its_derived_numbers() -> None:
    s = read_steering_summary(FIXTURE / "steering" / "report.json")
    assert s.format_version == 1
    persona = s.condition("persona:Power")
    # persona profile: Power +10, Achievement +5, Universalism -5 against a neutral persona at 50
    assert persona.reference == "neutral_persona"
    assert (
        persona.changes is not None
        and persona.changes[PO] == 10.0
        and persona.changes[Value.UNIVERSALISM] == -5.0
    )
    steer = s.condition("steer:Power:caa:2")
    assert steer.reference == "baseline" and steer.changes is not None and steer.changes[PO] == 8.0
    assert steer.capability_delta == pytest.approx(0.7 - 0.8) and steer.perplexity_ratio == 1.5
    base = s.condition("baseline")
    assert (base.changes, base.capability_delta, base.perplexity_ratio) == (None, 0.0, 1.0)
    (e,) = s.effects
    assert e.persona_delta == 10.0
    assert e.persona_mean_abs_side_effect == pytest.approx((5 + 5) / 9)  # 9 other values, two moved 5


def test_the_summary_round_trips_as_format_2(tmp_path: Path) -> None:
    s = read_steering_summary(FIXTURE / "steering" / "report.json")
    path = tmp_path / "steering" / "report.json"
    write_steering_summary(path, s)
    again = read_steering_summary(path)
    assert again.format_version == STEERING_FORMAT_VERSION == 2
    assert again.model_dump(exclude={"format_version"}) == s.model_dump(exclude={"format_version"})
    old_keys = set(json.loads((FIXTURE / "steering" / "report.json").read_text(encoding="utf-8")))
    assert old_keys <= set(json.loads(path.read_text(encoding="utf-8")))  # 0.1 keys kept


def test_the_report_shows_the_summary_numbers(tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    s = read_steering_summary(run / "steering" / "report.json")
    (e,) = s.effects
    section = steering_section(run)
    assert section is not None
    tables = {t.caption.split(" ")[0]: t for t in section.tables}
    control = tables["Control"]
    row = control.rows[0]
    col = {h: i for i, h in enumerate(control.headers)}
    assert row[col["Δ target"]] == e.target_delta == 8.0
    assert row[col["persona Δ"]] == e.persona_delta
    assert row[col["z vs random"]] == e.z_vs_random
    side_by_side = tables["Persona"]
    col = {h: i for i, h in enumerate(side_by_side.headers)}
    (row,) = side_by_side.rows
    assert row[col["persona Δ target"]] == e.persona_delta
    assert row[col["persona mean |side|"]] == e.persona_mean_abs_side_effect
    assert row[col["vector mean |side|"]] == e.mean_abs_side_effect
    quality = tables["Fluency"]
    col = {h: i for i, h in enumerate(quality.headers)}
    by_name = {r[0]: r for r in quality.rows}
    for c in s.conditions:
        if c.kind != "random":
            assert by_name[c.name][col["Δ capability"]] == c.capability_delta
            assert by_name[c.name][col["perplexity / baseline"]] == c.perplexity_ratio
    with open(run / "report" / "steering_effects.csv", newline="", encoding="utf-8") as fh:
        target_rows = [r for r in csv.DictReader(fh) if r["is_target"] == "True"]
    assert [float(r["change"]) for r in target_rows] == [e.target_delta]
    assert [float(r["persona_delta"]) for r in target_rows] == [e.persona_delta]


def test_interdependence_reads_the_stored_changes() -> None:
    s = read_steering_summary(FIXTURE / "steering" / "report.json")
    inter = analyse_report(s)
    row = dict(zip(CIRCUMPLEX, inter.effect_matrix[CIRCUMPLEX.index(PO)], strict=True))
    steer, persona = s.condition("steer:Power:caa:2").changes, s.condition("persona:Power").changes
    assert steer is not None and persona is not None
    assert row[Value.ACHIEVEMENT] == pytest.approx(
        (steer[Value.ACHIEVEMENT] + persona[Value.ACHIEVEMENT]) / 2
    )
    stored = json.loads((FIXTURE / "steering" / "interdependence.json").read_text(encoding="utf-8"))
    assert inter.model_dump(mode="json") == stored  # what 0.1 computed from the same profiles


def test_a_malformed_summary_is_a_one_line_error(tmp_path: Path) -> None:
    path = tmp_path / "report.json"
    raw = json.loads((FIXTURE / "steering" / "report.json").read_text(encoding="utf-8"))
    raw["conditions"][0]["kind"] = "sideways"
    path.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_steering_summary(path)
    assert f"{path}: field 'conditions.0.kind'" in str(err.value) and "vspec steer eval" in str(err.value)
    assert SteeringSummary.model_fields["format_version"].default == 1
