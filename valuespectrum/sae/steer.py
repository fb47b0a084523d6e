"""Feature steering with an SAE: add a multiple of a decoder row, or clamp a feature's activation.

    with steer_features(model, sae, [FeatureEdit(123, "add", 100.0)], span=" your values", tokenizer=tok):
        model.generate(...)

- ``add``:   h' = h + value * W_dec[f]                    (the decoder row in model space)
- ``clamp``: h' = h + (value - a_f(h)) * W_dec[f]         (a_f: the SAE's activation of f at h)

Where: ``positions="all"`` every position of every pass; ``"prompt"`` every position of the
passes that read more than one token (the prefill; decoding steps read one token each);
``"generated"`` only the one-token decoding steps; ``token_positions=[...]`` those indices of the
prompt pass (negative from the end); ``span="text"`` the tokens of that text wherever its token
ids occur in the prompt pass (the published design steers only on " your values"). Hooks are
removed on exit, also when the block raises, so the model is restored exactly.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from valuespectrum.errors import ConfigError
from valuespectrum.sae.hooks import attach, parse_hook
from valuespectrum.sae.model import SparseAutoencoder
from valuespectrum.steering.collect import text_tokenizer

if TYPE_CHECKING:
    import torch

EditMode = Literal["add", "clamp"]
Where = Literal["all", "prompt", "generated"]


@dataclass(frozen=True)
class FeatureEdit:
    feature: int
    mode: EditMode = "add"
    value: float = 1.0
    """Coefficient (add) or target activation (clamp)."""


def span_mask(input_ids: torch.Tensor, span_ids: Sequence[int]) -> torch.Tensor:
    """Bool [batch, seq]: True on every occurrence of the token sequence ``span_ids``."""
    import torch

    b, n = input_ids.shape
    m = len(span_ids)
    mask = torch.zeros(b, n, dtype=torch.bool, device=input_ids.device)
    if m == 0 or m > n:
        return mask
    target = torch.tensor(list(span_ids), device=input_ids.device)
    windows = input_ids.unfold(1, m, 1)  # [b, n-m+1, m]
    hits = (windows == target).all(dim=-1)
    for off in range(m):
        mask[:, off : off + hits.shape[1]] |= hits
    return mask


@contextmanager
def steer_features(
    model: Any,
    sae: SparseAutoencoder,
    edits: Sequence[FeatureEdit],
    *,
    positions: Where = "all",
    token_positions: Sequence[int] | None = None,
    span: str | None = None,
    tokenizer: Any = None,
    layer_template: str | None = None,
    stats: dict[str, int] | None = None,
) -> Iterator[dict[str, int]]:
    """Apply ``edits`` at the SAE's hook point inside the block (see the module notes)."""
    import torch

    if not edits:
        raise ConfigError("feature steering needs at least one feature edit")
    for e in edits:
        if e.mode not in ("add", "clamp"):
            raise ConfigError(f"feature edit mode must be 'add' or 'clamp', got {e.mode!r}")
        sae.direction(e.feature)
    if positions not in ("all", "prompt", "generated"):
        raise ConfigError(f"positions must be all, prompt or generated, got {positions!r}")
    if span is not None and token_positions is not None:
        raise ConfigError("give either span= or token_positions=, not both")
    span_ids: list[int] | None = None
    if span is not None:
        if tokenizer is None:
            raise ConfigError("span steering needs the tokenizer (tokenizer=...)")
        span_ids = list(text_tokenizer(tokenizer)(span, add_special_tokens=False)["input_ids"])
        if not span_ids:
            raise ConfigError(f"span {span!r} tokenizes to nothing")
    point = parse_hook(sae.hook_name)
    counters = stats if stats is not None else {}
    counters.setdefault("steered_positions", 0)
    counters.setdefault("passes", 0)
    ids_now: dict[str, torch.Tensor | None] = {"ids": None}

    def read_ids(_m: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        ids = kwargs.get("input_ids", args[0] if args else None)
        ids_now["ids"] = ids if isinstance(ids, torch.Tensor) else None

    cache: dict[tuple[Any, Any], torch.Tensor] = {}

    def rows(h: torch.Tensor) -> torch.Tensor:
        key = (h.device, h.dtype)
        if key not in cache:
            cache[key] = torch.stack([sae.direction(e.feature) for e in edits]).to(h.device, h.dtype)
        return cache[key]

    def where(h: torch.Tensor) -> torch.Tensor | None:
        b, n = h.shape[0], h.shape[1]
        prompt_pass = n > 1
        if span_ids is not None or token_positions is not None:
            if not prompt_pass:
                return None
            if span_ids is not None:
                ids = ids_now["ids"]
                if ids is None or tuple(ids.shape[:2]) != (b, n):
                    raise ConfigError(
                        "span steering needs input_ids in the model call (embeddings were given)"
                    )
                return span_mask(ids, span_ids)
            mask = torch.zeros(b, n, dtype=torch.bool, device=h.device)
            for p in token_positions or []:
                if -n <= p < n:
                    mask[:, p] = True
            return mask
        if (positions == "prompt" and not prompt_pass) or (positions == "generated" and prompt_pass):
            return None
        return torch.ones(b, n, dtype=torch.bool, device=h.device)

    def edit(h: torch.Tensor) -> torch.Tensor | None:
        mask = where(h)
        counters["passes"] += 1
        if mask is None or not bool(mask.any()):
            return None
        r = rows(h)
        coeff = torch.zeros(*h.shape[:2], len(edits), device=h.device, dtype=h.dtype)
        clamp = [j for j, e in enumerate(edits) if e.mode == "clamp"]
        acts = sae.encode(h.float()).to(h.dtype) if clamp else None
        for j, e in enumerate(edits):
            if e.mode == "add":
                coeff[..., j] = e.value
            else:
                assert acts is not None
                coeff[..., j] = e.value - acts[..., e.feature]
        delta = (coeff @ r) * mask.unsqueeze(-1).to(h.dtype)
        counters["steered_positions"] += int(mask.sum())
        return h + delta

    with ExitStack() as stack:
        if span_ids is not None:
            handle = model.register_forward_pre_hook(read_ids, with_kwargs=True)
            stack.callback(handle.remove)
        stack.enter_context(attach(model, point, edit, layer_template=layer_template))
        yield counters
