"""The steering report section and reports on run folders without probe scores.

Hand-built steering results (numbers computed here) check the section's tables, CSV and
figure; an end-to-end test runs ``vspec steer extract``, ``vspec steer eval`` (gated, with a
whole-input detector) and ``vspec report`` on a tiny model and opens the page in headless
Chromium.
"""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest
from probe_banks import write_definition_bank

from valuespectrum.errors import ConfigError
from valuespectrum.reports import sections as report_sections
from valuespectrum.reports.build import build_report
from valuespectrum.steering.evaluate import Condition, Effect, SteeringReport
from valuespectrum.steering.interdependence import analyse_report
from valuespectrum.steering.report_section import steering_section
from valuespectrum.values import CIRCUMPLEX, Value

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def registered():
    report_sections.register_section(steering_section)
    try:
        yield
    finally:
        report_sections._REGISTERED.remove(steering_section)


def _profile(**changes: float) -> dict[Value, float]:
    """All values at 50 except the given short codes."""
    return {v: 50.0 + changes.get(v.short, 0.0) for v in Value}


def _cond(name: str, kind: str, profile: dict[Value, float], **kw) -> Condition:
    return Condition(name=name, kind=kind, profile=profile, order_r=kw.pop("order_r", 0.5), **kw)


def hand_report() -> SteeringReport:
    po = Value.POWER
    steer = _profile(PO=8.0, AC=4.0, SE=1.0, UN=-6.0, BE=-3.0)
    persona = _profile(PO=10.0, AC=5.0, UN=-5.0)
    randoms = [_profile(PO=1.0), _profile(PO=-1.0), _profile()]
    base = _profile()
    conditions = [
        _cond("baseline", "baseline", base, capability=0.8),
        _cond("neutral_persona", "neutral_persona", _profile(), capability=0.8),
        _cond("persona:Power", "persona", persona, target=po, capability=0.75),
        _cond("steer:Power:caa:2", "steer", steer, target=po, strength=2.0, capability=0.7, order_r=-0.2),
        *[
            _cond(f"random:Power:2:{k}", "random", p, target=po, strength=2.0, seed=k)
            for k, p in enumerate(randoms)
        ],
    ]
    rand = [p[po] - base[po] for p in randoms]  # [1, -1, 0]: mean 0, sd 1
    side = {v: steer[v] - base[v] for v in Value if v is not po}
    effect = Effect(
        target=po,
        method="caa",
        strength=2.0,
        target_delta=steer[po] - base[po],
        side_effects=side,
        mean_abs_side_effect=sum(abs(x) for x in side.values()) / len(side),
        random_deltas=rand,
        random_mean=sum(rand) / 3,
        random_sd=1.0,
        z_vs_random=(8.0 - 0.0) / 1.0,
        persona_delta=persona[po] - 50.0,
        capability_delta=0.7 - 0.8,
        perplexity_ratio=None,
        verdict="Moves the value toward the target beyond random vectors (|z| >= 2).",
    )
    return SteeringReport(
        model_id="tiny", mode="add", seed=0, n_probes=10, n_random=3, conditions=conditions, effects=[effect]
    )


def write_steering(run: Path, report: SteeringReport) -> None:
    (run / "steering").mkdir(parents=True, exist_ok=True)
    (run / "steering" / "report.json").write_text(report.model_dump_json())
    (run / "steering" / "interdependence.json").write_text(analyse_report(report).model_dump_json())


def test_interdependence_of_hand_report() -> None:
    inter = analyse_report(hand_report())
    po_row = inter.effect_matrix[CIRCUMPLEX.index(Value.POWER)]
    by = dict(zip(CIRCUMPLEX, po_row, strict=True))
    # Power row = mean of (steer - baseline) and (persona - neutral persona)
    assert by[Value.POWER] == pytest.approx((8 + 10) / 2)
    assert by[Value.ACHIEVEMENT] == pytest.approx((4 + 5) / 2)
    assert by[Value.UNIVERSALISM] == pytest.approx((-6 - 5) / 2)
    assert all(
        x is None
        for i, row in enumerate(inter.effect_matrix)
        for x in row
        if CIRCUMPLEX[i] is not Value.POWER
    )
    # neighbours of Power: Achievement (+4.5) and Security (+0.5); opposite: Universalism (-5.5)
    assert inter.effect_by_distance[1] == pytest.approx(2.5)
    assert inter.effect_by_distance[5] == pytest.approx(-5.5)
    # distance 4: Self-Direction (0) and Benevolence ((-3 + 0) / 2)
    assert inter.effect_by_distance[4] == pytest.approx(-0.75)
    assert inter.n_runs == 7 and inter.correlation is None and "skipped" in inter.notes[0]


def test_interdependence_recovers_the_circle_from_many_runs() -> None:
    import numpy as np

    rng = np.random.default_rng(4)
    theta = {v: 2 * math.pi * i / 10 for i, v in enumerate(CIRCUMPLEX)}
    conds = []
    for k in range(40):
        phi, amp = rng.uniform(0, 2 * math.pi), rng.uniform(2, 8)
        prof = {v: 50 + amp * math.cos(theta[v] - phi) + rng.normal(0, 0.5) for v in CIRCUMPLEX}
        conds.append(
            _cond("baseline" if k == 0 else f"random:x:{k}", "baseline" if k == 0 else "random", prof)
        )
    report = SteeringReport(
        model_id="m", mode="add", seed=0, n_probes=1, n_random=0, conditions=conds, effects=[]
    )
    inter = analyse_report(report)
    data = np.array([[c.profile[v] for v in CIRCUMPLEX] for c in conds])
    corr = np.corrcoef(data, rowvar=False)
    assert inter.correlation is not None
    assert np.allclose(np.array(inter.correlation, dtype=float), corr)
    neighbours = np.mean([corr[i, (i + 1) % 10] for i in range(10)])
    opposites = np.mean([corr[i, i + 5] for i in range(5)])
    assert inter.circumplex is not None
    assert inter.circumplex.neighbour_mean == pytest.approx(neighbours)
    assert inter.circumplex.opposite_mean == pytest.approx(opposites)
    assert neighbours > 0.5 and opposites < -0.5 and inter.circumplex.consistent
    assert inter.graph_method is not None and inter.graph_method.startswith("PC")
    names = {v.value for v in CIRCUMPLEX}
    assert inter.edges and all(a in names and b in names and k in ("->", "--") for a, b, k in inter.edges)


def test_steering_section_without_probe_scores(tmp_path: Path, registered) -> None:
    run = tmp_path / "steer-run"
    report = hand_report()
    write_steering(run, report)
    res = build_report(run)
    assert res.sections == ["steering"]  # no summary.json: core sections skipped
    html = res.html.read_text()
    assert '<section id="steering">' in html and "no probe scores" in html
    for name in ("steering-control-success", "steering-side-effects", "steering-interdependence"):
        assert f'data-figure="{name}"' in html
        assert (res.out_dir / f"{name}.png").stat().st_size > 1000
    # the side-effect heatmap annotates every cell with its change
    svg = (res.out_dir / "steering-side-effects.svg").read_text()
    for text in ("+8.00", "+4.00", "-6.00", "-3.00", "+1.00"):
        assert text in svg
    # control table: z = (8 - 0) / 1, persona delta 10, mean |side| = (4 + 1 + 6 + 3) / 9
    assert "<td>8.000</td>" in html and "<td>10.000</td>" in html
    assert f"<td>{14 / 9:.3f}</td>" in html
    # order r of the steered condition is negative; capability delta 0.7 - 0.8
    assert "<td>-0.200</td>" in html and "<td>-0.100</td>" in html
    with open(res.out_dir / "steering_effects.csv", newline="") as fh:
        rows = {r["value"]: r for r in csv.DictReader(fh)}
    assert float(rows["Power"]["change"]) == 8.0 and rows["Power"]["is_target"] == "True"
    assert float(rows["Universalism"]["change"]) == -6.0 and float(rows["Hedonism"]["change"]) == 0.0
    # circumplex check by distance from the hand effect matrix
    assert "<td>2.500</td>" in html and "<td>-5.500</td>" in html


def test_section_with_probe_run_and_figures_copied_to_out_dir(tmp_path: Path, registered) -> None:
    from tests.test_reports import ALPHA, make_run, scripted

    run = make_run(tmp_path, "probe", {"alpha": scripted(ALPHA, 3.0)})
    write_steering(run, hand_report())
    res = build_report(run, tmp_path / "elsewhere")
    assert (
        res.sections[:3] == ["profiles", "higher-order", "parse-quality"] and res.sections[-1] == "steering"
    )
    assert (tmp_path / "elsewhere" / "steering-side-effects.svg").is_file()
    assert all(p.parent == tmp_path / "elsewhere" for p in res.files)


def test_malformed_steering_report_names_file_and_field(tmp_path: Path, registered) -> None:
    run = tmp_path / "bad"
    write_steering(run, hand_report())
    data = json.loads((run / "steering" / "report.json").read_text())
    del data["conditions"][0]["profile"]
    (run / "steering" / "report.json").write_text(json.dumps(data))
    with pytest.raises(ConfigError, match=r"steering/report\.json: field 'conditions\.0\.profile'"):
        build_report(run)


def test_nothing_to_report_lists_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError) as err:
        build_report(tmp_path / "empty")
    msg = str(err.value)
    assert "nothing to report" in msg
    for rel in (
        "summary.json: not found",
        "browse/summary.json: not found",
        "steering/report.json: not found",
    ):
        assert rel in msg
    # a browsing-only folder (a real browse run) gets a page from the installed browsing section
    from agents.manifest import parse_browse_manifest
    from agents.search import KeywordSearcher
    from agents.session import execute_browse
    from agents.synthetic import synthetic_catalog
    from valuespectrum.backends.mock import MockBackend

    catalog = synthetic_catalog(per_value=6, dim=8, seed=1)
    m = parse_browse_manifest(
        {
            "name": "b",
            "models": [{"spec": "mock", "label": "m", "modality": "text"}],
            "personas": ["value-power"],
            "phases": {"training": 8, "evaluation": 4},
        }
    )
    mock = MockBackend(lambda req: '{"action": "like"}')
    outcome = execute_browse(
        m,
        out=tmp_path / "browse-run",
        catalog=catalog,
        searcher=KeywordSearcher(catalog),
        backend_factory=lambda *a: mock,
    )
    res = build_report(outcome.folder.root)
    page = res.html.read_text()
    assert res.sections == ["browsing"] and "could not be read" not in page
    assert "value-power" in page and any(f.suffix == ".svg" for f in res.files)


@pytest.mark.skipif(
    not Path(CHROMIUM).is_file() and shutil.which("chromium") is None, reason="Debian chromium not installed"
)
def test_extract_eval_report_end_to_end_in_chromium(tmp_path: Path, registered) -> None:
    pytest.importorskip("torch")
    sync_api = pytest.importorskip("playwright.sync_api")
    from typer.testing import CliRunner

    from tests.browser import ARGS
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.cli import app

    model = build_tiny_text_lm(family="llama")
    runner = CliRunner()
    vec = tmp_path / "vec"
    (tmp_path / "x.yaml").write_text(
        f"model: {model}\nlayers: [1]\nvalues: [power]\nout: {vec}\ntest_fraction: 0.3\n"
        "position: mean\ndetector_layer: 0\nbatch_size: 32\n"
    )
    res = runner.invoke(app, ["steer", "extract", str(tmp_path / "x.yaml")])
    assert res.exit_code == 0, res.output
    meta = json.loads((vec / "power-detector.json").read_text())
    assert meta["method"] == "probe" and meta["layers"] == [0] and meta["metadata"]["role"] == "detector"
    assert 0.0 <= json.loads((vec / "detector_accuracy.json").read_text())["Power"] <= 1.0

    keyed = [Value.POWER, Value.ACHIEVEMENT, Value.BENEVOLENCE, Value.UNIVERSALISM]
    write_definition_bank(tmp_path / "bank.json", keyed)
    run = tmp_path / "run"
    (tmp_path / "e.yaml").write_text(
        f"model: {model}\nvectors: [{vec / 'power-probe.json'}]\nprobes: {tmp_path / 'bank.json'}\n"
        f"mode: gated\nmultipliers: [0.9]\nn_random: 2\nfluency: false\ncapability: false\nout: {run}\n"
        "cache: false\n"
        f"gate:\n  pooling: mean\n  threshold: 0.5\n  detectors: {{power: {vec / 'power-detector.json'}}}\n"
    )
    res = runner.invoke(app, ["steer", "eval", str(tmp_path / "e.yaml")])
    assert res.exit_code == 0, res.output
    report = SteeringReport.model_validate_json((run / "steering" / "report.json").read_text())
    (gate,) = report.gates
    assert gate.layer == 0 and gate.source.endswith("power-detector.json")
    share = report.condition("steer:Power:probe:0.9").steered_share
    assert share is not None and 0.0 <= share <= 1.0
    assert "Gate for Power" in res.output

    res = runner.invoke(app, ["report", str(run)])
    assert res.exit_code == 0, res.output
    html_path = run / "report" / "report.html"
    # the evaluation is an ordinary probe run, so the page has its probe sections and the steering one
    assert "sections: profiles" in res.output and "steering" in res.output and html_path.is_file()

    executable = CHROMIUM if Path(CHROMIUM).is_file() else str(shutil.which("chromium"))
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=executable, args=ARGS, headless=True
        )
        try:
            page = ctx.new_page()
            page.goto(html_path.as_uri(), wait_until="load")
            ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
            assert ids[0] == "profiles" and ids[-1] == "steering"
            assert page.text_content("section#steering > h2") == "Steering effects"
            fig = page.query_selector('section#steering svg[data-figure="steering-side-effects"]')
            assert fig is not None
            box = fig.bounding_box()
            assert box is not None and box["width"] > 100 and box["height"] > 100
            labels = [
                page.text_content(f'[id="steering-side-effects-label-{i}"]') for i in range(len(CIRCUMPLEX))
            ]
            assert [t.strip() for t in labels if t] == [v.value for v in CIRCUMPLEX]
            assert page.locator("section#steering table").count() >= 3
        finally:
            ctx.close()
