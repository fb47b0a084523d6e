"""Import-time compatibility fixes for the torch stack, applied in exactly one place.

On a CPU-only machine, pip can pair the CPU build of torch with a CUDA build of
torchvision; ``import torchvision`` then fails with "operator torchvision::nms does not
exist", and transformers, open_clip and timm fail with it. Declaring the two missing
operator schemas before torchvision is first imported is enough for every transform and
processor we use (we never call nms). Call :func:`ensure_torch_stack` before importing
transformers, open_clip or torchvision.
"""

from __future__ import annotations

import importlib.util
import sys
from typing import Any

_LIBRARY: Any = None  # the torch.library.Library must stay referenced or the schemas vanish


def ensure_torch_stack() -> None:
    """Make ``import torchvision`` work on CPU torch; a no-op when it already does."""
    global _LIBRARY
    if _LIBRARY is not None or "torchvision" in sys.modules:
        return
    if importlib.util.find_spec("torchvision") is None:
        return
    import torch

    if torch.cuda.is_available() or _has_op("nms"):
        return
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _LIBRARY = lib


def _has_op(name: str) -> bool:
    import torch

    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
    except RuntimeError:
        return False
    return True
