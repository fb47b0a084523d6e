"""The ordinal comparison inside ``vspec report``: a run folder (or a comparison folder) that holds
``ordinal.json`` gets its posterior table, contrasts, predictive check and forest plot as report
sections, with the file's numbers."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.browser import chromium_page, needs_chromium
from tests.test_ordinal import make_persona_run


def _section(page: str, sid: str) -> str:
    m = re.search(rf'<section id="{sid}">(.*?)</section>', page, re.S)
    assert m is not None, sid
    return m.group(1)


def _rows(section: str) -> list[list[str]]:
    """The body rows of a section's first table, as cell texts."""
    body = section.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    from valuespectrum.reports.cli import app

    run = make_persona_run(tmp_path_factory.mktemp("ordinal-report"))
    r = CliRunner().invoke(
        app, ["compare", str(run), "--out", str(run / "ordinal"), "--n-boot", "20", "--ordinal"]
    )
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["report", str(run)])
    assert r.exit_code == 0, r.output
    summary = json.loads((run / "ordinal" / "ordinal.json").read_text(encoding="utf-8"))
    return run, summary, (run / "report" / "report.html").read_text(encoding="utf-8")


def test_report_of_a_run_shows_the_ordinal_sections_after_the_core_ones(
    reported: tuple[Path, dict[str, Any], str],
) -> None:
    run, _, page = reported
    ids = re.findall(r'<section id="([^"]+)">', page)
    assert ids[0] == "profiles"
    ordinal = [i for i in ids if i.startswith("ordinal-")]
    assert ordinal == [
        "ordinal-effects",
        "ordinal-targets",
        "ordinal-contrasts",
        "ordinal-covariates",
        "ordinal-ppc",
        "ordinal-frequentist",
    ]
    assert "From ordinal/ordinal.json" in _section(page, "ordinal-effects")
    # the forest plot is inlined and its files sit beside the report
    assert 'data-figure="ordinal-forest"' in _section(page, "ordinal-effects")
    assert (run / "report" / "ordinal-forest.png").is_file()
    assert (run / "report" / "ordinal-forest.svg").is_file()


def test_posterior_means_and_intervals_are_the_files_numbers(
    reported: tuple[Path, dict[str, Any], str],
) -> None:
    _, summary, page = reported
    rows = _rows(_section(page, "ordinal-effects"))
    cells = summary["bayesian"]["cells"]
    assert len(cells) == 30  # 3 personas x 10 values
    got = {(r[0], r[1]): r[2:6] for r in rows[: len(cells)]}
    for c in cells:
        assert got[(c["unit"], c["value"])] == [f"{c[k]:.3f}" for k in ("mean", "sd", "low", "high")]


def test_contrasts_show_p_below_zero_and_the_check_its_shares(
    reported: tuple[Path, dict[str, Any], str],
) -> None:
    _, summary, page = reported
    targets = _rows(_section(page, "ordinal-targets"))
    want = summary["bayesian"]["target_contrasts"]
    assert len(targets) == len(want) == 4  # 2 personas x (raw, centred)
    for r, t in zip(targets, want, strict=True):
        assert r == [
            t["name"],
            "yes" if t["centred"] else "no",
            *(f"{t[k]:.3f}" for k in ("mean", "low", "high", "p_below_zero")),
        ]
    # the targets' items were rated 2 points higher: P(contrast < 0) is small for the raw contrasts
    assert all(float(r[-1]) < 0.025 for r in targets if r[1] == "no")
    contrasts = _rows(_section(page, "ordinal-contrasts"))
    assert len(contrasts) == len(summary["bayesian"]["contrasts"]) > 0
    ppc = _rows(_section(page, "ordinal-ppc"))
    n_cats = sum(len(p["categories"]) for p in summary["bayesian"]["ppc"])
    assert len(ppc) == n_cats == 3 * 6
    first = summary["bayesian"]["ppc"][0]
    assert ppc[0][:3] == [first["unit"], str(first["categories"][0]), f"{first['observed'][0]:.3f}"]


def test_report_of_a_comparison_folder_has_the_ordinal_sections(
    reported: tuple[Path, dict[str, Any], str],
) -> None:
    from valuespectrum.reports.build import build_report

    run, _, _ = reported
    res = build_report(run / "ordinal")
    assert res.sections[0] == "ordinal-effects" and "ordinal-ppc" in res.sections
    assert "From ordinal.json" in res.html.read_text(encoding="utf-8")


def test_unreadable_ordinal_file_is_said_not_dropped(tmp_path: Path) -> None:
    from valuespectrum.reports.build import build_report

    (tmp_path / "ordinal.json").write_text("{not json", encoding="utf-8")
    res = build_report(tmp_path)
    assert res.sections == ["ordinal-effects"]
    assert "ordinal.json: could not be read" in res.html.read_text(encoding="utf-8")


def test_figure_names_that_leave_the_folder_are_never_read(
    reported: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    from valuespectrum.reports.ordinal_report import _forest

    run, summary, _ = reported
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg width="1" height="1"></svg>', encoding="utf-8")
    path = next(run.rglob("ordinal.json"))
    for name in (str(secret), "../secret.svg", ".hidden.svg"):
        assert _forest(path, {**summary, "figure": [name]}) is None
    # the names the comparison wrote are still used
    kept = _forest(path, summary)
    assert kept is not None and all(p.parent == path.parent for p in kept.files)


@needs_chromium
def test_report_with_ordinal_sections_renders_in_chromium(
    reported: tuple[Path, dict[str, Any], str], tmp_path: Path
) -> None:
    run, _, _ = reported
    requests: list[str] = []
    with chromium_page(tmp_path / "profile", requests) as page:
        page.goto((run / "report" / "report.html").as_uri(), wait_until="load")
        ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
        assert "ordinal-effects" in ids and "ordinal-ppc" in ids
        box = page.query_selector('#ordinal-effects svg[data-figure="ordinal-forest"]').bounding_box()
        assert box is not None and box["width"] > 50 and box["height"] > 50
    assert all(u.startswith("file://") for u in requests), requests
