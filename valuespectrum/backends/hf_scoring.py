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
- Sequences are batched with right padding, so positions of real tokens never shift. The
  caller sorts rows by prompt length first, so a batch holds prompts of similar length and
  pays for little padding.
- Text-only batches whose rows share a prefix (the system prompt and instructions of a
  probe set) encode it once and reuse its KV cache for every row: the prompt's common
  part is computed once per batch instead of once per sequence. A row's score then depends
  on its batch-mates only through float rounding (computing the prefix separately): in
  float32, batched and one-by-one scores agree within 1e-4 (tested); in bf16 the gap is
  larger. Answers read from them change only when two options are that close. Models whose
  cache cannot be shared this way are scored the plain way.
- The model computes logits only at the positions read (``logits_to_keep`` with the
  positions' indices, where the model's forward takes it): the vocabulary projection and
  the softmax over all other positions are skipped (~20% of a small model's compute).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from valuespectrum.backends.hf_inputs import PreparedRequest, processor_kwargs

if TYPE_CHECKING:
    from valuespectrum.backends.hf import HFBackend


@dataclass
class ScoreRow:
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
) -> tuple[list[ScoreRow], dict[int, str]]:
    """Plan the sequences to run; returns rows and per-item errors."""
    tok = backend.tokenizer
    rows: list[ScoreRow] = []
    errors: dict[int, str] = {}
    for item, prep, options in items:
        ids = [list(tok(o, add_special_tokens=False)["input_ids"]) for o in options]
        empty = [o for o, i in zip(options, ids, strict=True) if not i]
        if empty:
            errors[item] = f"option {empty[0]!r} encodes to no tokens"
            continue
        if SINGLE_TOKEN_FAST_PATH and all(len(i) == 1 for i in ids):
            rows.append(ScoreRow(item, prep, ids, None))
        else:
            rows.extend(ScoreRow(item, prep, [i], k, options[k]) for k, i in enumerate(ids))
    return rows, errors


def score_rows(backend: HFBackend, rows: list[ScoreRow]) -> dict[int, list[float]]:
    """Run rows (one batch) and return, per item, the per-option log-probs found in these rows.

    Multi-token items come back partially filled when their rows span batches; the caller merges.
    """
    import torch

    enc, prompt_lens = _encode_rows(backend, rows)
    # Sequence positions whose next-token distribution is read, over all rows.
    wanted = sorted(
        {
            p
            for row, plen in zip(rows, prompt_lens, strict=True)
            for p in range(
                plen - 1, plen - 1 + (len(row.option_ids[0]) if row.option_index is not None else 1)
            )
        }
    )
    column = {p: k for k, p in enumerate(wanted)}
    kwargs: dict[str, Any] = {}
    if _takes_logits_to_keep(backend.model):
        kwargs["logits_to_keep"] = torch.tensor(wanted, device=enc["input_ids"].device)
    else:
        column = {p: p for p in wanted}
    with torch.inference_mode():
        shared = _shared_prefix(backend, enc, min(prompt_lens)) if "logits_to_keep" in kwargs else 0
        logits = None
        if shared:
            try:
                logits = _forward_after_prefix(backend, enc, shared, wanted)
            except (AttributeError, TypeError, NotImplementedError):
                # a model whose cache cannot be repeated across rows (recurrent or legacy
                # caches): score it the plain way instead of failing its items
                logits = None
        if logits is None:
            logits = backend.model(**enc, **kwargs).logits
        logp = torch.log_softmax(logits.float(), dim=-1)
    out: dict[int, list[float]] = {}
    for r, row in enumerate(rows):
        plen = prompt_lens[r]
        if row.option_index is None:
            dist = logp[r, column[plen - 1]]
            out[row.item] = [float(dist[i[0]]) for i in row.option_ids]
        else:
            ids = row.option_ids[0]
            cols = torch.tensor([column[plen - 1 + j] for j in range(len(ids))], device=logp.device)
            target = torch.tensor(ids, device=logp.device)
            total = float(logp[r, cols, target].sum())
            out.setdefault(row.item, []).append(total)
    return out


#: Shortest common prefix (tokens) worth encoding once for a whole batch.
MIN_SHARED_PREFIX = 8


def _shared_prefix(backend: HFBackend, enc: Any, min_prompt: int) -> int:
    """Tokens that every row of a text-only batch starts with (0 when not worth sharing).

    The prefix stops before the last prompt token, so every position read is computed
    in the second pass.
    """
    import torch

    ids = enc["input_ids"]
    if backend.processor is not None or ids.shape[0] < 2:
        return 0
    same = (ids == ids[:1]).all(dim=0)
    n = int(same.long().cumprod(0).sum())
    n = min(n, min_prompt - 1)
    return n if n >= MIN_SHARED_PREFIX and bool(torch.all(enc["attention_mask"][:, :n] == 1)) else 0


def _forward_after_prefix(backend: HFBackend, enc: Any, shared: int, wanted: list[int]) -> Any:
    """Logits at ``wanted`` positions, with the common prefix encoded once and its KV cache
    repeated over the batch (system prompt and instructions shared by a probe set)."""
    import torch

    ids, mask = enc["input_ids"], enc["attention_mask"]
    batch, width = ids.shape
    name = _cache_argument(backend.model)
    prefix = backend.model(input_ids=ids[:1, :shared], use_cache=True, logits_to_keep=1)
    cache = getattr(prefix, "cache", None) if name == "cache" else None
    if cache is None:
        cache = prefix.past_key_values
    cache.batch_repeat_interleave(batch)
    positions = torch.arange(shared, width, device=ids.device).unsqueeze(0).expand(batch, -1)
    keep = torch.tensor([p - shared for p in wanted], device=ids.device)
    out = backend.model(
        input_ids=ids[:, shared:],
        attention_mask=mask,
        position_ids=positions,
        use_cache=True,
        **{name: cache},
        logits_to_keep=keep,
    )
    return out.logits


def _cache_argument(model: Any) -> str:
    """The forward argument taking a KV cache: ``cache`` (transformers >= 5.3x), else the
    older ``past_key_values`` (deprecated, removed in 5.40)."""
    import inspect

    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return "past_key_values"
    return "cache" if "cache" in params else "past_key_values"


def _takes_logits_to_keep(model: Any) -> bool:
    import inspect

    try:
        return "logits_to_keep" in inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return False


def _encode_rows(backend: HFBackend, rows: list[ScoreRow]) -> tuple[Any, list[int]]:
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
