"""Topics as bandit arms, chosen by UCB: Q_i + sqrt(2 ln B / C_i).

The published loop uses the budget B in the log term (not the step count t); ``log_term="t"``
gives the textbook UCB1. An arm never pulled is pulled first (in insertion order), and new
arms (sub-topics) can join at any time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Arm:
    topic: str
    pulls: int = 0
    total: float = 0.0
    parent: str | None = None

    @property
    def mean(self) -> float:
        return self.total / self.pulls if self.pulls else 0.0


@dataclass
class UCB:
    budget: int
    log_term: Literal["budget", "t"] = "budget"
    arms: list[Arm] = field(default_factory=list)
    t: int = 0

    def __post_init__(self) -> None:
        if self.budget < 1:
            raise ValueError(f"the budget must be at least 1, got {self.budget}")

    def add(self, topic: str, *, parent: str | None = None) -> Arm:
        for arm in self.arms:
            if arm.topic == topic:
                return arm
        arm = Arm(topic, parent=parent)
        self.arms.append(arm)
        return arm

    def score(self, arm: Arm) -> float:
        if arm.pulls == 0:
            return math.inf
        n = self.budget if self.log_term == "budget" else max(self.t, 1)
        return arm.mean + math.sqrt(2.0 * math.log(n) / arm.pulls)

    def choose(self) -> Arm:
        if not self.arms:
            raise ValueError("the bandit has no arms: give at least one seed topic")
        return max(self.arms, key=self.score)  # first of equal scores: insertion order

    def update(self, arm: Arm, reward: float) -> None:
        arm.pulls += 1
        arm.total += reward
        self.t += 1
