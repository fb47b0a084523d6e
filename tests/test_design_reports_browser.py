"""The evaluation designs' HTML reports rendered in headless Chromium.

Each design runs from its example manifest (scripted mocks; the SmolLM2 runs of the same
manifests are in tests/test_designs_realmodel.py), and its report is opened as a user would:
headings present, every table has rows, every figure has loaded and has a rendered box, and the
page makes no request beyond its own folder.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.browser import chromium_page, needs_chromium

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "manifests"

pytestmark = needs_chromium


def _dilemmas(out: Path) -> Path:
    from valuespectrum.designs.dilemmas.design import run_dilemma_manifest

    return run_dilemma_manifest(MANIFESTS / "dilemmas.yaml", out=out).folder / "report.html"


def _decisions(out: Path) -> Path:
    from valuespectrum.designs.decisions.design import run_decision_manifest

    return run_decision_manifest(MANIFESTS / "decisions.yaml", out=out).folder / "report.html"


def _adaem_generate(out: Path) -> Path:
    from valuespectrum.designs.adaem.design import run_generate

    return run_generate(MANIFESTS / "adaem_generate.yaml", out=out)[0] / "report.html"


def _adaem_evaluate(out: Path) -> Path:
    from valuespectrum.designs.adaem.design import run_evaluate

    return run_evaluate(MANIFESTS / "adaem_evaluate.yaml", out=out)[0] / "report.html"


#: design -> (how to build its report, headings it must show, images it must show)
DESIGNS: dict[str, tuple[Callable[[Path], Path], list[str], int]] = {
    "dilemmas": (
        _dilemmas,
        ["context: none", "context: full", "context: previous", "agreement between context modes"],
        6,  # a staircase plot and a win-rate heat map per context mode
    ),
    "decisions": (_decisions, ["similarity", "paired bootstrap differences (over people)"], 0),
    "adaem-generate": (
        _adaem_generate,
        ["Counts", "Questions by informativeness", "Topics (bandit arms)"],
        0,
    ),
    "adaem-evaluate": (
        _adaem_evaluate,
        [
            "Value presence (share of questions whose answer expresses the value)",
            "Ratings per value",
            "Item set",
        ],
        0,
    ),
}


def check_in_chromium(html: Path, tmp_path: Path, headings: list[str], n_images: int) -> None:
    """Open ``html`` in headless Chromium and check what a reader sees (see the module notes)."""
    requests: list[str] = []
    with chromium_page(tmp_path / "profile", requests) as page:
        page.goto(html.as_uri(), wait_until="load")
        shown = page.eval_on_selector_all("section > h2", "els => els.map(e => e.textContent)")
        assert [h for h in headings if h not in shown] == [], shown
        rows = page.eval_on_selector_all(
            "table", "els => els.map(t => t.querySelectorAll('tbody tr').length)"
        )
        assert rows and all(n > 0 for n in rows), rows
        images = page.query_selector_all("img")
        assert len(images) == n_images
        for img in images:
            assert img.evaluate("i => i.complete && i.naturalWidth > 0"), img.get_attribute("src")
            box = img.bounding_box()
            assert box is not None and box["width"] > 50 and box["height"] > 50, box
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 5_000
    own = html.parent.as_uri()
    assert all(u.startswith((own, "data:", "about:")) for u in requests), requests


@pytest.mark.parametrize("design", sorted(DESIGNS))
def test_design_report_renders_in_chromium(design: str, tmp_path: Path) -> None:
    build, headings, n_images = DESIGNS[design]
    check_in_chromium(build(tmp_path / "run"), tmp_path, headings, n_images)
