"""``agents/`` and ``ingestion/`` reach the core through its public modules (the front door,
``valuespectrum.results``, ``valuespectrum.run_kit``...), never through the runner's internals."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
    return names


def test_agents_and_ingestion_do_not_import_run_internals() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for folder in ("agents", "ingestion")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for name in _imports(path)
        if name == "valuespectrum.runs" or name.startswith("valuespectrum.runs.")
    ]
    assert offenders == []


def test_the_public_result_and_run_modules_answer_from_the_front_door() -> None:
    import valuespectrum as vs

    assert vs.results.BrowseSummary is vs.BrowseSummary
    assert vs.results.SteeringSummary is vs.SteeringSummary
    assert vs.run_kit.RunDir.__name__ == "RunDir"
