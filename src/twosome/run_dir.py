"""The layout of a run directory, written down once: what a training run leaves there and where resumption,
evaluation, retention, analysis and the campaign scripts read it. Light (no torch, no other twosome package), so
that the config checks and the analysis scripts can use it.

    <run>/config.yaml        the resolved config (twosome.config.load_run_config reads it, old runs included)
    <run>/status.json        running | preempted | interrupted | failed (and why) | finished
    <run>/summary.json       the final evaluation, the weights' digest, what was saved with each file's size and
                             SHA-256 (``saved_files``: a missing or truncated file is found before it is read);
                             written last
    <run>/metrics.csv        one row per update and evaluation (pandas reads it)
    <run>/adapter/           the peft adapter (adapter_config.json, adapter_model.safetensors)
    <run>/critic_head.pt     the critic's head
    <run>/checkpoints/last.ckpt   the run state a rerun resumes from
    <run>/checkpoints/previous.ckpt   a seed group member's checkpoint of the boundary before (see seed_group.py)
    <run>/checkpoints/final_evaluation.pkl   the final evaluation's progress, while it runs (a stop resumes it there)
    <run>/tensorboard/       TensorBoard events
    <run>/run.log            Hydra's job log
    <run>/<other weights>    agents without an adapter save their own files (summary.json's ``saved`` lists them)
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

CONFIG = "config.yaml"
STATUS = "status.json"
SUMMARY = "summary.json"
METRICS = "metrics.csv"
ADAPTER = "adapter"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
CRITIC_HEAD = "critic_head.pt"
CHECKPOINTS = "checkpoints"
CHECKPOINT = "last.ckpt"
PREVIOUS_CHECKPOINT = "previous.ckpt"
SAVED_EVALUATION = "final_evaluation.pkl"
TENSORBOARD = "tensorboard"
LOG = "run.log"
HYDRA_RECORDS = ".hydra"  # Hydra's config, overrides and hydra.yaml of the command that ran the run
# Where Hydra writes them (``hydra.output_subdir``), until the suite's checks accept the command: one folder per
# process (``.hydra-pending-<pid>``), so that a command refused later never writes over the records of one accepted.
HYDRA_PENDING = ".hydra-pending"
STAGING = ".saving"  # the trained weights are written here first, then moved into place

RESULTS = (SUMMARY, METRICS, ADAPTER, CHECKPOINTS, TENSORBOARD)  # what a fresh start clears
WEIGHTS = (ADAPTER, CRITIC_HEAD)  # what a trained LM agent saves (the campaign copies them back from a GPU)


@dataclass(frozen=True)
class RunDir:
    """A run directory's paths by meaning; ``RunDir(path).summary`` instead of ``path / "summary.json"``."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    @property
    def config(self) -> Path:
        return self.root / CONFIG

    @property
    def status(self) -> Path:
        return self.root / STATUS

    @property
    def summary(self) -> Path:
        return self.root / SUMMARY

    @property
    def metrics(self) -> Path:
        return self.root / METRICS

    @property
    def adapter(self) -> Path:
        return self.root / ADAPTER

    @property
    def critic_head(self) -> Path:
        return self.root / CRITIC_HEAD

    @property
    def checkpoint(self) -> Path:
        return self.root / CHECKPOINTS / CHECKPOINT

    @property
    def previous_checkpoint(self) -> Path:
        return self.root / CHECKPOINTS / PREVIOUS_CHECKPOINT

    @property
    def saved_evaluation(self) -> Path:
        return self.root / CHECKPOINTS / SAVED_EVALUATION

    @property
    def tensorboard(self) -> Path:
        return self.root / TENSORBOARD

    @property
    def staging(self) -> Path:
        return self.root / STAGING

    def has_previous_run(self) -> bool:
        """A config and something to continue from: a checkpoint, an evaluation's saved progress (an agent that
        does not train has no checkpoint), or the summary of a finished run."""
        resumable = self.checkpoint.exists() or self.saved_evaluation.exists()
        return self.config.exists() and (resumable or self.summary.exists())

    def has_adapter(self) -> bool:
        return self.config.is_file() and (self.adapter / ADAPTER_CONFIG).is_file()

    def read_summary(self) -> dict:
        return json.loads(self.summary.read_text())

    def read_status(self) -> dict:
        """The status record, or {} for a directory that has none yet."""
        return json.loads(self.status.read_text()) if self.status.exists() else {}


def weight_files(root: str | Path, names: list[str]) -> dict[str, dict]:
    """Size and SHA-256 of every file under the saved ``names`` (files or directories), by path relative to ``root``:
    recorded in the summary at save, checked before the weights are read again."""
    root, files = Path(root), {}
    for name in names:
        for path in sorted([root / name] if (root / name).is_file() else (root / name).rglob("*")):
            if path.is_file():
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                files[path.relative_to(root).as_posix()] = {"bytes": path.stat().st_size, "sha256": digest}
    return files


def damaged_weights(run: RunDir, summary: dict) -> list[str]:
    """The finished run's saved weight files that are missing or not as the run wrote them, each with what is wrong
    (empty: intact). Summaries written before ``saved_files`` was recorded: each saved name must exist, an adapter
    directory must hold its config and weights."""
    recorded = summary.get("saved_files")
    if recorded is None:
        problems = [f"{name} (missing)" for name in summary.get("saved", []) if not (run.root / name).exists()]
        if ADAPTER in summary.get("saved", []) and run.adapter.is_dir():
            for name in (ADAPTER_CONFIG, ADAPTER_WEIGHTS):
                if not (run.adapter / name).is_file() or (run.adapter / name).stat().st_size == 0:
                    problems.append(f"{ADAPTER}/{name} (missing or empty)")
        return problems
    problems = []
    for name, expected in recorded.items():
        path = run.root / name
        if not path.is_file():
            problems.append(f"{name} (missing)")
        elif path.stat().st_size != expected["bytes"]:
            problems.append(f"{name} ({path.stat().st_size} bytes, {expected['bytes']} written)")
        elif hashlib.sha256(path.read_bytes()).hexdigest() != expected["sha256"]:
            problems.append(f"{name} (its SHA-256 differs from the one written)")
    return problems


class DamagedWeights(ValueError):
    """A finished run's saved weights are missing or not as written; the message names the files and the way out."""


def check_weights(run: RunDir) -> None:
    """Refuse, naming the files, a finished run whose saved weights are missing or damaged (before reading them)."""
    if not run.summary.is_file():
        return
    problems = damaged_weights(run, run.read_summary())
    if problems:
        raise DamagedWeights(
            f"{run.root} finished, but its saved weights are missing or damaged: {'; '.join(problems)}. Rerunning "
            "its training command writes them again from its checkpoint (or reruns it if it has none)"
        )


def pending_records(run: RunDir) -> Path:
    """Where Hydra wrote this process's records of the command (conf/hydra/default.yaml: ``${twosome.pid:}``)."""
    return run.root / f"{HYDRA_PENDING}-{os.getpid()}"


def accept_hydra_records(run: RunDir) -> None:
    """The accepted command's Hydra records become the run's ``.hydra/`` (a refused command's never do). Called with
    the run's lock held: any other pending records are a refused or killed command's, and go."""
    pending = pending_records(run)
    if pending.is_dir():
        shutil.rmtree(run.root / HYDRA_RECORDS, ignore_errors=True)
        pending.replace(run.root / HYDRA_RECORDS)
    for other in run.root.glob(f"{HYDRA_PENDING}*"):
        shutil.rmtree(other, ignore_errors=True)


def drop_hydra_records(run: RunDir) -> None:
    """A refused command's Hydra records: the run's ``.hydra/`` keeps describing the command it ran with."""
    shutil.rmtree(pending_records(run), ignore_errors=True)


def finished_runs(root: str | Path) -> Iterator[RunDir]:
    """The runs under ``root`` (or ``root`` itself) that wrote a summary, in path order."""
    root = Path(root)
    summaries = [root / SUMMARY] if (root / SUMMARY).is_file() else sorted(root.rglob(SUMMARY))
    for summary in summaries:
        yield RunDir(summary.parent)


def trained_runs(root: str | Path) -> list[RunDir]:
    """The runs under ``root`` (or ``root`` itself) with a saved adapter, in path order."""
    root = Path(root)
    return [RunDir(c.parent) for c in sorted(root.rglob(CONFIG)) if RunDir(c.parent).has_adapter()]
