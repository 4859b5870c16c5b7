"""The layout of a run directory, written down once: what a training run leaves there and where resumption,
evaluation, retention, analysis and the campaign scripts read it. Light (no torch, no other twosome package), so
that the config checks and the analysis scripts can use it.

    <run>/config.yaml        the resolved config (twosome.config.load_run_config reads it, old runs included)
    <run>/status.json        running | preempted | interrupted | failed (and why) | finished
    <run>/summary.json       the final evaluation, the weights' digest and what was saved (written last)
    <run>/metrics.csv        one row per update and evaluation (pandas reads it)
    <run>/adapter/           the peft adapter (adapter_config.json, adapter_model.safetensors)
    <run>/critic_head.pt     the critic's head
    <run>/checkpoints/last.ckpt   the run state a rerun resumes from
    <run>/tensorboard/       TensorBoard events
    <run>/run.log            Hydra's job log
    <run>/<other weights>    agents without an adapter save their own files (summary.json's ``saved`` lists them)
"""

from __future__ import annotations

import json
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
TENSORBOARD = "tensorboard"
LOG = "run.log"
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
    def tensorboard(self) -> Path:
        return self.root / TENSORBOARD

    @property
    def staging(self) -> Path:
        return self.root / STAGING

    def has_previous_run(self) -> bool:
        """A config and something to continue from: a checkpoint, or the summary of a finished run."""
        return self.config.exists() and (self.checkpoint.exists() or self.summary.exists())

    def has_adapter(self) -> bool:
        return self.config.is_file() and (self.adapter / ADAPTER_CONFIG).is_file()

    def read_summary(self) -> dict:
        return json.loads(self.summary.read_text())

    def read_status(self) -> dict:
        """The status record, or {} for a directory that has none yet."""
        return json.loads(self.status.read_text()) if self.status.exists() else {}


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
