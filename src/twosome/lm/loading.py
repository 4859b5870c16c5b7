"""Load a causal LM and its tokenizer from a local directory or a hub id, building the embedded default if asked."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
BUILDERS = ("tiny_llama",)


def ensure_model_dir(path: str, build: str | None) -> str:
    """Return ``path``; build the named recipe there first if it is absent."""
    if build is None:
        return path
    if build not in BUILDERS:
        raise ValueError(f"model.build={build!r} is not a known recipe; valid: {list(BUILDERS)} or null")
    if not (Path(path) / "config.json").exists():
        from twosome.lm.tiny import build_tiny_llama

        build_tiny_llama(path)
    return path


def load_causal_lm(
    path: str, build: str | None = None, dtype: str = "float32"
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``(model, tokenizer)``; the model is frozen and in eval mode (dropout off for exact log-probs)."""
    if dtype not in DTYPES:
        raise ValueError(f"model.dtype={dtype!r} is not valid; valid: {sorted(DTYPES)}")
    path = ensure_model_dir(path, build)
    local = Path(path)
    if (path.startswith(("/", ".", "~")) or local.exists()) and not (local / "config.json").exists():
        raise FileNotFoundError(
            f"model.path={path!r} is not a Hugging Face model directory (no config.json there). Point model.path "
            "at a directory saved with save_pretrained, or use model=tiny for the embedded default."
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    model = AutoModelForCausalLM.from_pretrained(path, dtype=DTYPES[dtype])
    model.requires_grad_(False)
    model.eval()
    return model, tokenizer
