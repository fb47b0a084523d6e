"""The roles x conditions design run end to end on a tiny random Llama, then graphed."""

from __future__ import annotations

import json

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.values import Value


def test_roles_and_players(tmp_path):
    from valuespectrum.valuegraph.design import generate_roles, load_players

    roles = generate_roles(5, seed=1)
    assert len({r.trait for r in roles}) == 5 and roles == generate_roles(5, seed=1)
    assert (
        roles[0].trait.startswith("Gender: ") and "; Job: " in roles[0].trait and ", MBTI: " in roles[0].trait
    )
    p = tmp_path / "players25.json"
    p.write_text(json.dumps([{"name": "Ann Lee", "mini_trait": "Gender: female; Job: nurse, MBTI: ISFJ"}]))
    assert load_players(p)[0].trait == "Gender: female; Job: nurse, MBTI: ISFJ"
    p.write_text(json.dumps({"Bob": {"bio": "no trait"}}))
    with pytest.raises(ConfigError, match="mini_trait"):
        load_players(p)


@pytest.mark.slow
def test_design_runs_on_a_tiny_model_and_graphs(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("causallearn")
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.manifest import RunManifest
    from valuespectrum.sae import SparseAutoencoder
    from valuespectrum.valuegraph.cli import analyse
    from valuespectrum.valuegraph.design import build_design, generate_roles, manifest_dict, run_design

    base = HFBackend(str(build_tiny_text_lm(family="llama")), device="cpu", dtype="float32")
    d = base.model.config.hidden_size
    gen = torch.Generator().manual_seed(0)
    w_dec = torch.randn(8, d, generator=gen)
    sae = SparseAutoencoder(
        "relu", w_dec.T.clone(), torch.zeros(8), w_dec, torch.zeros(d), hook_name="blocks.0.hook_resid_post"
    )
    roles = generate_roles(4)
    design = build_design(roles, "tiny", [Value.POWER], sae_features={Value.POWER: [3]}, sae_coefficient=8.0)
    assert len(design) == 4 * 4 and {c.method for c in design} == {
        "none",
        "prompt_inclined",
        "prompt_disinclined",
        "sae",
    }
    raw = manifest_dict(design, name="graph", spec="hf:tiny", limit_per_value=1)
    m = RunManifest.model_validate(raw)
    assert [x.label for x in m.models] == ["tiny", "tiny+sae:Power:3"] and m.models[1].personas == [
        r.id for r in roles
    ]
    table = run_design(
        roles, design, base, tmp_path, name="graph", spec="hf:tiny", sae=sae, limit_per_value=1
    )
    assert (tmp_path / "personas.yaml").is_file() and (tmp_path / "run" / "summary.csv").is_file()
    lines = table.read_text().splitlines()
    assert lines[0].startswith("condition,role,method,target,") and len(lines) == 1 + 16
    result = analyse(table, n_boot=3, n_random=5)
    methods = {r["method"] for r in result["side_effects"]}
    assert methods <= {"prompt_inclined", "prompt_disinclined", "sae"} and result["n_conditions"] == 16


def test_sae_conditions_as_sae_entries_rerun_from_the_manifest(tmp_path):
    """With ``sae_path`` the stored manifest names the SAE and its edit (an ``sae:`` entry): run
    from the manifest alone it gives the answers the design factory gives."""
    torch = pytest.importorskip("torch")
    from tests.tiny_models import build_tiny_text_lm
    from valuespectrum.backends.hf import HFBackend
    from valuespectrum.manifest import RunManifest
    from valuespectrum.runs.execute import execute_run
    from valuespectrum.sae import SparseAutoencoder
    from valuespectrum.sae.formats import save_saelens
    from valuespectrum.valuegraph.design import (
        build_design,
        design_factory,
        generate_roles,
        manifest_dict,
        personas_yaml,
    )

    folder = build_tiny_text_lm(family="llama")
    base = HFBackend(str(folder), device="cpu", dtype="float32")
    d = base.model.config.hidden_size
    w_dec = torch.randn(8, d, generator=torch.Generator().manual_seed(1))
    sae = SparseAutoencoder(
        "relu", w_dec.T.clone(), torch.zeros(8), w_dec, torch.zeros(d), hook_name="blocks.0.hook_resid_post"
    )
    save_saelens(sae, tmp_path / "sae")
    roles = generate_roles(2)
    design = build_design(
        roles, "tiny", [Value.POWER], prompt=False, sae_features={Value.POWER: [3]}, sae_coefficient=40.0
    )
    (tmp_path / "personas.yaml").write_text(personas_yaml(roles, design))
    opts = {"device": "cpu", "dtype": "float32"}
    raw = manifest_dict(
        design, name="g", spec=f"hf:{folder}", limit_per_value=1, model_options=opts, sae_path="sae"
    )
    entry = raw["models"][1]
    assert entry["spec"] == f"sae:hf:{folder}" and entry["options"]["sae"] == "sae"
    assert entry["options"]["edits"] == [{"feature": 3, "mode": "add", "value": 40.0}]
    m = RunManifest.model_validate(raw)
    execute_run(m, base=tmp_path, out=tmp_path / "lent", backend_factory=design_factory(base, design, sae))
    execute_run(m, base=tmp_path, out=tmp_path / "alone")

    def answers(run: str) -> dict[str, tuple[str, list[float]]]:
        out = {}
        for line in (tmp_path / run / "responses.jsonl").read_text().splitlines():
            rec = __import__("json").loads(line)
            out[rec["record_id"]] = (rec["model_id"], rec["response"]["option_logprobs"])
        return out

    lent, alone = answers("lent"), answers("alone")
    assert lent.keys() == alone.keys() and len(lent) == 2 * 2 * 10 * 2
    for rid in lent:
        assert lent[rid][0] == alone[rid][0]  # same model ids: base, and base+sae:<condition digest>
        assert lent[rid][1] == pytest.approx(alone[rid][1], abs=1e-5)
    steered = [rid for rid in lent if "+sae:" in lent[rid][0]]
    assert len(steered) == len(lent) // 2
    moved = [rid for rid in steered if alone[rid][1] != alone["tiny|" + rid.split("|", 1)[1]][1]]
    assert moved  # the edit changes option scores: the entry really steers


def test_manifest_reads_the_expected_readout_when_asked():
    from valuespectrum.manifest import RunManifest
    from valuespectrum.valuegraph.design import build_design, generate_roles, manifest_dict

    design = build_design(generate_roles(2), "m", [Value.POWER])
    plain = manifest_dict(design, name="g", spec="mock")
    assert "scoring" not in plain
    raw = manifest_dict(design, name="g", spec="mock", readout="expected")
    assert raw["scoring"] == {"readout": "expected"}
    assert RunManifest.model_validate(raw).scoring.readout == "expected"
