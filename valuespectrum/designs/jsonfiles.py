"""JSON files as users have them: one array, or several arrays written one after another.

Generation scripts often append one ``json.dump`` block per batch, which leaves ``][`` (or
``]\n[``) between arrays; such a file is read as the concatenation of its arrays.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from valuespectrum.errors import ConfigError


def read_json_items(path: str | Path) -> list[Any]:
    """Every item of every top-level array (or object) in ``path``, in file order."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read file ({exc.strerror or exc})") from exc
    decoder = json.JSONDecoder()
    items: list[Any] = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in " \t\r\n,":
            pos += 1
        if pos >= n:
            break
        try:
            obj, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise ConfigError(
                f"{p}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc
        items.extend(obj if isinstance(obj, list) else [obj])
    return items


def match_name(raw: object, allowed: list[str]) -> str | None:
    """``raw`` as one of ``allowed`` (case-insensitive; ``Care/Harm`` -> ``Care``), or None."""
    if not isinstance(raw, str):
        return None
    folded = {a.casefold(): a for a in allowed}
    text = raw.strip().strip(".*\"'")
    for cand in (text, text.split("/")[0].strip(), text.split("(")[0].strip()):
        hit = folded.get(cand.casefold())
        if hit is not None:
            return hit
    return None
