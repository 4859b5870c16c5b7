"""Load a language model (causal, or encoder-decoder such as T5) and its tokenizer from a local directory or a hub
id, building the embedded default if asked."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSeq2SeqLM,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

log = logging.getLogger(__name__)

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
BUILDERS = ("household_llama", "random_twin", "tiny_llama", "tiny_t5")


def ensure_model_dir(path: str, build: str | None, source: str | None = None) -> str:
    """Return ``path``; build the named recipe there first if it is absent (once; later runs load it).

    ``household_llama`` pretrains the default on the generated corpus (a few minutes on 2 cores);
    ``random_twin`` copies ``source``'s architecture and tokenizer with fresh weights (the no-pretraining
    ablation); ``tiny_llama`` is a random tiny model for tests; ``tiny_t5`` a random tiny T5 (GLAM's family) with
    ``source``'s tokenizer.
    """
    if build is None:
        return path
    if build not in BUILDERS:
        raise ValueError(f"model.build={build!r} is not a known recipe; valid: {list(BUILDERS)} or null")
    if (Path(path) / "config.json").exists():
        return path
    if build == "household_llama":
        from twosome.lm.pretrain import build_household_llama

        build_household_llama(path)
    elif build == "random_twin":
        if source is None:
            raise ValueError("model.build=random_twin needs model.source: the model whose architecture it copies")
        from twosome.lm.tiny import build_random_twin

        build_random_twin(ensure_model_dir(source, "household_llama"), path)
    elif build == "tiny_t5":
        from twosome.lm.tiny import build_tiny_t5

        build_tiny_t5(path, ensure_model_dir(source, "household_llama") if source else None)
    else:
        from twosome.lm.tiny import build_tiny_llama

        build_tiny_llama(path)
    return path


def load_lm(
    path: str, build: str | None = None, dtype: str = "float32", source: str | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``(model, tokenizer)``; the model is frozen and in eval mode (dropout off for exact log-probs).

    Encoder-decoder models (``config.is_encoder_decoder``: T5, Flan-T5) load as seq2seq LMs, the rest as causal LMs.
    """
    if dtype not in DTYPES:
        raise ValueError(f"model.dtype={dtype!r} is not valid; valid: {sorted(DTYPES)}")
    path = ensure_model_dir(path, build, source)
    local = Path(path)
    if (path.startswith(("/", ".", "~")) or local.exists()) and not (local / "config.json").exists():
        raise FileNotFoundError(
            f"model.path={path!r} is not a Hugging Face model directory (no config.json there). Point model.path "
            "at a directory saved with save_pretrained, or use model=tiny for the embedded default."
        )
    tokenizer = AutoTokenizer.from_pretrained(path)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    seq2seq = bool(getattr(AutoConfig.from_pretrained(path), "is_encoder_decoder", False))
    auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    model = auto.from_pretrained(path, dtype=DTYPES[dtype])
    model.requires_grad_(False)
    model.eval()
    return model, tokenizer
