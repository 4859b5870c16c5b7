"""The embedded default's parts: a BPE tokenizer trained offline and a small Llama, saved as an HF directory.

Nothing is downloaded. Everything is deterministic given the seed, so every machine builds the same model.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from twosome.fileio import apply_umask
from twosome.lm import corpus
from twosome.lm.model_dir import build_lock

log = logging.getLogger(__name__)

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>", "<unk>"]


@dataclass(frozen=True)
class TinyLlamaSpec:
    """Architecture of a small Llama (the defaults: about 1M parameters)."""

    vocab_size: int = 1024
    hidden_size: int = 128
    intermediate_size: int = 344
    num_hidden_layers: int = 4
    num_attention_heads: int = 4
    num_key_value_heads: int = 4
    max_position_embeddings: int = 1024
    seed: int = 0
    tokenizer_sentences: int = 20000


def train_tokenizer(spec: TinyLlamaSpec, texts: Iterable[str] | None = None) -> PreTrainedTokenizerFast:
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
    if texts is None:
        texts = corpus.sentences(spec.tokenizer_sentences, seed=spec.seed)
    tok.train_from_iterator(texts, trainer=trainer)
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


def init_model(tokenizer: PreTrainedTokenizerFast, spec: TinyLlamaSpec) -> LlamaForCausalLM:
    """A randomly initialised Llama sized by ``spec``, seeded by ``spec.seed``."""
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
    return LlamaForCausalLM(config)


def save_atomically(model, tokenizer, out_dir: str | os.PathLike, metadata: dict) -> Path:
    """Write into a sibling temp dir and rename: a crash never leaves a half-written model that later loads. Under
    the build lock of ``out_dir`` (``twosome.lm.model_dir``), which removes the temp dirs of killed builds; a model
    another builder finished meanwhile is kept."""
    out = Path(out_dir)
    with build_lock(out):
        if (out / "config.json").exists():
            return out
        tmp = Path(tempfile.mkdtemp(prefix=out.name + ".tmp-", dir=out.parent))
        try:
            model.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            (tmp / "twosome_spec.json").write_text(json.dumps(metadata, indent=2))
            apply_umask(tmp)
            tmp.rename(out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return out


def build_tiny_llama(out_dir: str | os.PathLike, spec: TinyLlamaSpec | None = None) -> Path:
    """A randomly initialised tiny Llama with a tokenizer trained on short household sentences (for tests)."""
    spec = spec or TinyLlamaSpec()
    log.info("Building a random tiny Llama in %s", out_dir)
    tokenizer = train_tokenizer(spec)
    return save_atomically(init_model(tokenizer, spec), tokenizer, out_dir, {"recipe": "tiny_llama", **asdict(spec)})


def build_random_twin(source_dir: str | os.PathLike, out_dir: str | os.PathLike, seed: int = 0) -> Path:
    """Same architecture and tokenizer as ``source_dir``, weights freshly initialised (the no-pretraining ablation)."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source_dir)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(source_dir))
    meta = {"recipe": "random_twin", "source": str(source_dir), "seed": seed}
    return save_atomically(model, tokenizer, out_dir, meta)


LLAMA7B = {
    "vocab_size": 32000,
    "hidden_size": 4096,
    "intermediate_size": 11008,
    "num_hidden_layers": 32,
    "num_attention_heads": 32,
    "num_key_value_heads": 32,
    "max_position_embeddings": 2048,
}


def build_random_init_llama7b(out_dir: str | os.PathLike, tokenizer_source: str | os.PathLike) -> Path:
    """LLaMA-7B's config and ``tokenizer_source``'s tokenizer, no weights: ``load_lm`` initialises it randomly."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    ids = {k: getattr(tokenizer, k) for k in ("bos_token_id", "eos_token_id", "pad_token_id")}
    config = LlamaConfig(**LLAMA7B, **ids)

    class _ConfigOnly:  # save_atomically's model interface, writing the config alone
        def save_pretrained(self, directory):
            config.save_pretrained(directory)

    return save_atomically(_ConfigOnly(), tokenizer, out_dir, {"recipe": "random_init", **LLAMA7B})


@dataclass(frozen=True)
class TinyT5Spec:
    """A small T5 (encoder-decoder, GLAM's family) that runs fast on a CPU; random weights."""

    d_model: int = 128
    d_kv: int = 32
    d_ff: int = 256
    num_layers: int = 2
    num_decoder_layers: int = 2
    num_heads: int = 4
    seed: int = 0


def build_tiny_t5(
    out_dir: str | os.PathLike, tokenizer_source: str | os.PathLike | None = None, spec: TinyT5Spec | None = None
) -> Path:
    """A randomly initialised tiny T5. Its tokenizer is ``tokenizer_source``'s (the household BPE) or a fresh one;
    the decoder starts from the pad token, as T5's does."""
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    spec = spec or TinyT5Spec()
    if tokenizer_source is not None:
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_source)
    else:
        tokenizer = train_tokenizer(TinyLlamaSpec())
    config = T5Config(
        vocab_size=len(tokenizer),
        d_model=spec.d_model,
        d_kv=spec.d_kv,
        d_ff=spec.d_ff,
        num_layers=spec.num_layers,
        num_decoder_layers=spec.num_decoder_layers,
        num_heads=spec.num_heads,
        feed_forward_proj="gated-gelu",  # Flan-T5's (T5 v1.1) feed-forward
        dropout_rate=0.0,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
        # Tied, T5 scales the decoder output by d_model**-0.5 before the vocabulary projection; untied and random, the
        # logits have std ~sqrt(d_model) and the summed log-prob policy starts saturated (probabilities 1e-19 vs 1).
        tie_word_embeddings=True,
    )
    torch.manual_seed(spec.seed)
    model = T5ForConditionalGeneration(config)
    log.info("Building a random tiny T5 in %s", out_dir)
    return save_atomically(model, tokenizer, out_dir, {"recipe": "tiny_t5", **asdict(spec)})
