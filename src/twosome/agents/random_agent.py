"""Uniformly random over the valid actions: the floor every agent is compared with."""

from __future__ import annotations

import torch

from twosome.agents.base import ActorCritic, masked_categorical
from twosome.agents.observation import ObsBatch


class UniformRandomAgent(ActorCritic):
    def distribution(self, obs: ObsBatch):
        return masked_categorical(torch.zeros(obs.action_mask.shape), obs.action_mask)

    def value_features(self, obs: ObsBatch) -> torch.Tensor:
        return torch.zeros(len(obs), 1)

    def value(self, features: torch.Tensor) -> torch.Tensor:
        return features[:, 0]

    def policy_parameters(self):
        return []

    def value_parameters(self):
        return []

    def save(self, directory, state_dict=None) -> None:
        """Nothing to save."""
