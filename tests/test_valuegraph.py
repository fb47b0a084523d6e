"""Value graphs: transitive reduction, the expected / unexpected metric, PC on a CSV, vspec graph end to end."""

from __future__ import annotations

import csv
import json

import pytest

from valuespectrum.errors import ConfigError


def test_transitive_reduction():
    from valuespectrum.valuegraph.graph import transitive_reduction

    assert transitive_reduction({("A", "B"), ("B", "C"), ("A", "C")}) == {("A", "B"), ("B", "C")}
    # a chain with a two-step shortcut and an unrelated edge
    e = {("A", "B"), ("B", "C"), ("C", "D"), ("A", "D"), ("B", "D"), ("X", "Y")}
    assert transitive_reduction(e) == {("A", "B"), ("B", "C"), ("C", "D"), ("X", "Y")}


def test_expected_and_unexpected_side_effects():
    from valuespectrum.valuegraph.effects import DeltaRow, side_effects

    rows = [DeltaRow("r1", "sae", "A", "c1", {"A": 0.5, "B": 0.4, "C": 0.1})]
    out = side_effects(rows, {("A", "B")}, ["A", "B", "C"])[("sae", "A")]
    assert out["expected"] == pytest.approx(0.4) and out["unexpected"] == pytest.approx(0.1)
    # a second role whose target did not move is left out
    rows.append(DeltaRow("r2", "sae", "A", "c2", {"A": 0.0, "B": 3.0, "C": 3.0}))
    assert side_effects(rows, {("A", "B")}, ["A", "B", "C"])[("sae", "A")]["n_rows"] == 1
    # an ancestor of the target is neither expected nor unexpected
    rows = [DeltaRow("r1", "prompt", "B", "c", {"A": -0.2, "B": 0.5, "C": 0.3})]
    m = side_effects(rows, {("A", "B")}, ["A", "B", "C"])[("prompt", "B")]
    assert m["expected"] is None and m["unexpected"] == pytest.approx(0.3)


def test_consistency_shares():
    from valuespectrum.valuegraph.effects import DeltaRow, consistency

    rows = [
        DeltaRow("a", "sae", "A", "c", {"A": 1.0, "B": 1.0}, "train"),
        DeltaRow("b", "sae", "A", "c", {"A": 1.0, "B": -1.0}, "train"),
        DeltaRow("c", "sae", "A", "c", {"A": 1.0, "B": 1.0}, "test"),
    ]
    by = {r["value"]: r for r in consistency(rows, ["A", "B"])}
    assert by["A"]["similarity"] == 1.0
    assert by["B"]["train_up"] == 0.5 and by["B"]["test_up"] == 1.0 and by["B"]["similarity"] == 0.5


def _chain_table(path, n_roles=60, seed=0):
    """Scores with A -> B -> C (plus noise) and D independent; each role has a baseline and an A-steered row."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_roles):
        role_noise = rng.normal(size=4)  # who the role is; the steered row shares it
        for method, target, push in (("none", "", 0.0), ("prompt", "A", 1.0)):
            e = role_noise + 0.05 * rng.normal(size=4)
            a = e[0] + push
            b = 0.9 * a + 0.3 * e[1]
            c = 0.9 * b + 0.3 * e[2]
            d = e[3]
            rows.append(
                {
                    "condition": f"role{r}|{method}",
                    "role": f"role{r}",
                    "method": method,
                    "target": target,
                    "note": "free text",
                    "A": a,
                    "B": b,
                    "C": c,
                    "D": d,
                }
            )
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_pc_finds_the_chain_and_the_cli_writes_json_csv_and_figure(tmp_path):
    pytest.importorskip("causallearn")
    from typer.testing import CliRunner

    from valuespectrum.cli import app

    table = _chain_table(tmp_path / "scores.csv")
    out = tmp_path / "graph"
    res = CliRunner().invoke(
        app, ["graph", str(table), "--out", str(out), "--bootstrap", "10", "--n-random", "20"]
    )
    assert res.exit_code == 0, res.output
    g = json.loads((out / "graph.json").read_text())
    skeleton = {frozenset(e) for e in g["edges"]}
    assert frozenset(("A", "B")) in skeleton and frozenset(("B", "C")) in skeleton
    assert all("D" not in e for e in skeleton) and frozenset(("A", "C")) not in skeleton
    assert g["ignored_columns"] == ["note"] and g["values"] == ["A", "B", "C", "D"]
    assert all(0 < s <= 1 for s in g["bootstrap"].values())
    eff = {(r["method"], r["target"]): r for r in g["side_effects"]}[("prompt", "A")]
    assert eff["n_rows"] == 60 and eff["expected"] > eff["unexpected"]
    with open(out / "side_effects.csv") as fh:
        assert next(csv.DictReader(fh))["target"] == "A"
    assert (out / "edges.csv").is_file() and (out / "consistency.csv").is_file()
    assert (out / "graph.png").stat().st_size > 1000 and "<img" in (out / "graph.html").read_text()


def test_bad_tables_name_the_problem(tmp_path):
    from valuespectrum.valuegraph.table import read_table

    p = tmp_path / "t.csv"
    p.write_text("condition,A,B\nx,1,2\ny,oops,3\n")
    with pytest.raises(ConfigError, match="at least two numeric"):
        read_table(p)
    with pytest.raises(ConfigError, match="line 3, column 'A'"):
        read_table(p, values=["A", "B"])
    with pytest.raises(ConfigError, match="no such table"):
        read_table(tmp_path / "missing.csv")


def test_report_section_reads_the_graph_of_a_run_folder(tmp_path):
    pytest.importorskip("causallearn")
    from valuespectrum.valuegraph.cli import analyse, write_outputs
    from valuespectrum.valuegraph.report import value_graph_section

    assert value_graph_section(tmp_path) is None
    table = _chain_table(tmp_path / "scores.csv", n_roles=30)
    write_outputs(analyse(table, n_boot=3, n_random=5), tmp_path / "graph")
    sec = value_graph_section(tmp_path)
    assert sec.id == "value-graph" and sec.figures[0].svg.startswith("<svg")
    assert sec.tables[1].rows[0][0] == "prompt" and (tmp_path / "report" / "value-graph.png").is_file()
