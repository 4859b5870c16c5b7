"""Generalized Advantage Estimation with per-decision discounts (macro actions) and truncation bootstrapping."""

from __future__ import annotations

import torch


def compute_gae(
    rewards: torch.Tensor,
    values: torch.Tensor,
    next_values: torch.Tensor,
    episode_ends: torch.Tensor,
    discounts: torch.Tensor,
    gae_lambda: float,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(advantages, returns)``, all tensors shaped (T, N).

    - ``discounts[t]`` is gamma ** (primitive steps of decision t): a macro action that took k primitive steps
      discounts what follows by gamma^k, as TWOSOME does.
    - ``next_values[t]`` is the value of the state reached after decision t: V(s_{t+1}) inside an episode,
      V(final observation) when the episode was truncated (time limit: the future is not zero), and 0 when it
      terminated.
    - ``episode_ends[t]`` (terminated or truncated) cuts the lambda-return so no credit leaks into the next episode.
    """
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        delta = rewards[t] + discounts[t] * next_values[t] - values[t]
        last = delta + discounts[t] * gae_lambda * (1.0 - episode_ends[t]) * last
        advantages[t] = last
    return advantages, advantages + values


def rollout_gae(rollout, gae_lambda: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``compute_gae`` on a ``Rollout``'s decisions and values."""
    return compute_gae(
        rollout.rewards, rollout.values, rollout.next_values, rollout.episode_ends, rollout.discounts, gae_lambda
    )
