"""What a rollout hands to an algorithm: T decisions of N environments, stored as tensors (T, N)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from twosome.agents.observation import ObsBatch


@dataclass
class Rollout:
    """``obs[t]`` is what the agent saw at decision t; ``discounts[t]`` is gamma ** (primitive steps of decision t);
    ``next_values[t]`` is V of the state after decision t (0 at termination, V(final observation) at truncation);
    ``tokens[t]`` (agents that write their actions: ``capabilities.Writes``) the written tokens, (T, N, K), -1 pads;
    ``episode_starts[t]`` marks decisions that are the first of their episode (critic-free methods group episodes
    by where they start; an episode begun in an earlier rollout has no start here).
    """

    obs: list[ObsBatch]
    actions: torch.Tensor
    logprobs: torch.Tensor
    values: torch.Tensor
    rewards: torch.Tensor
    discounts: torch.Tensor
    episode_ends: torch.Tensor
    next_values: torch.Tensor
    tokens: torch.Tensor | None = None
    episode_starts: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.actions.numel()

    def flat_obs(self) -> ObsBatch:
        """All T*N observations in one batch, time-major (row t*N + i is environment i at decision t)."""
        return ObsBatch.concat(self.obs)

    def choices(self) -> torch.Tensor:
        """What the policy chose at each of the T*N decisions, time-major: the written tokens (T*N, K) where the
        agent writes its actions, else the action indices (T*N,)."""
        if self.tokens is not None:
            return self.tokens.reshape(-1, self.tokens.shape[-1])
        return self.actions.reshape(-1)
