"""Turn the rows of an item file into probes, following a :class:`ColumnMapping`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from valuespectrum.errors import ConfigError
from valuespectrum.probes.importers.cells import (
    Cells,
    choice_format,
    metadata_value,
    missing,
    row_media,
)
from valuespectrum.probes.importers.mapping import ColumnMapping
from valuespectrum.probes.instruments import InstrumentKey, instrument_key, keyed_probe, missing_items
from valuespectrum.probes.schema import AnswerFormat, Probe, ProbeBank
from valuespectrum.tables import Table, read_table
from valuespectrum.value_systems import Dim

Metadata = dict[str, str | int | float | bool | None]


@dataclass
class _Item:
    """One item-to-be: the row it came from, its cells, and its place among a query's responses."""

    row: int
    cells: dict[str, Any]
    response: int | None = None
    own_id: bool = False
    """Whether the id cell is the response's own (else the query's, and ``-N`` is appended)."""


@dataclass
class _Tally:
    """Why rows gave no item, for the error when none is left."""

    below_threshold: int = 0
    dropped: int = 0
    ids: dict[str, int] = field(default_factory=dict)
    numbers: dict[int, int] = field(default_factory=dict)


def _expand(p: Path, table: Table, cmap: ColumnMapping, cells: Cells) -> tuple[list[_Item], list[str]]:
    """Rows -> items (one per response when ``responses`` is set), and the columns they have."""
    if not cmap.responses:
        return [_Item(row, c) for row, c in table.rows], table.columns
    col = cmap.responses
    if col not in table.columns:
        raise ConfigError(f"{p}: missing column {col!r} (columns found: {', '.join(table.columns)})")
    items: list[_Item] = []
    found: dict[str, None] = dict.fromkeys(c for c in table.columns if c != col)
    for row, parent in table.rows:
        raw = parent.get(col)
        listed = [] if missing(raw) else cells.listing(row, col, raw)
        if not listed:
            raise cells.error(row, col, "no responses", "a list of responses (texts or objects)")
        base = {k: v for k, v in parent.items() if k != col}
        for k, response in enumerate(listed, start=1):
            own = response if isinstance(response, dict) else {cmap.text: response}
            found.update(dict.fromkeys(own))
            items.append(_Item(row, {**base, **own}, k, own_id=bool(cmap.id and cmap.id in own)))
    return items, list(found)


def load_items(
    path: str | Path, mapping: ColumnMapping | Mapping[str, Any], *, name: str | None = None
) -> ProbeBank:
    """Read a .csv/.tsv, .jsonl/.ndjson, .json or .parquet item file into a probe bank.

    ``mapping`` is a :class:`ColumnMapping` or a dict of its fields. The bank is named
    ``name`` or the file's stem. Raises ConfigError naming the file, row and column on bad input.
    """
    p = Path(path)
    cmap = ColumnMapping.coerce(mapping, source=f"{p}: column mapping")
    table = read_table(p, delimiter=cmap.delimiter, records_path=cmap.records_path)
    if not table.rows:
        raise ConfigError(f"{p}: the file has no items; expected at least one row")
    cells = Cells(p, cmap.value_map, cmap.value_system)
    items, found = _expand(p, table, cmap, cells)
    try:
        weight_cols = cmap.weight_columns(found)
    except ValueError as exc:
        raise ConfigError(f"{p}: {exc}") from exc
    if cmap.weight_prefix and not weight_cols:
        raise ConfigError(
            f"{p}: no column starts with weight_prefix {cmap.weight_prefix!r} (columns found: {', '.join(found)})"
        )
    # For JSON the columns are the union of every record's keys: a column that none has is a typo.
    for col in cmap.columns_used():
        if col not in found:
            raise ConfigError(f"{p}: missing column {col!r} (columns found: {', '.join(found)})")
    kept = [it for it in items if cmap.keeps(it.cells)]
    if not kept:
        raise ConfigError(
            f"{p}: no row matches where {cmap.where}; expected at least one (check the column values)"
        )

    key = instrument_key(cmap.instrument) if cmap.instrument else None
    tally = _Tally()
    probes: list[Probe] = []
    for it in kept:
        probe = _probe(p, it, cmap, cells, weight_cols, key, name or p.stem, tally)
        if probe is None:
            continue
        if probe.id in tally.ids:
            raise cells.error(
                it.row,
                cmap.id or "id",
                f"id {probe.id!r} already used in row {tally.ids[probe.id]}",
                "unique ids",
            )
        tally.ids[probe.id] = it.row
        probes.append(probe)

    cells.check_unknown()
    if key is not None:
        gaps = missing_items(key, tally.numbers)
        if gaps:
            raise ConfigError(
                f"{p}: column {cmap.item_number!r}: {key.name} items missing: {', '.join(map(str, gaps))}; "
                f"expected a row for every keyed item ({len(key.keyed_items())} items)"
            )
    if not probes:
        why = []
        if tally.below_threshold:
            why.append(
                f"all {tally.below_threshold} rows fell under weight_threshold {cmap.weight_threshold}"
            )
        if tally.dropped:
            why.append(f"{tally.dropped} rows named only values that value_map drops")
        reason = f" ({'; '.join(why)})" if why else ""
        raise ConfigError(f"{p}: no usable items{reason}; expected at least one keyed item")
    return ProbeBank(name=name or p.stem, probes=probes)


def _keys(
    it: _Item, cmap: ColumnMapping, cells: Cells, weight_cols: dict[str, Dim], sign: float, meta: Metadata
) -> tuple[dict[Dim, float], bool]:
    """The item's value keys, and whether some of its value names were dropped or unknown."""
    row, c = it.row, it.cells
    keys: dict[Dim, float] = {}
    unnamed = False
    if cmap.value:
        raw = c.get(cmap.value)
        if missing(raw):
            raise cells.error(row, cmap.value, "empty", f"a value name ({cells.valid_values})")
        found = cells.value(row, cmap.value, raw)
        if found is None:
            return {}, True
        keys[found[0]] = sign
        if found[1]:
            meta["refined_value"] = found[1]
    weights: list[tuple[Dim | None, float]] = []
    for col, weighted in weight_cols.items():
        if not missing(c.get(col)):
            weights.append((weighted, cells.number(row, col, c[col])))
    if cmap.weight_pairs and not missing(c.get(cmap.weight_pairs)):
        for vname, w in cells.pairs(row, cmap.weight_pairs, c[cmap.weight_pairs]):
            found = cells.value(row, cmap.weight_pairs, vname)
            weights.append((found[0] if found else None, w))
    for value, w in weights:
        if value is None:
            unnamed = True
        elif cmap.weight_threshold is None or abs(w) > cmap.weight_threshold:
            keys[value] = keys.get(value, 0.0) + sign * w
    return keys, unnamed


def _probe(
    p: Path,
    it: _Item,
    cmap: ColumnMapping,
    cells: Cells,
    weight_cols: dict[str, Dim],
    key: InstrumentKey | None,
    bank_name: str,
    tally: _Tally,
) -> Probe | None:
    """One item's probe; None for an item that is skipped (and counted)."""
    row, c = it.row, it.cells
    text = cells.text(row, c, cmap.text)
    assert text is not None
    sign = cells.sign(row, cmap.keying, c.get(cmap.keying)) if cmap.keying else 1.0
    meta: Metadata = {"source_row": row}
    if it.response is not None:
        meta["response"] = it.response
    for col in cmap.metadata:
        meta[col] = metadata_value(c.get(col))
    if cmap.keying:
        meta["reversed"] = sign < 0
    keys, unnamed = _keys(it, cmap, cells, weight_cols, sign, meta)
    weighted = bool(weight_cols or cmap.weight_pairs)
    if (cmap.value or weighted) and not keys:
        if unnamed:
            tally.dropped += 1
            return None
        if cmap.weight_threshold is not None:
            tally.below_threshold += 1
            return None
        columns = ", ".join([*weight_cols, *([cmap.weight_pairs] if cmap.weight_pairs else [])])
        raise cells.error(row, columns, "no weight given", "a number in at least one weight column")

    pid = cells.text(row, c, cmap.id, required=False) if cmap.id else None
    if cmap.id and pid is None:
        raise cells.error(row, cmap.id, "empty", "a unique item id")
    if it.response is not None and not it.own_id:
        pid = f"{pid or row}-{it.response}"
    context = cells.text(row, c, cmap.context, required=False) if cmap.context else None

    if key is not None:
        assert cmap.item_number is not None
        raw = c.get(cmap.item_number)
        expected = f"an item number 1..{key.n_items} of {key.name}"
        if missing(raw):
            raise cells.error(row, cmap.item_number, "empty", expected)
        number = cells.item_number(row, cmap.item_number, raw, key)
        if number in tally.numbers:
            raise cells.error(
                row,
                cmap.item_number,
                f"item {number} already given in row {tally.numbers[number]}",
                "each item number once",
            )
        tally.numbers[number] = row
        # None: an item the 10-value key does not score (SVS unkeyed, PVQ-RR Face)
        return keyed_probe(key, number, text, probe_id=pid, sign=sign, context=context, metadata=meta)

    if cmap.format == "choice":
        fmt = choice_format(cells, row, c, cmap)
    elif cmap.format == "yes_no":
        fmt = AnswerFormat.yes_no()
    else:
        lo, hi = cmap.scale_min, cmap.scale_max
        if cmap.scale and not missing(c.get(cmap.scale)):
            lo, hi = cells.scale(row, cmap.scale, c[cmap.scale])
        bad = [k for k in cmap.labels if not lo <= k <= hi]
        if bad:
            raise cells.error(
                row,
                cmap.scale or "scale",
                f"labels {bad} fall outside {lo}..{hi}",
                "a scale that covers every label",
            )
        fmt = AnswerFormat(kind="likert", scale_min=lo, scale_max=hi, labels=dict(cmap.labels))
    media, media_kind = row_media(cells, row, c, cmap, p.resolve().parent)
    try:
        return Probe(
            id=pid or str(row),
            text=text,
            format=fmt,
            value_system=cmap.value_system,
            keys=keys,
            instrument=bank_name,
            context=context,
            media=media,
            media_kind=media_kind,
            metadata=meta,
        )
    except ValidationError as exc:
        problem = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise cells.error(row, cmap.option_values or cmap.options or cmap.text, problem) from exc
