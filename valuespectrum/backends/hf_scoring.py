"""Option log-likelihoods: total log-prob of each option's tokens after the rendered prompt.

Strategy (measured in benchmarks/bench_backends.py):

- When every option of a request is a single token (Likert digits, Yes/No, A/B...), the
  prompt is encoded once and all options are read from the next-token distribution at
  its last position: one sequence per request.
- Otherwise each option becomes its own sequence ``prompt + option`` (the prompt is
  re-encoded per option; images are repeated). Text-only models concatenate token ids,
  so prompt and option tokens are exactly those of separate encodings; VLM processors
  encode the joined string and the option's tokens are checked at the end (PaliGemma
  takes the option as its ``suffix`` so it is scored causally after the prefix).
- Sequences are batched with right padding, so positions of real tokens never shift and
  batched scores equal one-by-one scores.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from valuespectrum.backends.hf_inputs import PreparedRequest, processor_kwargs

if TYPE_CHECKING:
    from valuespectrum.backends.hf import HFBackend


@dataclass
class _Row:
    item: int
    """Index of the request (in the caller's list) this row scores."""
    prep: PreparedRequest
    option_ids: list[list[int]]
    """Single-token row: every option's one id. Option row: one entry, the option's ids."""
    option_index: int | None
    """None for a single-token row that scores all options at once."""
    option_text: str = ""


class ScoringError(Exception):
    pass


#: Score all-single-token option sets from one prompt pass (False forces one sequence per
#: option; only the benchmark flips it, to measure what the fast path saves).
SINGLE_TOKEN_FAST_PATH = True


def build_rows(
    backend: HFBackend, items: list[tuple[int, PreparedRequest, list[str]]]
) -> tuple[list[_Row], dict[int, str]]:
    """Plan the sequences to run; returns rows and per-item errors."""
    tok = backend.tokenizer
    rows: list[_Row] = []
    errors: dict[int, str] = {}
    for item, prep, options in items:
        ids = [list(tok(o, add_special_tokens=False)["input_ids"]) for o in options]
        empty = [o for o, i in zip(options, ids, strict=True) if not i]
        if empty:
            errors[item] = f"option {empty[0]!r} encodes to no tokens"
            continue
        if SINGLE_TOKEN_FAST_PATH and all(len(i) == 1 for i in ids):
            rows.append(_Row(item, prep, ids, None))
        else:
            rows.extend(_Row(item, prep, [i], k, options[k]) for k, i in enumerate(ids))
    return rows, errors


def score_rows(backend: HFBackend, rows: list[_Row]) -> dict[int, list[float]]:
    """Run rows (one batch) and return, per item, the per-option log-probs found in these rows.

    Multi-token items come back partially filled when their rows span batches; the caller merges.
    """
    import torch

    enc, prompt_lens = _encode_rows(backend, rows)
    with torch.inference_mode():
        logits = backend.model(**enc).logits.float()
    logp = torch.log_softmax(logits, dim=-1)
    out: dict[int, list[float]] = {}
    for r, row in enumerate(rows):
        plen = prompt_lens[r]
        if row.option_index is None:
            dist = logp[r, plen - 1]
            out[row.item] = [float(dist[i[0]]) for i in row.option_ids]
        else:
            ids = row.option_ids[0]
            pos = torch.arange(plen - 1, plen - 1 + len(ids), device=logp.device)
            target = torch.tensor(ids, device=logp.device)
            total = float(logp[r, pos, target].sum())
            out.setdefault(row.item, []).append(total)
    return out


def _encode_rows(backend: HFBackend, rows: list[_Row]) -> tuple[Any, list[int]]:
    """Right-padded batch of rows plus each row's prompt length in tokens."""
    import torch

    tok = backend.tokenizer
    specials = backend.add_special_tokens
    if backend.processor is None:
        seqs: list[list[int]] = []
        plens: list[int] = []
        for row in rows:
            prompt = list(tok(row.prep.prompt, add_special_tokens=specials)["input_ids"])
            plens.append(len(prompt))
            seqs.append(prompt + (row.option_ids[0] if row.option_index is not None else []))
        width = max(len(s) for s in seqs)
        pad = tok.pad_token_id
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, : len(s)] = torch.tensor(s)
            mask[i, : len(s)] = 1
        return {"input_ids": ids.to(backend.device), "attention_mask": mask.to(backend.device)}, plens

    suffix_mode = backend.processor_takes_suffix
    texts = [r.prep.prompt if suffix_mode else r.prep.prompt + r.option_text for r in rows]
    kw = processor_kwargs([r.prep for r in rows], backend.renderer)
    if suffix_mode:
        kw["suffix"] = [r.option_text for r in rows]
    enc = backend.encode_texts(texts, padding_side="right", **kw)
    enc.pop("labels", None)
    mask = enc["attention_mask"]
    plens = []
    for i, row in enumerate(rows):
        real = int(mask[i].sum())
        if suffix_mode:
            plen = int(((enc["token_type_ids"][i] == 0) & (mask[i] == 1)).sum())
        else:
            plen = real - (len(row.option_ids[0]) if row.option_index is not None else 0)
        if row.option_index is not None:
            got = enc["input_ids"][i, plen : plen + len(row.option_ids[0])].tolist()
            if got != row.option_ids[0]:
                raise ScoringError(
                    f"option {row.option_text!r} tokenizes differently after the prompt "
                    f"({got} vs {row.option_ids[0]}); start options with a space or use single-token options"
                )
        plens.append(plen)
    return enc, plens
