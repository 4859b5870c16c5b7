"""The contract between a run and a learning algorithm: build the optimizers, then turn rollouts into updates.

An algorithm knows the agent contract and its own settings; it knows nothing of Lightning, checkpoints or
environments. The run (``training/rl_module.py``) collects the rollout and hands over what the update needs from
the training loop in an ``UpdateContext``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import torch

from twosome.rl.rollout import Rollout


class NonFiniteLossError(FloatingPointError):
    """A loss or gradient norm became NaN/inf: training stops before the optimizer step that would spread it."""


def check_finite(value: torch.Tensor, name: str) -> None:
    if not torch.isfinite(value).all():
        shown = value.item() if value.numel() == 1 else value
        raise NonFiniteLossError(f"{name} is {shown}")


@dataclass
class UpdateContext:
    """What an update borrows from the training loop: the optimizers and schedulers the algorithm configured (as
    the loop wraps them), the backward pass to use (mixed precision and FSDP hook into it), and the device."""

    optimizers: Sequence
    schedulers: Sequence
    backward: Callable[[torch.Tensor], None]
    device: torch.device

    def __post_init__(self) -> None:
        # Lightning hands a one-optimizer algorithm a bare optimizer (and None without schedulers): always lists
        self.optimizers, self.schedulers = as_list(self.optimizers), as_list(self.schedulers)


def as_list(items) -> list:
    if items is None:
        return []
    return list(items) if isinstance(items, (list, tuple)) else [items]


class Algorithm(Protocol):
    """What it needs of the agent and the config (a critic's values, a normalization, an agent class) is declared
    once, where its settings are registered (rl/settings.py, ``register``), and read from there by the run."""

    restarts: bool  # episode groups: each rollout restarts the environments, groups of group_size from one seeded
    # state (False: one continuous stream of episodes across rollouts, as PPO's)
    group_size: int | None  # with restarts: the environments per group (None: all of them, one group)

    def configure_optimizers(self, total_updates: int) -> tuple[list, list]:
        """(optimizers, lr schedulers), in the order ``update`` receives them."""

    def update(self, rollout: Rollout, ctx: UpdateContext) -> dict[str, float]:
        """One update from ``rollout``; returns metrics named as in the literature (``losses/...``,
        ``charts/...``)."""

    # Optional: ``nothing_trained(metrics: pandas.DataFrame) -> str | None``, why a finished run's updates (the rows of
    # its metrics) trained on no decision, or None. An algorithm that can train on nothing and still end (GiGPO,
    # where no episode ends inside a rollout) defines it; the run then ends "failed" with that reason.
