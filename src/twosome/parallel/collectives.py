"""What data-parallel PPO needs from torch.distributed, and nothing when a run has one process.

Every rank collects its own rollout. Quantities that are statistics of the global batch (advantage moments, the KL
that stops an update early, logged metrics, finished episodes) are reduced here, so each rank takes the same
decisions and the logged numbers describe all ranks' data, not rank 0's.
"""

from __future__ import annotations

import torch
import torch.distributed as dist


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


def gather(items: list) -> list:
    """Every rank's ``items`` (finished episodes, checkpoint states, digests) in one list, rank 0's first."""
    if not is_distributed():
        return items
    gathered: list = [None] * world_size()
    dist.all_gather_object(gathered, items)
    return [item for part in gathered for item in part]


def normalize_advantages(adv: torch.Tensor) -> torch.Tensor:
    """Zero mean, unit std over the global minibatch (every rank's slice), as one process with all data would."""
    if not is_distributed():
        return adv if adv.numel() < 2 else (adv - adv.mean()) / (adv.std() + 1e-8)
    moments = all_sum(torch.stack([adv.new_tensor(float(adv.numel())), adv.sum(), (adv * adv).sum()]).double())
    n, total, squares = moments.tolist()
    if n < 2:
        return adv
    mean = total / n
    var = max(squares - n * mean * mean, 0.0) / (n - 1)  # unbiased, as torch.std
    return (adv - mean) / (var**0.5 + 1e-8)


def _run_rank(rank: int, world: int, port: int, fn, out_dir: str) -> None:
    import os

    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=world)
    torch.set_num_threads(1)
    try:
        torch.save(fn(rank, world), f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def spawn_gloo(fn, world: int) -> list:
    """Run ``fn(rank, world)`` in ``world`` local CPU processes joined in a gloo group; return each rank's result.
    For checking and measuring distributed code on one machine (tests, benchmarks); ``fn`` must be picklable."""
    import socket
    import tempfile

    import torch.multiprocessing as mp

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as out_dir:
        mp.spawn(_run_rank, args=(world, port, fn, out_dir), nprocs=world)
        return [torch.load(f"{out_dir}/rank{r}.pt", weights_only=False) for r in range(world)]
