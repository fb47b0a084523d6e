"""Locate the project's shared facts file without an absolute path.

The file lives in a ``shared/data`` folder beside (or above) the checkout; tests that read it
skip cleanly when it is absent, so the suite runs the same from any clone.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
_REL = Path("shared") / "data" / "schwartz_facts.json"


def facts_file() -> Path | None:
    """``$VSPEC_FACTS_FILE`` if set, else the first ``shared/data/schwartz_facts.json`` found in
    the repository root or up to three folders above it; None when there is none."""
    env = os.environ.get("VSPEC_FACTS_FILE")
    if env:
        return Path(env) if Path(env).is_file() else None
    for base in (REPO_ROOT, *REPO_ROOT.parents[:3]):
        if (base / _REL).is_file():
            return base / _REL
    return None
