"""Reports and comparisons on runs built from scripted mock answers; numbers computed by hand.

The scripted models answer so that every item *scores* a chosen target (reverse-keyed items
get the mirrored rating), which makes every value score, change and rank known exactly.
"""

from __future__ import annotations

import csv
import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from valuespectrum.backends.mock import MockBackend
from valuespectrum.manifest import parse_manifest
from valuespectrum.probes.bank import load_bank
from valuespectrum.reports import sections as report_sections
from valuespectrum.reports.build import build_report
from valuespectrum.reports.compare import compare_runs, load_comparison_manifest
from valuespectrum.reports.metrics import change_ranks, mean_target_rank, paired_bootstrap, value_changes
from valuespectrum.reports.page import Section, Table
from valuespectrum.runs.execute import execute_run
from valuespectrum.runs.score import score_run
from valuespectrum.types import ModelRequest
from valuespectrum.values import CIRCUMPLEX, Value

PROBES = {p.id: p for p in load_bank("portrait").probes}
EVIL_PERSONA = "<script>alert(1)</script>"
EVIL_MODEL = 'evil"<img src=x onerror=alert(2)>'

#: Model alpha's intended score per value, by persona (3 for values not listed).
ALPHA: dict[str, dict[Value, float]] = {
    "none": {Value.POWER: 5.0},
    "value-power": {Value.POWER: 6.0, Value.TRADITION: 2.0},
    "value-tradition": {Value.TRADITION: 6.0, Value.POWER: 4.0},
    EVIL_PERSONA: {},
}


def scripted(targets: dict[str, dict[Value, float]], default: float) -> Callable[[ModelRequest], str]:
    """Answer each item with the rating that makes its score the target for its value."""

    def answer(req: ModelRequest) -> str:
        probe = PROBES[req.metadata["probe_id"]]
        ((value, weight),) = probe.keys.items()
        want = targets.get(req.metadata["persona"], {}).get(value, default)
        rating = want if weight > 0 else 7 - want  # reverse keying: score = 7 - rating
        presented = 7 - rating if req.metadata["reverse_labels"] else rating
        return str(int(presented))

    return answer


def make_run(root: Path, name: str, models: dict[str, Callable[[ModelRequest], str]]) -> Path:
    personas_file = root / f"{name}-personas.yaml"
    personas_file.write_text(
        "personas:\n"
        f"  - {{id: {json.dumps(EVIL_PERSONA)}, description: {json.dumps('You say </section><b>hi</b>.')}}}\n",
        encoding="utf-8",
    )
    m = parse_manifest(
        {
            "name": name,
            "models": [{"spec": "mock", "label": label} for label in models],
            "probes": {"banks": ["portrait"], "limit_per_value": 3},
            "personas": ["none", "value-power", "value-tradition", EVIL_PERSONA],
            "personas_file": str(personas_file),
            "scoring": {"n_boot": 100},
            "batch_size": 64,
            "cache": False,
            "output_dir": str(root),
        }
    )
    backends = {label: MockBackend(fn) for label, fn in models.items()}
    outcome = execute_run(
        m, out=root / name, backend_factory=lambda spec, options, label: backends[label or spec]
    )
    score_run(outcome.folder)
    return outcome.folder.root


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("runs")
    one = make_run(root, "one", {"alpha": scripted(ALPHA, 3.0), EVIL_MODEL: scripted({}, 4.0)})
    two = make_run(root, "two", {"alpha": scripted(ALPHA, 3.0)})
    return one, two


@pytest.fixture(scope="module")
def report(runs: tuple[Path, Path]):
    return build_report(runs[0])


def summary_groups(run_dir: Path) -> dict[tuple[str, str], dict]:
    data = json.loads((run_dir / "summary.json").read_text())
    return {(g["model"], g["persona"]): g for g in data["groups"]}


# ---------------------------------------------------------------- metrics


def test_mean_target_rank_hand_example() -> None:
    base = {v: 3.0 for v in CIRCUMPLEX}
    persona = dict(base) | {
        Value.POWER: 4.5,
        Value.ACHIEVEMENT: 4.0,
        Value.UNIVERSALISM: 2.0,
        Value.HEDONISM: None,
    }
    ch = value_changes(persona, base)
    assert Value.HEDONISM not in ch and len(ch) == 9
    assert ch[Value.POWER] == 1.5 and ch[Value.UNIVERSALISM] == -1.0
    ranks = change_ranks(ch)
    # Power +1.5 -> 1, Achievement +1.0 -> 2, six values at 0 share ranks 3..8 -> 5.5, Universalism -> 9
    assert ranks[Value.POWER] == 1 and ranks[Value.ACHIEVEMENT] == 2 and ranks[Value.UNIVERSALISM] == 9
    assert ranks[Value.SECURITY] == 5.5
    assert mean_target_rank(ch, [Value.POWER, Value.UNIVERSALISM]) == 5.0
    assert mean_target_rank(ch, [Value.HEDONISM]) is None


def test_paired_bootstrap_identical_groups_give_zero_and_p_one() -> None:
    a = {f"p{i}": {Value.POWER: (float(i % 5 + 1), 1)} for i in range(20)}
    (d,) = paired_bootstrap(a, a, n_boot=500, seed=1)
    assert d.value is Value.POWER and d.diff == 0.0 and d.p_value == 1.0
    assert d.ci_low == d.ci_high == 0.0 and d.n_probes == 20


def test_paired_bootstrap_clear_difference_is_significant() -> None:
    # b is a shifted down by 2 on every probe (plus probe-level noise shared by both): diff = 2 exactly
    a = {f"p{i}": {Value.POWER: (3.0 + (i % 3), 1), Value.SECURITY: (2.0 * (i % 2), 2)} for i in range(30)}
    b = {
        p: {Value.POWER: (x[Value.POWER][0] - 2.0, 1), Value.SECURITY: x[Value.SECURITY]}
        for p, x in a.items()
    }
    b["only-b"] = {Value.POWER: (100.0, 1)}  # not paired: must be ignored
    res = {d.value: d for d in paired_bootstrap(a, b, n_boot=999, seed=0)}
    assert res[Value.POWER].diff == pytest.approx(2.0)
    assert res[Value.POWER].ci_low == pytest.approx(2.0) and res[Value.POWER].p_value == pytest.approx(
        2 / 1000
    )
    assert res[Value.SECURITY].diff == 0.0 and res[Value.SECURITY].p_value == 1.0


def test_paired_bootstrap_noisy_difference_ci_and_p() -> None:
    import numpy as np

    rng = np.random.default_rng(3)
    base = rng.normal(0, 1, 40)
    a = {f"p{i}": {Value.HEDONISM: (float(x + 0.05 * rng.normal()), 1)} for i, x in enumerate(base)}
    b = {f"p{i}": {Value.HEDONISM: (float(x), 1)} for i, x in enumerate(base)}
    (d,) = paired_bootstrap(a, b, n_boot=2000, seed=0)
    expected = np.mean([a[p][Value.HEDONISM][0] - b[p][Value.HEDONISM][0] for p in a])
    assert d.diff == pytest.approx(expected)
    assert d.ci_low <= d.diff <= d.ci_high
    assert 0.0 < d.p_value <= 1.0


# ---------------------------------------------------------------- report


def test_report_has_core_sections_and_files(report) -> None:
    assert report.sections[:5] == ["profiles", "higher-order", "parse-quality", "steerability", "references"]
    html = report.html.read_text()
    for sid in report.sections:
        assert f'<section id="{sid}">' in html
    # self-contained: no scripts, no external fetches
    assert "<script" not in html.lower()
    assert not re.search(r'(src|href)="(https?:)?//', html)
    for p in report.files:
        assert p.is_file() and p.stat().st_size > 0, p
    assert (report.out_dir / "profiles-polar-1-1.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_value_table_csv_and_parquet_match_summary(runs, report) -> None:
    import pandas as pd

    groups = summary_groups(runs[0])
    with open(report.out_dir / "values.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(groups) * 10
    for r in rows:
        prof = groups[(r["model"], r["persona"])]["profile"]
        assert float(r["score"]) == pytest.approx(prof["scores"][r["value"]])
        assert float(r["ci_low"]) == pytest.approx(prof["ci_low"][r["value"]])
        assert int(r["n_items"]) == prof["n_items"][r["value"]]
    df = pd.read_parquet(report.out_dir / "values.parquet")
    assert list(df["value"][:10]) == [v.value for v in CIRCUMPLEX]
    for (model, persona, value), score in df.set_index(["model", "persona", "value"])["score"].items():
        assert score == pytest.approx(groups[(model, persona)]["profile"]["scores"][value])
    q = pd.read_parquet(report.out_dir / "parse_quality.parquet")
    assert set(q["n_records"]) == {2 * 30}  # 3 probes per value x 10 values x 2 label orders


def test_scripted_scores_are_exact(runs) -> None:
    g = summary_groups(runs[0])
    assert g[("alpha", "none")]["profile"]["scores"]["Power"] == 5.0
    assert g[("alpha", "none")]["profile"]["scores"]["Security"] == 3.0
    assert g[("alpha", "value-power")]["profile"]["scores"]["Tradition"] == 2.0
    assert g[(EVIL_MODEL, "none")]["profile"]["scores"]["Power"] == 4.0


def test_steerability_table_matches_hand_computation(report) -> None:
    import pandas as pd

    df = pd.read_csv(report.out_dir / "steerability.csv")
    alpha = df[df["model"] == "alpha"].set_index(["persona", "value"])
    assert alpha.loc[("value-power", "Power"), "change"] == pytest.approx(1.0)  # 6 - 5
    assert alpha.loc[("value-power", "Tradition"), "change"] == pytest.approx(-1.0)  # 2 - 3
    assert alpha.loc[("value-power", "Security"), "change"] == 0.0
    # Power moved up most -> rank 1; Tradition moved up 3 while Power fell 1 -> rank 1 too
    assert alpha.loc[("value-power", "Power"), "mean_target_rank"] == 1.0
    assert alpha.loc[("value-tradition", "Tradition"), "mean_target_rank"] == 1.0
    assert alpha.loc[("value-tradition", "Power"), "change"] == pytest.approx(-1.0)
    # a persona without targets has no rank
    assert (
        alpha.loc[(EVIL_PERSONA, "Power"), "mean_target_rank"]
        != alpha.loc[(EVIL_PERSONA, "Power"), "mean_target_rank"]
    )


def _svg(path: Path) -> ET.Element:
    return ET.parse(path).getroot()


def _ids(root: ET.Element, pattern: str) -> list[ET.Element]:
    return [e for e in root.iter() if re.fullmatch(pattern, e.get("id") or "")]


def test_polar_svg_has_one_trace_per_persona_and_labels_in_circumplex_order(report) -> None:
    root = _svg(report.out_dir / "profiles-polar-1-1.svg")  # model alpha: 4 personas
    assert len(_ids(root, r"profiles-polar-1-1-trace-\d+")) == 4
    assert len(_ids(root, r"profiles-polar-1-1-band-\d+")) == 4
    labels = sorted(
        _ids(root, r"profiles-polar-1-1-label-\d+"), key=lambda e: int(e.get("id", "").rsplit("-", 1)[1])
    )
    texts = ["".join(e.itertext()).strip() for e in labels]
    assert texts == [v.value for v in CIRCUMPLEX]
    root2 = _svg(report.out_dir / "profiles-polar-2-1.svg")  # the other model
    assert len(_ids(root2, r"profiles-polar-2-1-trace-\d+")) == 4
    hm = _svg(report.out_dir / "steerability-heatmap-1.svg")
    rows = ["".join(e.itertext()).strip() for e in _ids(hm, r"steerability-heatmap-1-row-\d+")]
    assert sorted(rows) == sorted(["value-power", "value-tradition", EVIL_PERSONA])


def test_untrusted_labels_are_escaped(report) -> None:
    html = report.html.read_text()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    # escaped in the inline SVG text too (matplotlib escapes XML text)
    assert html.count("<section") == html.count("</section>") == len(report.sections)


def test_negative_order_rho_is_flagged_red(runs, tmp_path: Path) -> None:
    from valuespectrum.reports.page import render_section

    data = json.loads((runs[0] / "summary.json").read_text())
    data["groups"][0]["order_agreement"] = {"rho": -0.4, "p_value": 0.25, "n": 10}
    data["groups"][1]["order_agreement"] = {"rho": 0.7, "p_value": 0.02, "n": 10}
    (tmp_path / "summary.json").write_text(json.dumps(data))
    run = report_sections.load_run(tmp_path)
    sec = report_sections.parse_quality_section(report_sections.ReportContext(run, tmp_path))
    assert sec is not None
    out = render_section(sec)
    assert '<td class="bad">-0.400</td>' in out and "<td>0.700</td>" in out
    assert "Label-order rho below 0" in out and html.escape(run.groups[0].label) in out


def test_reference_section_matches_scipy(runs, report) -> None:
    from scipy.stats import spearmanr

    from valuespectrum.references import get_reference
    from valuespectrum.reports.sections import reference_rhos

    g = summary_groups(runs[0])[("alpha", "value-power")]["profile"]["scores"]
    ref = get_reference("pan-cultural").scores
    expected = spearmanr([g[v.value] for v in CIRCUMPLEX], [ref[v] for v in CIRCUMPLEX]).statistic
    from valuespectrum.reports.loading import load_run

    grp = next(x for x in load_run(runs[0]).groups if x.model == "alpha" and x.persona == "value-power")
    ((rho, _, n),) = reference_rhos(grp.scores, ["pan-cultural"])
    assert rho == pytest.approx(expected) and n == 10


def test_optional_sections_extension_point_and_fallback(runs, tmp_path: Path, monkeypatch) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(runs[0], run, ignore=shutil.ignore_patterns("report"))
    (run / "browse").mkdir()
    (run / "browse" / "summary.json").write_text(
        json.dumps({"alignment": 0.25, "items": [1, 2], "note": "<i>x</i>"})
    )
    # the installed browsing section cannot read this file, and says so
    res = build_report(run)
    assert "browsing" in res.sections
    assert "browse/summary.json: could not be read" in res.html.read_text()
    # without installed builders, the generic fallback lists the file's scalar fields
    monkeypatch.setattr(report_sections, "registered_sections", lambda: list(report_sections._REGISTERED))
    res = build_report(run)
    assert "browsing" in res.sections and "steering" not in res.sections
    html = res.html.read_text()
    assert "<td>alignment</td><td>0.250</td>" in html and "&lt;i&gt;x&lt;/i&gt;" in html

    def browse_builder(run_dir: Path) -> Section | None:
        data = json.loads((run_dir / "browse" / "summary.json").read_text())
        return Section(
            id="browsing", title="Browsing drift", tables=[Table(["alignment"], [[data["alignment"]]])]
        )

    report_sections.register_section(browse_builder)
    try:
        res = build_report(run)
    finally:
        report_sections._REGISTERED.remove(browse_builder)
    assert res.sections.count("browsing") == 1
    assert "<td>alignment</td>" not in res.html.read_text()  # the registered builder replaced the fallback


def test_missing_summary_names_file(tmp_path: Path) -> None:
    from valuespectrum.errors import ConfigError

    with pytest.raises(ConfigError, match=r"summary\.json: not found"):
        build_report(tmp_path)


# ---------------------------------------------------------------- compare


def test_compare_runs_aligned_correlations_and_differences(runs, tmp_path: Path) -> None:
    one, two = runs
    res = compare_runs([one, two], tmp_path / "cmp", references=["pan-cultural"], n_boot=300, seed=0)
    assert len(res.keys) == 8 + 4
    assert all(res.rho[i][i] == 1.0 for i in range(len(res.keys)))
    with open(tmp_path / "cmp" / "aligned.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["run"] for r in rows].count("two") == 4
    alpha_none = next(
        r for r in rows if r["run"] == "one" and r["model"] == "alpha" and r["persona"] == "none"
    )
    assert float(alpha_none["Power"]) == 5.0 and float(alpha_none["Security"]) == 3.0

    def pair(a: tuple[str, str, str], b: tuple[str, str, str]):
        return next(
            p
            for p in res.differences
            if (p.a.run, p.a.model, p.a.persona) == a and (p.b.run, p.b.model, p.b.persona) == b
        )

    # alpha scores 5 on Power, the evil model 4; elsewhere 3 vs 4
    diffs = {d.value: d for d in pair(("one", "alpha", "none"), ("one", EVIL_MODEL, "none")).differences}
    assert diffs[Value.POWER].diff == pytest.approx(1.0) and diffs[Value.POWER].p_value < 0.01
    assert diffs[Value.SECURITY].diff == pytest.approx(-1.0) and diffs[Value.SECURITY].p_value < 0.01
    # the same scripted model in two runs: no difference at all
    same = pair(("one", "alpha", "value-power"), ("two", "alpha", "value-power")).differences
    assert len(same) == 10 and all(d.diff == 0.0 and d.p_value == 1.0 for d in same)
    # rho between identical profiles is 1; the comparison page escapes labels and lists sections
    i = res.keys.index(
        next(k for k in res.keys if (k.run, k.model, k.persona) == ("one", "alpha", "value-power"))
    )
    j = res.keys.index(
        next(k for k in res.keys if (k.run, k.model, k.persona) == ("two", "alpha", "value-power"))
    )
    assert res.rho[i][j] == pytest.approx(1.0)
    html = res.html.read_text()
    for sid in ("aligned", "rank-correlations", "references", "differences"):
        assert f'<section id="{sid}">' in html
    assert "<img src=x" not in html
    svg = _svg(tmp_path / "cmp" / "comparison-bars.svg")
    bars = _ids(svg, r"comparison-bars-trace-\d+-bar-\d+")
    assert len({e.get("id", "").split("-")[3] for e in bars}) == 10  # first 10 of 12 groups
    assert len(bars) == 10 * 10
    with open(tmp_path / "cmp" / "differences.csv", newline="") as fh:
        assert sum(1 for _ in csv.DictReader(fh)) == sum(len(p.differences) for p in res.differences)


def test_comparison_manifest_paths_and_errors(runs, tmp_path: Path) -> None:
    from valuespectrum.errors import ConfigError

    m = tmp_path / "cmp.yaml"
    m.write_text(f"runs: [{runs[0]}, ../x]\nreferences: [pan-cultural]\nout: here\nn_boot: 50\n")
    cm = load_comparison_manifest(m)
    assert cm.runs == [runs[0], tmp_path / "../x"] and cm.out == tmp_path / "here" and cm.n_boot == 50
    m.write_text("runs: [a]\nbogus: 1\n")
    with pytest.raises(ConfigError, match=r"cmp\.yaml: field 'bogus'"):
        load_comparison_manifest(m)
    m.write_text("runs: []\n")
    with pytest.raises(ConfigError, match=r"cmp\.yaml: field 'runs'"):
        load_comparison_manifest(m)
    with pytest.raises(ConfigError, match="unknown reference"):
        compare_runs([runs[0]], tmp_path / "o", references=["nope"])


def test_cli_report_and_compare(runs, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from valuespectrum.reports.cli import app

    r = CliRunner().invoke(app, ["report", str(runs[1]), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "rep" / "report.html").is_file() and "sections: profiles" in r.output
    m = tmp_path / "c.yaml"
    m.write_text(f"runs: [{runs[1]}, {runs[1]}]\nout: cmpout\nn_boot: 50\n")
    r = CliRunner().invoke(app, ["compare", str(m)])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "cmpout" / "comparison.html").is_file()
    assert "0 per-value differences with p < 0.05" in r.output
    r = CliRunner().invoke(app, ["report", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "summary.json" in r.output


def test_float_noise_in_changes_ties_instead_of_ranking() -> None:
    # like-rates from few items: 6/6 - 3/6 and 5/6 - 2/6 in percent differ only by rounding noise
    d_power = 100 * 6 / 6 - 100 * 3 / 6
    d_hedonism = 100 * 5 / 6 - 100 * 2 / 6
    assert d_power != d_hedonism  # the noise is real
    ranks = change_ranks({Value.POWER: d_power, Value.HEDONISM: d_hedonism, Value.TRADITION: 0.0})
    assert ranks[Value.POWER] == ranks[Value.HEDONISM] == 1.5


# ---------------------------------------------------------------- reliability


def test_value_reliability_hand_computed() -> None:
    from valuespectrum.runs.analysis import value_reliability
    from valuespectrum.scoring.items import ItemScore

    def row(a: float, b: float) -> list[ItemScore]:
        return [
            ItemScore(probe_id="p1", value=Value.POWER, score=a, kind="rating", weight=1.0),
            ItemScore(probe_id="p2", value=Value.POWER, score=b, kind="rating", weight=1.0),
            ItemScore(probe_id="p3", value=Value.HEDONISM, score=a, kind="rating", weight=1.0),
        ]

    reps = {
        ("m", "none", "text"): {"fwd": row(1, 2), "rev": row(2, 3)},
        ("m", "value-power", "text"): {"fwd": row(3, 3), "rev": row(4, 5)},
    }
    (block,) = value_reliability(reps)
    # item variances (ddof 1) 5/3 and 19/12, total-score variance of (3, 5, 6, 9) = 6.25:
    # alpha = 2 * (1 - (5/3 + 19/12) / 6.25) = 0.96
    assert (block["model"], block["modality"], block["n_replications"]) == ("m", "text", 4)
    assert block["alpha"]["Power"] == pytest.approx(0.96)
    assert block["alpha"]["Hedonism"] is None  # one item: no alpha


def test_alpha_per_value_in_summary_and_report(runs, report) -> None:
    data = json.loads((runs[0] / "summary.json").read_text())
    blocks = {b["model"]: b for b in data["reliability"]}
    alpha = blocks["alpha"]
    # 4 personas x 2 orders; every Power (and Tradition) item gets the same score within a
    # replication and the score varies across personas: identical columns, alpha = 1.
    assert alpha["n_replications"] == 8
    assert alpha["alpha"]["Power"] == pytest.approx(1.0) and alpha["alpha"]["Tradition"] == pytest.approx(1.0)
    assert alpha["alpha"]["Hedonism"] is None  # always 3: no variance
    assert "reliability" in report.sections
    assert "Cronbach" in report.html.read_text()
