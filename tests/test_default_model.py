"""The embedded default model: its recipe is deterministic and learns, and the shipped weights load offline."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import torch

from twosome.lm.loading import load_lm
from twosome.lm.pretrain import PretrainSpec, build_household_llama
from twosome.lm.tiny import TinyLlamaSpec, build_random_twin

SHIPPED = Path(__file__).resolve().parent.parent / "models" / "tiny-household"
SMALL = PretrainSpec(
    arch=TinyLlamaSpec(
        vocab_size=400,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
    ),
    train_words=30_000,
    heldout_words=3_000,
    tokenizer_words=20_000,
    seq_len=32,
    batch_size=16,
    max_steps=30,
    warmup_steps=5,
    lr=1e-2,
)


def test_pretraining_is_deterministic_reduces_loss_and_prints_no_lightning_notes(tmp_path, caplog, monkeypatch):
    """Building the default on first use prints no "GPU available: False" (a run's Trainer is quieted the same way)."""
    notes = logging.getLogger("pytorch_lightning.utilities.rank_zero")
    monkeypatch.setattr(notes, "level", logging.NOTSET)  # as in a fresh process, before any Trainer was built
    caplog.set_level(logging.INFO)
    a = build_household_llama(tmp_path / "a", SMALL, progress=False)
    b = build_household_llama(tmp_path / "b", SMALL, progress=False)
    assert not [r.getMessage() for r in caplog.records if "available" in r.getMessage()]
    ma, _ = load_lm(str(a))
    mb, _ = load_lm(str(b))
    for (name, pa), pb in zip(ma.state_dict().items(), mb.state_dict().values()):
        assert torch.equal(pa, pb), name
    meta = json.loads((a / "twosome_spec.json").read_text())
    vocab = meta["spec"]["arch"]["vocab_size"]
    assert meta["heldout_perplexity"] < 0.5 * vocab  # far better than uniform over the vocabulary


def test_shipped_default_loads_offline_and_its_random_twin_differs(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    model, tokenizer = load_lm(str(SHIPPED), "household_llama")
    meta = json.loads((SHIPPED / "twosome_spec.json").read_text())
    assert meta["recipe"] == "household_llama" and meta["heldout_perplexity"] < 10
    assert sum(p.numel() for p in model.parameters()) == meta["parameters"]
    twin_dir = build_random_twin(SHIPPED, tmp_path / "twin")
    twin, twin_tok = load_lm(str(twin_dir))
    assert twin.config.to_dict()["hidden_size"] == model.config.hidden_size
    assert twin_tok("pick up the tomato")["input_ids"] == tokenizer("pick up the tomato")["input_ids"]
    assert not torch.equal(twin.model.layers[0].self_attn.q_proj.weight, model.model.layers[0].self_attn.q_proj.weight)


def test_a_run_is_the_same_whether_its_model_had_to_be_built_first(tmp_path):
    """Building a model draws from the random generators; a run seeds them before it loads its model, so a first run
    on a new machine (which builds it) once trained other weights than the same command afterwards."""
    import random

    import numpy as np

    from twosome.lm.loading import ensure_model_dir

    def seeded_draws(before=lambda: None):
        random.seed(0), np.random.seed(0), torch.manual_seed(0)  # noqa: NPY002 (the generators runs seed)
        before()
        return random.random(), float(np.random.rand()), float(torch.rand(1))  # noqa: NPY002

    built = seeded_draws(lambda: ensure_model_dir(str(tmp_path / "m"), "tiny_llama"))
    assert (tmp_path / "m" / "config.json").is_file() and built == seeded_draws()
