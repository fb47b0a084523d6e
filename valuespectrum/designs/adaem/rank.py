"""Ratings of models per value from per-question presence: TrueSkill, win rates, bootstrap.

For each question and value the models are ordered by how strongly their answers express the
value; every pair with a strict difference is one game the stronger model wins (equal presence
is no game). TrueSkill is the two-player update with the usual defaults (mu 25, sigma 25/3,
beta sigma/2, dynamics sigma/100, draw probability 0.1), written here from its published
equations; ratings are reported as mu and the conservative mu - 3 sigma.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

_N = NormalDist()
MU = 25.0
SIGMA = MU / 3
BETA = SIGMA / 2
TAU = SIGMA / 100
DRAW_P = 0.10


@dataclass(frozen=True)
class Rating:
    mu: float = MU
    sigma: float = SIGMA

    @property
    def conservative(self) -> float:
        return self.mu - 3 * self.sigma


def _draw_margin(p: float = DRAW_P, beta: float = BETA) -> float:
    return _N.inv_cdf((p + 1) / 2) * math.sqrt(2) * beta


def rate_1vs1(winner: Rating, loser: Rating) -> tuple[Rating, Rating]:
    """One game won by ``winner``: both ratings updated (no draw)."""
    s2w = winner.sigma**2 + TAU**2
    s2l = loser.sigma**2 + TAU**2
    c = math.sqrt(2 * BETA**2 + s2w + s2l)
    t = (winner.mu - loser.mu) / c
    eps = _draw_margin() / c
    denom = _N.cdf(t - eps)
    v = _N.pdf(t - eps) / denom if denom > 1e-300 else -(t - eps)
    w = v * (v + t - eps)
    new_w = Rating(winner.mu + s2w / c * v, math.sqrt(s2w * max(1 - s2w / c**2 * w, 1e-12)))
    new_l = Rating(loser.mu - s2l / c * v, math.sqrt(s2l * max(1 - s2l / c**2 * w, 1e-12)))
    return new_w, new_l


Presence = Mapping[str, Mapping[str, Mapping[str, float]]]
"""question id -> model -> value -> presence in [0, 1]."""


def games(presence: Presence, value: str, questions: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(winner, loser) pairs for one value, question by question, in a stable order."""
    out: list[tuple[str, str]] = []
    for q in questions if questions is not None else sorted(presence):
        row = presence[q]
        models = sorted(row)
        for i, a in enumerate(models):
            for b in models[i + 1 :]:
                pa, pb = row[a].get(value, 0.0), row[b].get(value, 0.0)
                if pa > pb:
                    out.append((a, b))
                elif pb > pa:
                    out.append((b, a))
    return out


def trueskill(models: Sequence[str], played: Sequence[tuple[str, str]]) -> dict[str, Rating]:
    ratings = {m: Rating() for m in models}
    for win, lose in played:
        ratings[win], ratings[lose] = rate_1vs1(ratings[win], ratings[lose])
    return ratings


def win_rates(models: Sequence[str], played: Sequence[tuple[str, str]]) -> dict[str, float | None]:
    wins = dict.fromkeys(models, 0)
    total = dict.fromkeys(models, 0)
    for win, lose in played:
        wins[win] += 1
        total[win] += 1
        total[lose] += 1
    return {m: (wins[m] / total[m] if total[m] else None) for m in models}


@dataclass(frozen=True)
class ValueRanking:
    value: str
    ratings: dict[str, Rating]
    win_rate: dict[str, float | None]
    n_games: int
    mu_ci: dict[str, tuple[float, float]]
    """95% percentile interval of mu over bootstrap resamples of the questions."""


def rank_value(presence: Presence, value: str, *, n_boot: int = 200, seed: int = 0) -> ValueRanking:
    questions = sorted(presence)
    models = sorted({m for q in questions for m in presence[q]})
    played = games(presence, value, questions)
    ratings = trueskill(models, played)
    rng = random.Random(seed)
    draws: dict[str, list[float]] = {m: [] for m in models}
    for _ in range(n_boot if questions else 0):
        sample = [rng.choice(questions) for _ in questions]
        boot = trueskill(models, games(presence, value, sample))
        for m in models:
            draws[m].append(boot[m].mu)
    ci: dict[str, tuple[float, float]] = {}
    for m, xs in draws.items():
        if xs:
            lo, hi = np.percentile(xs, [2.5, 97.5])
            ci[m] = (float(lo), float(hi))
    return ValueRanking(value, ratings, win_rates(models, played), len(played), ci)
