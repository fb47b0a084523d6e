"""AdAEM: adaptive generation of value questions that keep telling models apart.

- ``divergence``: entropy, Jensen-Shannon and generalised JS divergences;
- ``bandit``: topic exploration as a UCB bandit with the budget-log term;
- ``extract``: per-value presence in a response, through a judge, OR-aggregated;
- ``loop``: generate, refine and score questions; every call traced and replayable;
- ``rank``: TrueSkill ratings, win rates and bootstrap intervals per value;
- ``quality``: Self-BLEU and mean pairwise similarity of an item set;
- ``design``: the manifests behind ``vspec adaem generate|evaluate``.
"""
