"""Activations at an SAE's hook point, from an offline corpus, streamed to disk in shards.

The corpus (no download): the standard library's ``pydoc_data.topics`` prose, the built-in
probe banks and the built-in contrastive pairs. Texts are tokenized, joined with the EOS
token and cut into chunks of ``context`` tokens; the first position of each chunk is left
out (attention-sink positions have outsized norms that would dominate training). Each shard
is a safetensors file of at most ``shard_tokens`` rows, so memory stays bounded by one
shard; ``index.json`` lists shards, token counts, the hook and the corpus digest.

With ``stop_early`` (default) the forward pass stops at the hook: layers above it are not
computed, so collection costs at most a full forward pass.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from valuespectrum.errors import ConfigError
from valuespectrum.sae.hooks import HookPoint, attach
from valuespectrum.steering.collect import text_tokenizer
from valuespectrum.types import stable_hash

if TYPE_CHECKING:
    import torch

CORPUS_SOURCES = ("pydoc", "banks", "pairs")


def corpus_texts(sources: Sequence[str] = CORPUS_SOURCES) -> list[str]:
    """Texts of the offline corpus, in a fixed order."""
    out: list[str] = []
    for s in sources:
        if s == "pydoc":
            from pydoc_data.topics import topics

            out.extend(topics[k] for k in sorted(topics))
        elif s == "banks":
            from valuespectrum.probes.bank import list_banks, load_bank

            for name in list_banks():
                out.extend(p.text for p in load_bank(name).probes)
        elif s == "pairs":
            from valuespectrum.steering.pairs import builtin_pairs

            for p in builtin_pairs():
                out.extend([p.render(p.positive), p.render(p.negative)])
        else:
            raise ConfigError(f"corpus source {s!r} unknown; expected some of {CORPUS_SOURCES}")
    return out


def token_chunks(tokenizer: Any, texts: Sequence[str], context: int) -> Iterator[list[int]]:
    """Consecutive ``context``-token chunks of the texts joined by EOS (the last partial chunk dropped)."""
    tok = text_tokenizer(tokenizer)
    sep = tok.eos_token_id if tok.eos_token_id is not None else 0
    buf: list[int] = []
    for text in texts:
        buf.extend(tok(text, add_special_tokens=False)["input_ids"])
        buf.append(int(sep))
        while len(buf) >= context:
            yield buf[:context]
            buf = buf[context:]


class _Stop(Exception):
    """Raised inside the hook to end a forward pass once the activations are read."""


def forward_capture(
    model: Any,
    point: HookPoint,
    input_ids: torch.Tensor,
    *,
    stop_early: bool = True,
    layer_template: str | None = None,
) -> torch.Tensor:
    """The activations at ``point`` for a batch of token ids [batch, seq] -> [batch, seq, d]."""
    import torch

    got: list[torch.Tensor] = []

    def read(h: torch.Tensor) -> None:
        got.append(h.detach())
        if stop_early:
            raise _Stop
        return None

    with (
        torch.no_grad(),
        attach(model, point, read, layer_template=layer_template),
        contextlib.suppress(_Stop),
    ):
        model(input_ids=input_ids)
    if not got:
        raise ConfigError(f"hook {point.hook_name} was never reached in the forward pass")
    return got[0]


@dataclass
class CollectStats:
    tokens: int
    seconds: float
    shards: int

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds else 0.0


def collect_to_disk(
    model: Any,
    tokenizer: Any,
    point: HookPoint,
    texts: Sequence[str],
    out_dir: str | Path,
    *,
    context: int = 128,
    batch_size: int = 8,
    max_tokens: int | None = None,
    shard_tokens: int = 65536,
    stop_early: bool = True,
    layer_template: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> CollectStats:
    """Write activations at ``point`` to ``out_dir`` (shards + ``index.json``); returns counts and time."""
    import time

    import torch
    from safetensors.torch import save_file

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    device = next(model.parameters()).device
    shards: list[dict[str, Any]] = []
    pending: list[torch.Tensor] = []
    n_pending = total = 0
    t0 = time.perf_counter()

    def flush() -> None:
        nonlocal pending, n_pending
        if not pending:
            return
        rows = torch.cat(pending).float().cpu().contiguous()
        name = f"shard_{len(shards):05d}.safetensors"
        save_file({"activations": rows}, str(out / name))
        shards.append({"file": name, "tokens": int(rows.shape[0])})
        pending, n_pending = [], 0

    batch: list[list[int]] = []
    chunks = token_chunks(tokenizer, texts, context)
    done = False
    while not done:
        nxt = next(chunks, None)
        if nxt is not None:
            batch.append(nxt)
        if batch and (len(batch) == batch_size or nxt is None):
            ids = torch.tensor(batch, device=device)
            h = forward_capture(model, point, ids, stop_early=stop_early, layer_template=layer_template)
            rows = h[:, 1:, :].reshape(-1, h.shape[-1])
            if max_tokens is not None:
                rows = rows[: max(0, max_tokens - total)]
            pending.append(rows)
            n_pending += int(rows.shape[0])
            total += int(rows.shape[0])
            batch = []
            if progress is not None:
                progress(total, max_tokens)
            while n_pending >= shard_tokens:
                allrows = torch.cat(pending)
                pending, n_pending = [allrows[:shard_tokens]], shard_tokens
                rest = allrows[shard_tokens:]
                flush()
                if rest.shape[0]:
                    pending, n_pending = [rest], int(rest.shape[0])
            if max_tokens is not None and total >= max_tokens:
                done = True
        if nxt is None:
            done = True
    flush()
    seconds = time.perf_counter() - t0
    if total == 0:
        raise ConfigError(f"no activations collected: the corpus is shorter than one {context}-token chunk")
    index = {
        "hook_name": point.hook_name,
        "d": int(h.shape[-1]),
        "context": context,
        "tokens": total,
        "shards": shards,
        "corpus_digest": "sha256:" + stable_hash(list(texts)),
    }
    (out / "index.json").write_text(json.dumps(index, indent=2) + "\n", encoding="utf-8")
    return CollectStats(tokens=total, seconds=seconds, shards=len(shards))


def activations_in_memory(
    model: Any,
    tokenizer: Any,
    point: HookPoint,
    texts: Sequence[str],
    *,
    max_tokens: int = 512,
    context: int = 64,
    layer_template: str | None = None,
) -> torch.Tensor:
    """Up to ``max_tokens`` activation rows [n, d] (a quick sample, e.g. to check an SAE on load)."""
    import torch

    device = next(model.parameters()).device
    got: list[torch.Tensor] = []
    n = 0
    for chunk in token_chunks(tokenizer, texts, context):
        h = forward_capture(model, point, torch.tensor([chunk], device=device), layer_template=layer_template)
        got.append(h[0, 1:].float().cpu())
        n += int(got[-1].shape[0])
        if n >= max_tokens:
            break
    if not got:
        raise ConfigError(f"the texts are shorter than one {context}-token chunk")
    return torch.cat(got)[:max_tokens]


class ShardStore:
    """Activations written by :func:`collect_to_disk`, read one shard at a time."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        idx = self.folder / "index.json"
        try:
            self.index = json.loads(idx.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"{idx}: missing; give a folder written by collect_to_disk") from exc
        self.shards: list[dict[str, Any]] = list(self.index["shards"])
        self.d = int(self.index["d"])
        self.tokens = int(self.index["tokens"])

    def load(self, i: int) -> torch.Tensor:
        from safetensors.torch import load_file

        return load_file(str(self.folder / self.shards[i]["file"]))["activations"]
