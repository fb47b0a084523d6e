"""The HTML report rendered in headless Chromium (Debian's package, driven by Playwright).

Checks the rendered page, not pixels: sections and headings exist, every figure has a
non-empty rendered box, the polar plot shows the 10 value labels clockwise in circumplex
order, and the page makes no request beyond its own file. Skipped without chromium
(``scripts/ci-system-deps.sh`` installs it).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from tests.browser import chromium_page, needs_chromium
from valuespectrum.values import CIRCUMPLEX

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.test_reports import ALPHA, EVIL_MODEL, make_run, scripted
    from valuespectrum.reports.build import build_report

    root = tmp_path_factory.mktemp("browser-runs")
    run = make_run(root, "one", {"alpha": scripted(ALPHA, 3.0), EVIL_MODEL: scripted({}, 4.0)})
    return build_report(run).html


def test_report_renders_in_chromium(report_html: Path, tmp_path: Path) -> None:
    requests: list[str] = []
    dialogs: list[str] = []
    with chromium_page(tmp_path / "profile", requests) as page:

        def on_dialog(d: object) -> None:  # an alert() would mean injected script ran
            dialogs.append(d.message)  # type: ignore[attr-defined]
            d.dismiss()  # type: ignore[attr-defined]

        page.on("dialog", on_dialog)
        page.goto(report_html.as_uri(), wait_until="load")

        ids = page.eval_on_selector_all("section", "els => els.map(e => e.id)")
        assert ids[:5] == ["profiles", "higher-order", "parse-quality", "steerability", "references"]
        headings = page.eval_on_selector_all("section > h2", "els => els.map(e => e.textContent)")
        assert headings[:5] == [
            "Value profiles",
            "Higher-order values",
            "Answer quality and label-order agreement",
            "Persona steerability",
            "Agreement with reference profiles",
        ]

        figs = page.query_selector_all("figure svg, figure img")
        # 2 polar plots, 1 higher-order bar chart, 2 steerability heatmaps
        assert len(figs) == 5
        for f in figs:
            box = f.bounding_box()
            assert box is not None and box["width"] > 50 and box["height"] > 50, box

        polar = page.query_selector('svg[data-figure="profiles-polar-1-1"]')
        assert polar is not None
        labels = [
            polar.query_selector(f'[id="profiles-polar-1-1-label-{i}"]') for i in range(len(CIRCUMPLEX))
        ]
        assert all(lab is not None for lab in labels)
        texts = [lab.text_content().strip() for lab in labels]  # type: ignore[union-attr]
        assert texts == [v.value for v in CIRCUMPLEX]
        centres = []
        for lab in labels:
            b = lab.bounding_box()  # type: ignore[union-attr]
            assert b is not None and b["width"] > 0
            centres.append((b["x"] + b["width"] / 2, b["y"] + b["height"] / 2))
        cx = sum(x for x, _ in centres) / len(centres)
        cy = sum(y for _, y in centres) / len(centres)
        # clockwise angle from the top; labels must go round the circle in circumplex order
        angles = [math.degrees(math.atan2(x - cx, cy - y)) % 360 for x, y in centres]
        assert angles[0] < 15 or angles[0] > 345  # Self-Direction at the top
        steps = [(angles[(i + 1) % 10] - angles[i]) % 360 for i in range(10)]
        assert all(20 < s < 52 for s in steps), steps

        # untrusted labels render as text, not markup
        assert dialogs == []
        assert page.locator("text=<script>alert(1)</script>").count() >= 1
        page.screenshot(path=str(tmp_path / "report.png"), full_page=True)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert all(u.startswith(("file:", "data:", "about:")) for u in requests), requests
