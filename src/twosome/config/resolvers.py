"""The OmegaConf resolvers conf/ uses (``${twosome.<name>:...}``), registered on import of the ``twosome`` package,
and the names they compute. No torch here."""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import OmegaConf

GPU_ACCELERATORS = ("gpu", "cuda", "auto")  # "auto" may land on a GPU: ask for the devices


def gpus_per_node(accelerator: str, devices) -> int | None:
    """GPUs a SLURM job asks for per node: ``trainer.devices`` for GPU trainers; None (no ``--gpus-per-node`` line at
    all) for CPU ones, which a partition without GPUs would refuse."""
    return int(devices) if accelerator in GPU_ACCELERATORS and isinstance(devices, int) else None


CONF_DIR = Path(__file__).resolve().parents[3] / "conf"


def env_tasks() -> str:
    """For ``--help``: each environment's ``env.task`` choices (conf/env/*.yaml), which Hydra's group list omits."""
    lines = []
    for path in sorted(CONF_DIR.glob("env/*.yaml")):
        tasks = OmegaConf.load(path).get("tasks")
        if tasks:
            lines.append(f"env={path.stem}: env.task=" + "|".join(tasks))
    return "\n".join(lines)


def model_name(path: str) -> str:
    """A model's name for run names and legends: its directory's name (or a hub id's last part), not its path."""
    return Path(str(path).rstrip("/")).name or str(path)


def wording_tag(wording: str) -> str:
    """The run name's mark of a non-canonical wording (``-random``, ``-shuffled``, ``-<paraphrase>``): a run trained
    on a paraphrase is another run than the canonical one, in its own directory."""
    return "" if str(wording) == "canonical" else f"-{wording}"


def label_tag(label) -> str:
    """The run name's mark of an algorithm other than the default (``algo.label``: ``-gigpo``, ``-poad``; none for
    PPO), whatever the agent: its runs are other runs, in their own directories."""
    return "" if label is None or str(label) == "" else f"-{label}"


def process_id() -> int:
    """This process's id: Hydra's records of a command go to ``.hydra-pending-<pid>`` (twosome.run_dir)."""
    return os.getpid()


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("twosome.pid"):
        OmegaConf.register_new_resolver("twosome.pid", process_id)
    if not OmegaConf.has_resolver("twosome.label_tag"):
        OmegaConf.register_new_resolver("twosome.label_tag", label_tag)
    if not OmegaConf.has_resolver("twosome.wording_tag"):
        OmegaConf.register_new_resolver("twosome.wording_tag", wording_tag)
    if not OmegaConf.has_resolver("twosome.gpus_per_node"):
        OmegaConf.register_new_resolver("twosome.gpus_per_node", gpus_per_node)
    if not OmegaConf.has_resolver("twosome.model_name"):
        OmegaConf.register_new_resolver("twosome.model_name", model_name)
    if not OmegaConf.has_resolver("twosome.env_tasks"):
        OmegaConf.register_new_resolver("twosome.env_tasks", env_tasks)
