"""Probe runs in value systems other than Schwartz's ten, through the CLI as a user runs them.

The Moral Foundations file is the shipped ``manifests/data/mft_items.csv`` (12 items, two per
foundation, ``care2`` reverse-keyed). The scripted mock answers each item with a fixed rating,
so every score below is computed by hand:

    care1 6, care2 2 (reverse: 7 - 2 = 5)  -> Care      (6 + 5) / 2 = 5.5
    fair1 4, fair2 5                       -> Fairness  4.5
    loyal1 3, loyal2 3                     -> Loyalty   3.0
    auth1 2, auth2 1                       -> Authority 1.5
    sanct1 1, sanct2 2                     -> Sanctity  1.5
    lib1 5, lib2 "banana" (unparsed)       -> Liberty   5.0 (one item: no interval)

MRAT = mean raw rating of the 11 parsed answers = 34 / 11; spread = population SD of the six
scores = sqrt(15.5 / 6) = 1.60728.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cli_runs import ROOT, vspec
from valuespectrum.values import HigherOrder, Value

# every Schwartz name a Moral Foundations run must never print: the ten and the four higher-order values
SCHWARTZ_NAMES = tuple(v.value for v in Value) + tuple(h.value for h in HigherOrder)

ANSWERS = {
    "care1": "6",
    "care2": "2",
    "fair1": "4",
    "fair2": "5",
    "loyal1": "3",
    "loyal2": "3",
    "auth1": "2",
    "auth2": "1",
    "sanct1": "1",
    "sanct2": "2",
    "lib1": "5",
    "lib2": "banana",
}
EXPECTED = {"Care": 5.5, "Fairness": 4.5, "Loyalty": 3.0, "Authority": 1.5, "Sanctity": 1.5, "Liberty": 5.0}


def _schwartz_mentions(text: str) -> list[str]:
    # the page's Content-Security-Policy header is not a value name
    text = text.replace("Content-Security-Policy", "")
    return [n for n in SCHWARTZ_NAMES if re.search(rf"\b{re.escape(n)}\b", text)]


def _manifest(tmp: Path, **over: Any) -> Path:
    shutil.copy(ROOT / "manifests" / "data" / "mft_items.csv", tmp / "mft_items.csv")
    shutil.copy(ROOT / "manifests" / "data" / "mft_personas.yaml", tmp / "mft_personas.yaml")
    raw = yaml.safe_load((ROOT / "manifests" / "mft_items.yaml").read_text(encoding="utf-8"))
    raw["models"] = [{"spec": "mock", "label": "m", "options": {"default": "3", "script": ANSWERS}}]
    raw["probes"]["files"][0]["path"] = "mft_items.csv"
    raw["personas_file"] = "mft_personas.yaml"
    raw["controls"] = {"reverse_labels": False}
    raw["scoring"] = {"n_boot": 200}
    raw["output_dir"] = "runs"
    raw.update(over)
    path = tmp / "mft.yaml"
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def mft_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    tmp = tmp_path_factory.mktemp("mft")
    manifest = _manifest(tmp)
    ran = vspec("run", str(manifest), cwd=tmp)
    assert ran.returncode == 0, ran.stderr
    run = tmp / "runs" / "mft-items"
    scored = vspec("score", str(run), cwd=tmp)
    assert scored.returncode == 0, scored.stderr
    reported = vspec("report", str(run), cwd=tmp)
    assert reported.returncode == 0, reported.stderr
    return run, ran.stdout + scored.stdout, reported.stdout


def test_mft_scores_are_the_hand_computed_ones(mft_run: tuple[Path, str, str]) -> None:
    run, _, _ = mft_run
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["value_system"] == "mft6"
    none = next(g for g in summary["groups"] if g["persona"] == "none")
    prof = none["profile"]
    assert list(prof["scores"]) == list(EXPECTED)
    for dim, want in EXPECTED.items():
        assert prof["scores"][dim] == pytest.approx(want)
    assert prof["n_items"] == {
        "Care": 2,
        "Fairness": 2,
        "Loyalty": 2,
        "Authority": 2,
        "Sanctity": 2,
        "Liberty": 1,
    }
    assert prof["ci_low"]["Liberty"] is None and prof["ci_high"]["Liberty"] is None
    assert prof["ci_low"]["Care"] <= 5.5 <= prof["ci_high"]["Care"]
    assert prof["mrat"] == pytest.approx(34 / 11)
    assert prof["centred"]["Care"] == pytest.approx(5.5 - 34 / 11)
    assert prof["spread"] == pytest.approx(math.sqrt(15.5 / 6))
    assert prof["higher_order"] == {}
    assert (none["n_parsed"], none["n_unparsed"]) == (11, 1)
    # the care-first persona answers the same: every change 0, so Care ranks at the mean rank 3.5
    effect = next(e for e in summary["steerability"]["personas"] if e["persona"] == "care-first")
    assert effect["targets"] == ["Care"]
    assert effect["changes"] == dict.fromkeys(EXPECTED, 0.0)
    assert effect["mean_target_rank"] == pytest.approx(3.5)
    assert none["references"] == {}


def test_mft_outputs_name_no_schwartz_value(mft_run: tuple[Path, str, str]) -> None:
    run, terminal, _ = mft_run
    summary_text = (run / "summary.json").read_text(encoding="utf-8")
    report = (run / "report" / "report.html").read_text(encoding="utf-8")
    for name, text in {
        "summary.json": summary_text,
        "summary.csv": (run / "summary.csv").read_text(encoding="utf-8"),
        "comparison.csv": (run / "comparison.csv").read_text(encoding="utf-8"),
        "report.html": report,
        "values.csv": (run / "report" / "values.csv").read_text(encoding="utf-8"),
        "terminal": terminal,
    }.items():
        assert _schwartz_mentions(text) == [], name
    line = "not applicable to value system mft6"
    summary = json.loads(summary_text)
    assert len(summary["not_applicable"]) == 3 and all(line in s for s in summary["not_applicable"])
    assert terminal.count(line) >= 3
    assert report.count(line) >= 3
    assert (
        'id="value-system"' in report
        and 'id="references"' not in report
        and 'id="higher-order"' not in report
    )
    assert "Care" in report and "Sanctity" in report


def test_mft_compare_has_no_reference_table(mft_run: tuple[Path, str, str], tmp_path: Path) -> None:
    run, _, _ = mft_run
    out = vspec("compare", str(run), str(run), "--out", str(tmp_path / "cmp"), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "cmp" / "comparison.html").read_text(encoding="utf-8")
    assert "reference profiles and norms: not applicable to value system mft6" in page
    assert _schwartz_mentions(page) == []
    aligned = (tmp_path / "cmp" / "aligned.csv").read_text(encoding="utf-8").splitlines()[0]
    assert aligned == "run,model,persona,scale,Care,Fairness,Loyalty,Authority,Sanctity,Liberty"


def test_persona_target_outside_the_system_names_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "mft_personas.yaml").write_text("x", encoding="utf-8")
    manifest = _manifest(tmp_path)
    (tmp_path / "mft_personas.yaml").write_text(
        "personas:\n  - id: care-first\n    description: You care.\n    targets: [Tradition]\n",
        encoding="utf-8",
    )
    out = vspec("run", str(manifest), cwd=tmp_path)
    assert out.returncode != 0
    assert (
        "mft_personas.yaml: persona 'care-first', field 'targets': 'Tradition' is not a value of value system 'mft6'"
        in (out.stderr)
    )
    # a built-in Schwartz persona in a Moral Foundations run is refused the same way
    manifest = _manifest(tmp_path, personas=["none", "value-tradition"])
    out = vspec("run", str(manifest), cwd=tmp_path)
    assert out.returncode != 0
    assert "built-in personas.yaml: persona 'value-tradition', field 'targets'" in out.stderr


def test_unknown_foundation_lists_the_systems_values(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    csv = tmp_path / "mft_items.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace(",liberty,", ",Power,", 1), encoding="utf-8")
    out = vspec("run", str(manifest), cwd=tmp_path)
    assert out.returncode != 0
    assert "unknown value 'Power'" in out.stderr
    assert "Care, Fairness, Loyalty, Authority, Sanctity, Liberty" in out.stderr


def test_free_system_keeps_the_files_names_in_order(tmp_path: Path) -> None:
    from valuespectrum.probes.importers import load_items
    from valuespectrum.scoring.parse import ParsedAnswer
    from valuespectrum.scoring.profile import profile_from_answers

    csv = tmp_path / "free.csv"
    csv.write_text("text,dim\nI save money.,thrift\nI try new things.,curiosity\nI never waste.,Thrift\n")
    bank = load_items(csv, {"value_system": "free", "value": "dim"})
    assert [p.value_system for p in bank.probes] == ["free"] * 3
    answers = [
        (p, ParsedAnswer(status="parsed", value=r, raw=str(r)))
        for p, r in zip(bank.probes, [2, 5, 6], strict=True)
    ]
    prof = profile_from_answers(answers, n_boot=0)
    # one dimension per name, first spelling kept ("Thrift" is the same name as "thrift")
    assert list(prof.scores) == ["thrift", "curiosity"]
    assert prof.scores == {"thrift": pytest.approx(4.0), "curiosity": pytest.approx(5.0)}
    assert prof.higher_order == {}


def test_mixing_systems_in_one_run_is_refused(tmp_path: Path) -> None:
    manifest = _manifest(tmp_path)
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    raw["probes"]["banks"] = ["portrait"]
    raw["personas"] = ["none"]
    manifest.write_text(yaml.safe_dump(raw), encoding="utf-8")
    out = vspec("run", str(manifest), cwd=tmp_path)
    assert out.returncode != 0
    assert "mixes probes of value systems ['mft6', 'schwartz10']" in out.stderr
    assert "probes.banks: []" in out.stderr


def test_schwartz_dumps_do_not_grow() -> None:
    from valuespectrum.probes.bank import load_bank

    probe = load_bank("portrait").probes[0]
    assert "value_system" not in probe.model_dump(mode="json")
    from valuespectrum.runs.log import RunSummary

    assert not {"value_system", "not_applicable"} & set(RunSummary(run="r").model_dump(mode="json"))


def test_values_filter_names_foundations(tmp_path: Path) -> None:
    from valuespectrum.errors import ConfigError
    from valuespectrum.manifest import load_manifest
    from valuespectrum.runs.execute import resolve_probes

    manifest = _manifest(tmp_path)
    raw = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    raw["probes"]["values"] = ["care", "Purity"]  # an alias of Sanctity
    manifest.write_text(yaml.safe_dump(raw), encoding="utf-8")
    probes = resolve_probes(load_manifest(manifest), tmp_path)
    assert [p.id for p in probes] == ["care1", "care2", "sanct1", "sanct2"]
    raw["probes"]["values"] = ["Power"]
    manifest.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"probes.values.*unknown value 'Power' in value system 'mft6'"):
        load_manifest(manifest)


def test_evaluate_in_python_with_mft_items() -> None:
    import valuespectrum as vs
    from valuespectrum.backends.mock import MockBackend
    from valuespectrum.probes.importers import load_items

    bank = load_items(
        ROOT / "manifests" / "data" / "mft_items.csv",
        {"value_system": "mft6", "id": "id", "value": "foundation", "keying": "keying"},
    )
    res = vs.evaluate(MockBackend(ANSWERS, default="3"), probes=bank.probes, reverse_labels=False, n_boot=0)
    assert res.summary.value_system == "mft6"
    (group,) = res.summary.groups
    assert group.profile.scores == pytest.approx(EXPECTED)
    assert res.summary.not_applicable and "higher-order values" in res.summary.not_applicable[1]
