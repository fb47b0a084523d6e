"""The library front door, the typed results and the package's import structure."""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import valuespectrum as vs
from valuespectrum.backends.mock import MockBackend
from valuespectrum.reports.sections import ReportContext, steerability, steerability_section
from valuespectrum.runs.log import FORMAT_VERSION, read_summary
from valuespectrum.types import ModelRequest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_01 = Path(__file__).parent / "data" / "run-0.1"
"""A run folder written by valuespectrum 0.1 (mock model, agreement bank, none + value-power)."""


def test_import_is_light_and_lazy() -> None:
    code = (
        "import sys, valuespectrum as vs; names = [vs.evaluate, vs.create_backend, vs.score, vs.read_run, "
        "vs.load_bank, vs.load_items, vs.Value, vs.Persona, vs.builtin_personas, vs.interpret]; "
        "print(sorted(m for m in ('torch', 'transformers', 'chromadb', 'cv2', 'open_clip') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"


class Power(MockBackend):
    """Agrees with Power items under a persona that likes to be in charge, else says 3."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.closed = 0

    @staticmethod
    def _answer(req: ModelRequest) -> str:
        system = " ".join(
            getattr(p, "text", "") for m in req.messages if m.role == "system" for p in m.content
        )
        power = "in charge" in system and req.metadata["probe_id"].startswith("portrait-PO")
        true = 6 if power else 3
        return str(7 - true if req.metadata["reverse_labels"] else true)

    def close(self) -> None:
        self.closed += 1


def test_evaluate_reuses_the_callers_backend_and_writes_nothing(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    m = Power()
    res = vs.evaluate(m, probes="portrait", personas=["none", "value-power"], values=["Power"], n_boot=0)
    power_items = [p for p in vs.load_bank("portrait").probes if vs.Value.POWER in p.keys]

    def expected(persona_likes_power: bool) -> float:
        # the script's true answer per item, reverse-keyed items scored 7 - answer
        true = [6 if persona_likes_power and p.id.startswith("portrait-PO") else 3 for p in power_items]
        scored = [t if p.keys[vs.Value.POWER] > 0 else 7 - t for t, p in zip(true, power_items, strict=True)]
        return sum(scored) / len(scored)

    assert res.profile("none").scores[vs.Value.POWER] == pytest.approx(expected(False))
    assert res.profile("value-power").scores[vs.Value.POWER] == pytest.approx(expected(True))
    assert expected(True) > expected(False) + 1
    assert len(res.records) == 2 * 2 * len(power_items) and res.n_failed == 0
    assert m.closed == 0  # the caller's backend: used, never closed
    again = vs.evaluate(m, probes="portrait", values=["Power"], n_boot=0)
    assert again.profile().scores[vs.Value.POWER] == pytest.approx(expected(False)) and m.closed == 0
    assert list(tmp_path.iterdir()) == [] and res.folder is None


def test_evaluate_with_a_log_dir_is_an_ordinary_run_folder(tmp_path: Path) -> None:
    res = vs.evaluate(Power(), probes="portrait", values=["Power"], n_boot=0, log_dir=tmp_path / "run")
    assert res.folder == tmp_path / "run"
    again = vs.read_run(tmp_path / "run")
    assert again.summary == res.summary and again.summary.format_version == FORMAT_VERSION
    assert vs.score(tmp_path / "run").groups == res.summary.groups


def test_runner_closes_the_backends_it_builds(tmp_path: Path) -> None:
    made: list[Power] = []

    from valuespectrum.backends.registry import default_registry

    def factory(_spec: object) -> Power:
        made.append(Power())
        return made[-1]

    default_registry().register("closecheck", factory)
    vs.evaluate("closecheck", probes="portrait", values=["Power"], n_boot=0)
    assert len(made) == 1 and made[0].closed == 1


def test_unknown_evaluate_setting_names_the_choices() -> None:
    from valuespectrum.errors import ConfigError

    with pytest.raises(ConfigError, match=r"unknown setting 'nboot'.*n_boot"):
        vs.evaluate(Power(), nboot=3)


# ----------------------------------------------------------------- 0.1 folders and one number


def test_a_01_run_folder_still_reports_and_rescores(tmp_path: Path) -> None:
    from valuespectrum.reports.build import build_report

    run = tmp_path / "run"
    shutil.copytree(FIXTURE_01, run)
    old = json.loads((run / "summary.json").read_text())
    assert "format_version" not in old  # written by 0.1
    res = build_report(run)
    assert "steerability" in res.sections and (run / "report" / "report.html").is_file()
    summary = vs.score(run)  # re-scoring a 0.1 folder gives its numbers again
    assert summary.format_version == FORMAT_VERSION and summary.complete
    assert [g.profile for g in summary.groups] == [
        g.profile for g in read_summary(FIXTURE_01 / "summary.json").groups
    ]


def test_report_steerability_is_the_summary_number(tmp_path: Path) -> None:
    """One metric, one value: the yes/no like-rate change (0-100) in summary.json and the report."""
    from valuespectrum.reports.loading import load_run

    run = load_run(FIXTURE_01)
    (row,) = steerability(run)
    # hand-computed: under value-power the mock says yes to Power items and no to Benevolence
    # items, without a persona the reverse, so the like-rates move by +100 and -100 points
    assert row.persona == "value-power" and row.measure == "like_rate"
    assert row.changes[vs.Value.POWER] == 100.0 and row.changes[vs.Value.BENEVOLENCE] == -100.0
    summary = json.loads((FIXTURE_01 / "summary.json").read_text())
    assert {
        vs.Value(k): v for k, v in summary["steerability"]["personas"][0]["changes"].items()
    } == row.changes
    assert row.mean_target_rank == summary["steerability"]["personas"][0]["mean_target_rank"] == 1.0
    sec = steerability_section(ReportContext(run, tmp_path))
    assert sec is not None and "like-rate" in sec.tables[0].caption


# ----------------------------------------------------------------- import structure


def _imports(path: Path, package_roots: tuple[str, ...], modules: set[str]) -> set[str]:
    """Modules imported at module level (not inside functions, not under TYPE_CHECKING);
    ``from pkg import sub`` counts as importing ``pkg.sub`` when that is a module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        stmts = [node] if not isinstance(node, ast.Try) else node.body
        for s in stmts:
            if isinstance(s, ast.Import):
                out.update(a.name for a in s.names)
            elif isinstance(s, ast.ImportFrom) and s.module and s.level == 0:
                subs = {f"{s.module}.{a.name}" for a in s.names} & modules
                out |= subs if subs else {s.module}
    return {m for m in out if m.split(".")[0] in package_roots}


def test_no_import_cycles() -> None:
    roots = ("valuespectrum", "agents", "ingestion")
    modules: dict[str, Path] = {}
    for root in roots:
        for f in (ROOT / root).rglob("*.py"):
            rel = f.relative_to(ROOT).with_suffix("")
            name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
            modules[name] = f
    graph = {m: {i for i in _imports(f, roots, set(modules)) if i in modules} for m, f in modules.items()}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for n in sorted(graph[m]):
            if state.get(n) == 1:
                cycles.append([*stack[stack.index(n) :], n])
            elif n not in state:
                visit(n, [*stack, n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == [], "import cycles: " + "; ".join(" -> ".join(c) for c in cycles)


def test_cache_with_a_backend_object_is_refused_not_ignored() -> None:
    import valuespectrum as vs
    from valuespectrum.backends.mock import MockBackend
    from valuespectrum.errors import ConfigError

    with pytest.raises(ConfigError, match="wrap it yourself"):
        vs.evaluate(MockBackend(default="4"), probes="portrait", cache=True)
