"""The plan of a steering evaluation and the ordinary run manifest it becomes (no model needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.manifest import ProbeSelection, parse_manifest
from valuespectrum.values import Value

torch = pytest.importorskip("torch")


def _vec(value: Value, method: str = "caa"):
    from valuespectrum.steering.vectors import SteeringVector

    return SteeringVector(value, method, {1: torch.ones(4)}, "m", "model.layers.{i}", "sha256:d")  # type: ignore[arg-type]


def test_plan_lists_every_condition_once():
    from valuespectrum.steering.conditions import plan_conditions

    plan = plan_conditions("m", [_vec(Value.POWER)], [2.0, 4.0], controls=True, seed=1, n_random=2)
    assert [(c.name, c.model, c.persona) for c in plan] == [
        ("baseline", "m", "none"),
        ("neutral_persona", "m", "neutral"),
        ("persona:Power", "m", "value-power"),
        ("steer:Power:caa:2", "m+steer:Power:caa:2", "none"),
        ("random:Power:caa:2:1000", "m+random:Power:caa:2:1000", "none"),
        ("random:Power:caa:2:1001", "m+random:Power:caa:2:1001", "none"),
        ("steer:Power:caa:4", "m+steer:Power:caa:4", "none"),
        ("random:Power:caa:4:1000", "m+random:Power:caa:4:1000", "none"),
        ("random:Power:caa:4:1001", "m+random:Power:caa:4:1001", "none"),
    ]
    bare = plan_conditions("m", [_vec(Value.POWER)], [2.0], controls=False, seed=0, n_random=2)
    assert [c.name for c in bare] == ["baseline", "steer:Power:caa:2"]
    with pytest.raises(ValueError, match="appear twice"):
        plan_conditions(
            "m", [_vec(Value.POWER), _vec(Value.POWER)], [2.0], controls=False, seed=0, n_random=2
        )


def test_run_manifest_asks_personas_of_the_base_model_only():
    from valuespectrum.steering.conditions import SteeringSetup, plan_conditions, run_manifest
    from valuespectrum.types import GenerateConfig

    vec = _vec(Value.BENEVOLENCE)
    plan = plan_conditions("m", [vec], [3.0], controls=True, seed=0, n_random=2)
    m = run_manifest(
        plan,
        name="s",
        spec="hf:/models/x",
        model_options={"dtype": "float32"},
        vector_files=[Path("/v/benevolence-caa.json")],
        vectors=[vec],
        setup=SteeringSetup(layers=[1]),
        probes=ProbeSelection(banks=["portrait"]),
        generation=GenerateConfig(max_new_tokens=16),
        batch_size=4,
        cache=False,
        seed=0,
        max_failure_rate=0.0,
    )
    assert m.personas == ["none", "neutral", "value-benevolence"] and m.controls.reverse_labels
    base, *steered = m.models
    assert (base.spec, base.label, base.personas) == ("hf:/models/x", "m", None)
    assert [s.spec for s in steered] == ["steered:hf:/models/x"] * 3
    assert all(s.personas == ["none"] for s in steered)
    assert steered[1].options == {
        "vector": "/v/benevolence-caa.json",
        "vector_digest": vec.digest(),
        "strength": 3.0,
        "layers": [1],
        "random_seed": 0,
        "model_options": {"dtype": "float32"},
    }
    # the stored manifest is an ordinary run manifest
    assert parse_manifest(m.model_dump(mode="json")) == m


def test_model_personas_must_be_among_the_run_personas():
    raw = {"models": [{"spec": "mock", "personas": ["neutral"]}], "personas": ["none"]}
    with pytest.raises(ConfigError, match=r"personas \['neutral'\] are not among the run's personas"):
        parse_manifest(raw, "m.yaml")
