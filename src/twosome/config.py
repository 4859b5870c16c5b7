"""What the configuration needs before anything heavy is imported: OmegaConf resolvers used by conf/ (registered on
import of the ``twosome`` package). No torch, Lightning or transformers here: `src/run.py --help` and config errors
must stay fast."""

from __future__ import annotations

from omegaconf import OmegaConf

GPU_ACCELERATORS = ("gpu", "cuda", "auto")  # "auto" may land on a GPU: ask for the devices


def gpus_per_node(accelerator: str, devices) -> int | None:
    """GPUs a SLURM job asks for per node: ``trainer.devices`` for GPU trainers; None (no ``--gpus-per-node`` line at
    all) for CPU ones, which a partition without GPUs would refuse."""
    return int(devices) if accelerator in GPU_ACCELERATORS and isinstance(devices, int) else None


def register_resolvers() -> None:
    if not OmegaConf.has_resolver("twosome.gpus_per_node"):
        OmegaConf.register_new_resolver("twosome.gpus_per_node", gpus_per_node)


register_resolvers()
