"""What a rollout hands to an algorithm: T decisions of N environments, stored as tensors (T, N)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from twosome.agents.observation import ObsBatch


@dataclass
class Rollout:
    """``obs[t]`` is what the agent saw at decision t; ``discounts[t]`` is gamma ** (primitive steps of decision t);
    ``next_values[t]`` is V of the state after decision t (0 at termination, V(final observation) at truncation)."""

    obs: list[ObsBatch]
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    discounts: torch.Tensor
    episode_ends: torch.Tensor
    next_values: torch.Tensor

    @property
    def batch_size(self) -> int:
        return self.actions.numel()

    def flat_obs(self) -> ObsBatch:
        """All T*N observations in one batch, time-major (row t*N + i is environment i at decision t)."""
        return ObsBatch.concat(self.obs)
