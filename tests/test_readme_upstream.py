"""The README's upstream-items block runs as written and prints the hand-computed centring.

The block's files are the hand-checked tests/data/portrait_upstream.json example (one response
text shortened) and its answers, so the numbers are those of tests/test_weight_sign.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_readme import UPSTREAM, _check, readme_block, run_block, user_copy


def test_upstream_items_block(tmp_path: Path) -> None:
    env = user_copy(tmp_path)
    res = run_block(readme_block(UPSTREAM), tmp_path, env, timeout=300)
    _check(res, "the upstream-items block")
    assert res.stdout.strip().splitlines()[-1] == "4.25 1.75"
    summary = json.loads((tmp_path / "runs" / "upstream" / "summary.json").read_text(encoding="utf-8"))
    (group,) = summary["groups"]
    centred = {k: v for k, v in group["profile"]["centred"].items() if v is not None}
    assert centred == {
        "Stimulation": 0.75, "Hedonism": 0.75, "Achievement": -0.25, "Power": -0.25,
        "Tradition": -2.25, "Benevolence": -2.25, "Universalism": 1.75,
    }  # fmt: skip
    assert summary["n_records"] == 5 and summary["n_unparsed"] == 0
