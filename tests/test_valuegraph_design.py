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
