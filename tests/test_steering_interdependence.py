"""Value interdependence on synthetic data whose structure is known."""

from __future__ import annotations

import numpy as np
import pytest

from valuespectrum.errors import ConfigError
from valuespectrum.steering.interdependence import (
    EffectRow,
    circumplex_check,
    correlations,
    edges,
    effect_matrix,
    partial_correlations,
    pc_skeleton,
    plot_matrix,
)
from valuespectrum.values import CIRCUMPLEX, Value


def test_effect_matrix_is_mean_delta_per_target():
    rows = [
        EffectRow(Value.POWER, {Value.POWER: 4.0, Value.UNIVERSALISM: -2.0}),
        EffectRow(Value.POWER, {Value.POWER: 2.0, Value.UNIVERSALISM: -1.0}),
        EffectRow(Value.HEDONISM, {Value.HEDONISM: 1.0}),
    ]
    m = effect_matrix(rows)
    po, un, he = (CIRCUMPLEX.index(v) for v in (Value.POWER, Value.UNIVERSALISM, Value.HEDONISM))
    assert m[po, po] == 3.0 and m[po, un] == -1.5 and m[he, he] == 1.0
    assert np.isnan(m[CIRCUMPLEX.index(Value.TRADITION)]).all()


def _circular_profiles(n: int, seed: int) -> np.ndarray:
    """Profiles driven by a 2-d latent: value i scores cos(angle_i) * x + sin(angle_i) * y + noise."""
    rng = np.random.default_rng(seed)
    angles = 2 * np.pi * np.arange(10) / 10
    latent = rng.normal(size=(n, 2))
    return latent @ np.stack([np.cos(angles), np.sin(angles)]) + 0.2 * rng.normal(size=(n, 10))


def test_circumplex_check_on_circular_data_and_its_violation():
    corr = correlations(_circular_profiles(400, 0))
    check = circumplex_check(corr)
    # cos(36 deg) = 0.81 for neighbours and cos(180 deg) = -1 for opposites, shrunk a little by noise
    assert check.neighbour_mean == pytest.approx(0.81 * 1 / 1.04, abs=0.08)
    assert check.opposite_mean == pytest.approx(-1 / 1.04, abs=0.08)
    assert check.consistent
    assert [round(check.by_distance[d], 1) for d in range(1, 6)] == sorted(
        [round(check.by_distance[d], 1) for d in range(1, 6)], reverse=True
    )
    flipped = circumplex_check(-corr)
    assert not flipped.consistent


def test_pc_and_partial_correlations_recover_a_chain():
    rng = np.random.default_rng(1)
    n = 600
    data = rng.normal(size=(n, 10))
    sd, st, he = (CIRCUMPLEX.index(v) for v in (Value.SELF_DIRECTION, Value.STIMULATION, Value.HEDONISM))
    data[:, st] = 0.9 * data[:, sd] + 0.5 * rng.normal(size=n)
    data[:, he] = 0.9 * data[:, st] + 0.5 * rng.normal(size=n)
    found = {frozenset((a, b)) for a, b, _ in edges(pc_skeleton(data, alpha=0.05))}
    assert frozenset((Value.SELF_DIRECTION, Value.STIMULATION)) in found
    assert frozenset((Value.STIMULATION, Value.HEDONISM)) in found
    assert frozenset((Value.SELF_DIRECTION, Value.HEDONISM)) not in found
    assert len(found) <= 3  # at most one spurious edge among the 42 independent pairs
    pcor = partial_correlations(data)
    assert abs(pcor[sd, he]) < 0.1 < pcor[sd, st]
    assert correlations(data)[sd, he] > 0.5  # marginally correlated, conditionally not


def test_too_few_runs_is_a_clear_error():
    with pytest.raises(ConfigError, match="more runs than values"):
        correlations(np.zeros((5, 10)))


def test_plot_writes_a_png(tmp_path):
    out = plot_matrix(np.eye(10), tmp_path / "fig" / "m.png", title="effects", label="points")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
