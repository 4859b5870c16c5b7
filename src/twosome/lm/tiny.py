"""Build the embedded default: a BPE tokenizer trained offline and a small Llama, saved as an HF directory.

Nothing is downloaded. The result is deterministic given the seed, so every machine builds the same model.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from twosome.lm import corpus

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>"]


@dataclass(frozen=True)
class TinyLlamaSpec:
    """Architecture of the embedded default model (about 1M parameters)."""

    vocab_size: int = 1024
    hidden_size: int = 128
    intermediate_size: int = 344
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 4
    max_position_embeddings: int = 1024
    seed: int = 0
    tokenizer_sentences: int = 20000


def train_tokenizer(spec: TinyLlamaSpec) -> PreTrainedTokenizerFast:
    """Byte-level BPE (GPT-2 style): any text round-trips, so no environment can produce an unknown token."""
    tok = Tokenizer(models.BPE(unk_token=None))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=spec.vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(corpus.sentences(spec.tokenizer_sentences, seed=spec.seed), trainer=trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        padding_side="right",
    )


def build_tiny_llama(out_dir: str | os.PathLike, spec: TinyLlamaSpec | None = None) -> Path:
    """Train the tokenizer, initialise the model from the seed, and save both atomically to ``out_dir``."""
    spec = spec or TinyLlamaSpec()
    out = Path(out_dir)
    log.info("Building the default tiny Llama in %s", out)
    tokenizer = train_tokenizer(spec)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        max_position_embeddings=spec.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    torch.manual_seed(spec.seed)
    model = LlamaForCausalLM(config)
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write into a sibling temp dir and rename: a crash never leaves a half-written model that later loads.
    tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    (tmp / "twosome_spec.json").write_text(json.dumps(asdict(spec), indent=2))
    try:
        tmp.rename(out)
    except OSError:  # another process built it first
        if not (out / "config.json").exists():
            raise
    return out
