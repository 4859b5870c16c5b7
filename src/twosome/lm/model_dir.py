"""A model directory on disk: built under a lock without leaving debris behind, and checked before transformers reads
it (whose own errors for a damaged directory name neither the file nor the remedy). Light (no torch): the config
check runs these before the run directory is written.

Why a lock and not "remove the temporary folders whose owner is dead": a builder writes into sibling temporary
folders (``<name>.tmp-*``) and renames the finished one into place, so a kill (SIGKILL, a node lost) leaves them
behind: hundreds of MB per kill for SmolLM2, counted against the next conversion's free-space check. Whoever
removes them must know that no live process still writes there. ``build_lock`` holds ``.<name>.lock`` beside the
output (``fcntl.flock``) for the whole build; the kernel drops the lock when its holder dies, even by SIGKILL. Every
writer of ``<name>.tmp-*`` holds the lock, so the holder may remove every such folder it finds: they belong to dead
builders. A second build of the same output meanwhile waits, then finds the model finished and loads it, instead
of doing the same work again and losing the rename. Owner PIDs written into the folders would be unsafe across the
nodes of a cluster sharing the directory (a PID means nothing on another node) and once a PID is reused; ages would
guess at how long a build may take.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
from pathlib import Path

from twosome.fileio import flock

log = logging.getLogger(__name__)

_held = threading.local()  # the outputs this thread holds build locks on (a build nests: convert, then save)


def lock_file(out: str | os.PathLike) -> Path:
    out = Path(out)
    return out.parent / f".{out.name}.lock"


def temp_dirs(out: str | os.PathLike) -> list[Path]:
    """The temporary folders of builds of ``out`` (``<name>.tmp-*`` beside it)."""
    out = Path(out)
    return sorted(p for p in out.parent.glob(f"{out.name}.tmp-*") if p.is_dir()) if out.parent.is_dir() else []


def remove_debris(paths: list[Path], why: str) -> None:
    for path in paths:
        log.info("Removing %s (%s)", path, why)
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def build_lock(out: str | os.PathLike):
    """Hold the build lock of ``out`` (waiting for another builder to finish), and remove the temporary folders that
    killed builds of ``out`` left (see the module's docstring). Re-entrant within a thread."""
    out = Path(out).absolute()
    held = _held.__dict__.setdefault("paths", set())
    if out in held:
        yield
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    path = lock_file(out)

    def wait(holder: str) -> None:
        log.info("Waiting for process %s, which builds %s (it holds %s)", holder, out, path)

    with flock(path, f"{os.uname().nodename}:{os.getpid()}", on_busy=wait):
        held.add(out)
        try:
            remove_debris(temp_dirs(out), f"left by a build of {out.name} that was killed")
            yield
        finally:
            held.discard(out)


# --- checks of a built directory -----------------------------------------------------------------------------------
# Files a Hugging Face tokenizer is loaded from; tokenizer_config.json alone holds no vocabulary.
VOCABULARY_FILES = (
    "tokenizer.json",
    "tokenizer.model",
    "spiece.model",
    "sentencepiece.bpe.model",
    "vocab.json",
    "vocab.txt",
)
TOKENIZER_FILES = (*VOCABULARY_FILES, "tokenizer_config.json")


class ModelFilesError(RuntimeError):
    """A model directory with a missing or damaged file; the message names it and says what to do."""


def safetensors_problem(file: Path) -> str | None:
    """What is wrong with a ``.safetensors`` file, read from its header and size alone (a truncated copy or a
    killed download; safetensors' own error, "incomplete metadata, file not fully covered", names no file)."""
    size = file.stat().st_size
    with open(file, "rb") as f:
        head = f.read(8)
        length = int.from_bytes(head, "little") if len(head) == 8 else None
        if length is None or 8 + length > size:
            return f"{file} is truncated ({size} bytes, less than its own header)"
        try:
            header = json.loads(f.read(length))
            end = max((t["data_offsets"][1] for k, t in header.items() if k != "__metadata__"), default=0)
        except (ValueError, UnicodeDecodeError, AttributeError, KeyError, TypeError, IndexError):
            return f"{file} is not a readable safetensors file (its header is damaged)"
    if size < 8 + length + end:
        return f"{file} is truncated ({size} bytes; its header says {8 + length + end})"
    return None


def recipe(model_dir: Path) -> str | None:
    """The suite's recipe that built ``model_dir`` (twosome_spec.json), or None for a model from elsewhere."""
    try:
        return json.loads((model_dir / "twosome_spec.json").read_text()).get("recipe")
    except (OSError, ValueError, AttributeError):
        return None


def model_dir_problem(
    path: str | os.PathLike, build: str | None = None, keys: tuple[str, str] = ("model.path", "model.build")
) -> str | None:
    """What is missing or damaged in the model directory ``path`` and what to do, or None (also when ``path`` holds
    no config.json: not built yet, or a hub id). A folder the suite built is to be deleted, and the next run
    rebuilds it (``build``: its recipe); a user's folder has its file named and what is wrong with it. ``keys``:
    the config keys of the path and the recipe, for the messages."""
    path = Path(path)
    if not (path / "config.json").is_file():
        return None
    built = recipe(path)
    problems = []
    if built is not None:  # every recipe saves a fast tokenizer, and all but random_init the weights
        expected = ["tokenizer.json"] + (["model.safetensors"] if built != "random_init" else [])
        problems += [f"{path / name} is missing" for name in expected if not (path / name).is_file()]
    elif not any((path / name).is_file() for name in TOKENIZER_FILES):
        return (
            f"{keys[0]}={str(path)!r} holds a model config but no tokenizer (none of {', '.join(TOKENIZER_FILES)}): "
            "save the tokenizer beside the model (tokenizer.save_pretrained(path))"
        )
    problems += [p for file in sorted(path.glob("*.safetensors")) if (p := safetensors_problem(file))]
    if not problems:
        return None
    if built is not None and build is not None:
        todo = f"delete the folder {path} and run again: {keys[1]}={build} builds it afresh"
    elif built is not None:
        todo = f"the suite built this folder (recipe {built}): delete it and build it again ({keys[1]}=...)"
    else:
        todo = f"copy or save the model in {keys[0]} again"
    return f"{'; '.join(problems)}: {todo}"


def check_model_dir(path: str | os.PathLike, build: str | None = None) -> None:
    problem = model_dir_problem(path, build)
    if problem:
        raise ModelFilesError(problem)
