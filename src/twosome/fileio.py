"""Files written atomically: to a temporary file in the same directory, flushed, then renamed over the old one, so
a kill at any instant leaves the previous version or the new one. Light (no torch): the sweep summary and the config
checks use it before anything heavy is imported."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
from collections.abc import Callable
from pathlib import Path


def current_umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def apply_umask(directory: str | Path) -> None:
    """Give ``directory`` and everything below it the modes the user's umask asks for: mkdtemp and safetensors
    create owner-only entries (0700, 0600) that colleagues on a shared cluster could not read."""
    umask = current_umask()
    directory = Path(directory)
    for item in [directory, *directory.rglob("*")]:
        item.chmod((0o777 if item.is_dir() else 0o666) & ~umask)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes 0600; a plain open() would respect the umask
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def input_file(path: str | Path, name: str, made_by: str) -> Path:
    """The file an analysis script reads: ``path`` itself, or ``path/name`` when given its directory; a missing,
    misplaced or empty file ends the script with a message saying what to give it instead of a traceback."""
    path = Path(path)
    if path.is_dir():
        if not (path / name).is_file():
            raise SystemExit(f"{path} is a directory without {name}: give the {name} that {made_by} writes")
        path = path / name
    if not path.exists():
        raise SystemExit(f"{path} does not exist: {made_by} writes it")
    if path.stat().st_size == 0:
        raise SystemExit(f"{path} is empty: did {made_by} fail before writing it?")
    return path


class DirectoryInUse(RuntimeError):
    """Another process writes in this directory."""


@contextlib.contextmanager
def flock(path: str | Path, stamp: str, on_busy: Callable[[str], None] | None = None):
    """Hold an exclusive ``fcntl.flock`` on ``path`` and write ``stamp`` (who holds it) into it. When another process
    holds it, ``on_busy(its stamp)`` either raises (refuse at once) or returns, and then this waits for the lock;
    without ``on_busy`` this waits. The kernel releases the lock when its process dies, even by SIGKILL: a stale
    lock never blocks."""
    with open(path, "a+") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            if on_busy is not None:
                on_busy(f.read().strip() or "unknown")
            fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        f.truncate()
        f.write(f"{stamp}\n")
        f.flush()
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextlib.contextmanager
def directory_lock(directory: str | Path, way_out: str):
    """Hold ``<directory>/.lock`` while this process writes there, so that a second command on the same directory
    refuses at once (naming the holder's PID and ``way_out``) instead of interleaving its writes with ours."""
    lock = Path(directory) / ".lock"

    def refuse(holder: str) -> None:
        raise DirectoryInUse(f"{directory} is in use by process {holder} (it holds {lock}): {way_out}")

    with flock(lock, str(os.getpid()), on_busy=refuse):
        yield


def damaged_files(paths: list[Path]) -> list[str]:
    """The JSON and CSV files under ``paths`` that do not parse, each with what its parser said."""
    import pandas as pd  # only here: the light callers of this module need not import it

    out = []
    for top in paths:
        for path in sorted([top] if top.is_file() else top.rglob("*")):
            try:
                if path.suffix == ".json":
                    json.loads(path.read_text())
                elif path.suffix == ".csv":
                    pd.read_csv(path)
            except Exception as err:
                out.append(f"{path} ({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''})")
    return out
