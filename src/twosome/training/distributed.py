"""What data-parallel PPO needs from torch.distributed, and nothing when a run has one process.

Every rank collects its own rollout. Quantities that are statistics of the global batch (advantage moments, the KL
that stops an update early, logged metrics, finished episodes) are reduced here, so each rank takes the same
decisions and the logged numbers describe all ranks' data, not rank 0's.
"""

from __future__ import annotations

import torch
import torch.distributed as dist

from twosome.rl import ppo


def is_distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    return dist.get_world_size() if is_distributed() else 1


def rank() -> int:
    """This process's global rank; before the process group exists, the rank its launcher gave it (torchrun,
    Lightning's launcher and SLURM set it in the environment), so files are written by rank 0 only."""
    if is_distributed():
        return dist.get_rank()
    from lightning_fabric.utilities.rank_zero import _get_rank

    return _get_rank() or 0


def all_sum(values: torch.Tensor) -> torch.Tensor:
    """Elementwise sum over ranks (float64 on CPU, so that sums of moments stay exact enough)."""
    if not is_distributed():
        return values
    out = values.detach().to("cpu", torch.float64).clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out.to(values.device, values.dtype)


def all_mean(values: dict[str, float]) -> dict[str, float]:
    """Mean over ranks of per-rank scalars; every rank must pass the same keys."""
    if not is_distributed() or not values:
        return values
    keys = sorted(values)
    summed = all_sum(torch.tensor([values[k] for k in keys], dtype=torch.float64))
    return {k: float(v) / world_size() for k, v in zip(keys, summed.tolist())}


def all_true(flag: bool) -> bool:
    """True when ``flag`` holds on every rank: loops with data-dependent lengths end together."""
    if not is_distributed():
        return flag
    return bool(all_sum(torch.tensor([float(not flag)])).item() == 0)


def any_true(flag: bool) -> bool:
    """True when ``flag`` holds on some rank (a signal one rank received: all must act on it together)."""
    if not is_distributed():
        return flag
    return bool(all_sum(torch.tensor([float(flag)])).item() > 0)


def gather_records(records: list[dict]) -> list[dict]:
    """Every rank's finished-episode records, rank 0's first."""
    if not is_distributed():
        return records
    gathered: list = [None] * world_size()
    dist.all_gather_object(gathered, records)
    return [r for part in gathered for r in part]


def normalize_advantages(adv: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit std over the global minibatch (every rank's slice), as one process with all data would."""
    if not is_distributed():
        return ppo.normalize_advantages(adv)
    moments = all_sum(torch.stack([adv.new_tensor(float(adv.numel())), adv.sum(), (adv * adv).sum()]).double())
    n, total, squares = moments.tolist()
    if n < 2:
        return adv
    mean = total / n
    var = max(squares - n * mean * mean, 0.0) / (n - 1)  # unbiased, as torch.std
    return (adv - mean) / (var**0.5 + 1e-8)
