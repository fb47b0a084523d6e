"""Tiny random-weight models for tests, built locally from configs (no downloads).

Each builder trains a small byte-level BPE tokenizer with the ``tokenizers`` library,
wraps it in ``PreTrainedTokenizerFast``, builds the model from a config with a few hundred
thousand parameters, and saves model + tokenizer/processor (with a chat template) via
``save_pretrained``. Results are cached on disk per process under the temp folder, so
every test module in a session reuses the same folders.

    path = build_tiny_text_lm(tmp_dir, family="llama")
    path = build_tiny_vlm(tmp_dir, family="qwen2_vl")

Weights are random with a wide init so greedy decoding has clear winners; the models
produce gibberish text and exist only to exercise code paths.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any

TEXT_FAMILIES = ("llama", "qwen2", "gemma")
VLM_FAMILIES = ("llava", "qwen2_vl", "qwen2_5_vl", "qwen3_vl", "smolvlm", "paligemma")

_SPECIAL = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<bos>",
    "<image>",
    "<video>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<fake_token_around_image>",
    "<global-img>",
    "<end_of_utterance>",
]

_CORPUS = [
    "Do you like the content of this image? Answer Yes or No.",
    "How much is this person like you? Answer with a number from 1 to 6.",
    "It is important to her to be free to plan and choose her activities.",
    "He likes surprises and is always looking for new things to do.",
    "Tradition, security, power, achievement, benevolence, universalism, hedonism, stimulation.",
    "Yes No yes no A B C D 1 2 3 4 5 6 7 8 9 0 system user assistant",
    "The video shows a concert, a vacation, comedy and friends at the beach.",
    "Describe this image. Why? Because it looks fun and relaxing.",
]

# Chat templates written for these tests. Image/video parts become the placeholder each
# processor expects; a plain-string content is accepted too (text-only conversations).
_CHATML = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
    "{% if message['content'] is string %}{{ message['content'] }}"
    "{% else %}{% for part in message['content'] %}"
    "{% if part['type'] == 'text' %}{{ part['text'] }}"
    "{% elif part['type'] == 'image' %}@IMAGE@"
    "{% elif part['type'] == 'video' %}@VIDEO@{% endif %}"
    "{% endfor %}{% endif %}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
_QWEN_IMAGE = "<|vision_start|><|image_pad|><|vision_end|>"
_QWEN_VIDEO = "<|vision_start|><|video_pad|><|vision_end|>"

_lock = threading.Lock()


def cache_root() -> Path:
    """On-disk cache shared by all tests of one process (and reused across runs)."""
    root = Path(os.environ.get("VSPEC_TINY_CACHE", Path(tempfile.gettempdir()) / "vspec-tiny-models-v1"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _template(image: str = "<image>", video: str = "<video>") -> str:
    return _CHATML.replace("@IMAGE@", image).replace("@VIDEO@", video)


def _tokenizer(eos: str = "<|im_end|>", bos: str | None = None) -> Any:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=_SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_CORPUS * 4, trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token=eos,
        pad_token="<|endoftext|>",
        bos_token=bos,
        unk_token=None,
    )
    return fast


def _cached(path: str | Path | None, name: str, build: Any) -> Path:
    """Build into the shared cache once; copy (or link) into ``path`` when given."""
    with _lock:
        target = cache_root() / name
        if not (target / "config.json").is_file():
            tmp = Path(tempfile.mkdtemp(dir=cache_root(), prefix=f".{name}-"))
            build(tmp)
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
    if path is None:
        return target
    out = Path(path) / name
    if not out.exists():
        shutil.copytree(target, out)
    return out


def _text_params(vocab: int, **extra: Any) -> dict[str, Any]:
    """The tiny decoder every text model and VLM language tower shares (``extra`` overrides)."""
    base: dict[str, Any] = dict(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=2048,
        initializer_range=0.3,
        tie_word_embeddings=False,
    )
    return base | extra


def _text_cfg(family: str, vocab: int, **extra: Any) -> Any:
    from transformers import AutoConfig

    if family == "gemma":
        extra = {"head_dim": 8} | extra
    return AutoConfig.for_model(family, **_text_params(vocab, **extra))


def _vision_params(**extra: Any) -> dict[str, Any]:
    """The one-layer vision tower of the ViT-style VLMs (``extra`` sets image and patch size)."""
    return dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2) | extra


def build_tiny_text_lm(path: str | Path | None = None, family: str = "llama") -> Path:
    """A tiny causal LM of ``family`` (llama, qwen2 or gemma) with a ChatML template."""
    if family not in TEXT_FAMILIES:
        raise ValueError(f"unknown text family {family!r}; choose one of {TEXT_FAMILIES}")

    def build(out: Path) -> None:
        from valuespectrum.compat import ensure_torch_stack

        ensure_torch_stack()
        import torch
        from transformers import AutoModelForCausalLM

        tok = _tokenizer()
        tok.chat_template = _template()
        ids = tok.convert_tokens_to_ids
        cfg = _text_cfg(
            family,
            len(tok),
            pad_token_id=ids("<|endoftext|>"),
            eos_token_id=ids("<|im_end|>"),
            bos_token_id=ids("<|endoftext|>"),
        )
        torch.manual_seed(0)
        model = AutoModelForCausalLM.from_config(cfg)
        model.generation_config.pad_token_id = cfg.pad_token_id
        model.save_pretrained(out)
        tok.save_pretrained(out)

    return _cached(path, f"text-{family}", build)


def load_tiny_text_lm(family: str = "llama", *, padding_side: str = "right") -> tuple[Path, Any, Any]:
    """The tiny text LM of ``family`` loaded for direct use: its folder, the float32 model in eval
    mode, and its tokenizer (padding on ``padding_side``)."""
    from valuespectrum.compat import ensure_torch_stack

    ensure_torch_stack()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = build_tiny_text_lm(family=family)
    model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).eval()
    tok = AutoTokenizer.from_pretrained(path)
    tok.padding_side = padding_side
    return path, model, tok


def build_tiny_vlm(path: str | Path | None = None, family: str = "llava") -> Path:
    """A tiny image-text-to-text model of ``family`` with its processor and chat template."""
    if family not in VLM_FAMILIES:
        raise ValueError(f"unknown VLM family {family!r}; choose one of {VLM_FAMILIES}")

    def build(out: Path) -> None:
        from valuespectrum.compat import ensure_torch_stack

        ensure_torch_stack()
        import torch
        from transformers import AutoModelForImageTextToText

        processor, config = _VLM_BUILDERS[family]()
        torch.manual_seed(0)
        model = AutoModelForImageTextToText.from_config(config)
        tok = processor.tokenizer
        model.generation_config.pad_token_id = tok.pad_token_id
        model.generation_config.eos_token_id = tok.eos_token_id
        model.save_pretrained(out)
        processor.save_pretrained(out)

    return _cached(path, f"vlm-{family}", build)


def _llava() -> tuple[Any, Any]:
    from transformers import CLIPImageProcessor, LlavaConfig, LlavaProcessor

    tok = _tokenizer()
    ip = CLIPImageProcessor(
        size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}, do_center_crop=True
    )
    proc = LlavaProcessor(
        image_processor=ip,
        tokenizer=tok,
        patch_size=14,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
        chat_template=_template("<image>", "<image>"),
    )
    ids = tok.convert_tokens_to_ids
    text = _text_cfg("llama", len(tok), pad_token_id=ids("<|endoftext|>"), eos_token_id=ids("<|im_end|>"))
    cfg = LlavaConfig(
        vision_config=_vision_params(
            model_type="clip_vision_model", image_size=28, patch_size=14, projection_dim=16
        ),
        text_config=text.to_dict(),
        image_token_index=ids("<image>"),
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        projector_hidden_act="gelu",
    )
    return proc, cfg


def _qwen_vision(family: str) -> dict[str, Any]:
    common: dict[str, Any] = dict(
        depth=1, num_heads=2, spatial_merge_size=2, temporal_patch_size=2, in_channels=3
    )
    if family == "qwen2_vl":
        return common | dict(embed_dim=16, hidden_size=32, mlp_ratio=2, patch_size=14)
    # Qwen2.5-VL and Qwen3-VL name the tower's widths alike and differ in their extras
    common |= dict(hidden_size=16, out_hidden_size=32, intermediate_size=32)
    if family == "qwen2_5_vl":
        return common | dict(patch_size=14, window_size=56, fullatt_block_indexes=[0])
    return common | dict(patch_size=16, num_position_embeddings=64, deepstack_visual_indexes=[0])


def _qwen(family: str) -> tuple[Any, Any]:
    import transformers
    from transformers import AutoConfig
    from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES

    tok = _tokenizer()
    ids = tok.convert_tokens_to_ids
    patch = 16 if family == "qwen3_vl" else 14
    side = patch * 2
    pixels = {"shortest_edge": side * side, "longest_edge": side * side * 4}
    if family == "qwen3_vl":
        from transformers import Qwen3VLVideoProcessor as VideoProcessor
    else:
        from transformers import Qwen2VLVideoProcessor as VideoProcessor
    from transformers import Qwen2VLImageProcessor

    ip = Qwen2VLImageProcessor(patch_size=patch, merge_size=2, temporal_patch_size=2, size=pixels)
    vp = VideoProcessor(
        patch_size=patch, merge_size=2, temporal_patch_size=2, size=pixels, do_sample_frames=False
    )
    proc_cls = getattr(transformers, PROCESSOR_MAPPING_NAMES[family])
    proc = proc_cls(
        image_processor=ip,
        tokenizer=tok,
        video_processor=vp,
        chat_template=_template(_QWEN_IMAGE, _QWEN_VIDEO),
    )
    text = _text_params(
        len(tok),
        head_dim=8,
        pad_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|im_end|>"),
        bos_token_id=ids("<|endoftext|>"),
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 1, 1]},
    )
    if family == "qwen3_vl":
        text["rope_parameters"]["mrope_interleaved"] = True
    cfg = AutoConfig.for_model(
        family,
        text_config=text,
        vision_config=_qwen_vision(family),
        image_token_id=ids("<|image_pad|>"),
        video_token_id=ids("<|video_pad|>"),
        vision_start_token_id=ids("<|vision_start|>"),
        vision_end_token_id=ids("<|vision_end|>"),
        tie_word_embeddings=False,
    )
    return proc, cfg


def _smolvlm() -> tuple[Any, Any]:
    from transformers import SmolVLMConfig, SmolVLMImageProcessor, SmolVLMProcessor, SmolVLMVideoProcessor

    tok = _tokenizer(eos="<end_of_utterance>")
    ids = tok.convert_tokens_to_ids
    side = 32
    ip = SmolVLMImageProcessor(
        do_image_splitting=False,
        size={"longest_edge": side},
        max_image_size={"longest_edge": side},
    )
    vp = SmolVLMVideoProcessor(
        size={"longest_edge": side}, max_image_size={"longest_edge": side}, do_sample_frames=False
    )
    template = (
        "<|im_start|>{% for message in messages %}{{ message['role'] | capitalize }}: "
        "{% if message['content'] is string %}{{ message['content'] }}"
        "{% else %}{% for part in message['content'] %}"
        "{% if part['type'] == 'text' %}{{ part['text'] }}"
        "{% elif part['type'] in ['image', 'video'] %}<image>{% endif %}"
        "{% endfor %}{% endif %}<end_of_utterance>\n{% endfor %}"
        "{% if add_generation_prompt %}Assistant:{% endif %}"
    )
    proc = SmolVLMProcessor(
        image_processor=ip, tokenizer=tok, video_processor=vp, image_seq_len=4, chat_template=template
    )
    text = _text_cfg(
        "llama", len(tok), pad_token_id=ids("<|endoftext|>"), eos_token_id=ids("<end_of_utterance>")
    )
    cfg = SmolVLMConfig(
        vision_config=_vision_params(image_size=side, patch_size=8),
        text_config=text.to_dict(),
        image_token_id=ids("<image>"),
        scale_factor=2,
        tie_word_embeddings=False,
    )
    return proc, cfg


def _paligemma() -> tuple[Any, Any]:
    from transformers import PaliGemmaConfig, PaliGemmaProcessor, SiglipImageProcessor

    tok = _tokenizer(eos="<|im_end|>", bos="<bos>")
    ip = SiglipImageProcessor(size={"height": 28, "width": 28})
    ip.image_seq_length = 4  # type: ignore[attr-defined]  # PaliGemmaProcessor reads it
    proc = PaliGemmaProcessor(image_processor=ip, tokenizer=tok)  # no chat template, like the real ones
    ids = tok.convert_tokens_to_ids
    text = _text_cfg(
        "gemma",
        len(tok),
        pad_token_id=ids("<|endoftext|>"),
        eos_token_id=ids("<|im_end|>"),
        bos_token_id=ids("<bos>"),
    )
    cfg = PaliGemmaConfig(
        vision_config=_vision_params(
            model_type="siglip_vision_model", image_size=28, patch_size=14, projection_dim=32
        ),
        text_config=text.to_dict(),
        image_token_index=ids("<image>"),
        projection_dim=32,
        hidden_size=32,
    )
    return proc, cfg


_VLM_BUILDERS: dict[str, Any] = {
    "llava": _llava,
    "qwen2_vl": lambda: _qwen("qwen2_vl"),
    "qwen2_5_vl": lambda: _qwen("qwen2_5_vl"),
    "qwen3_vl": lambda: _qwen("qwen3_vl"),
    "smolvlm": _smolvlm,
    "paligemma": _paligemma,
}
