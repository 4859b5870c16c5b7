"""Uniformly random over the valid actions: the floor every agent is compared with."""

from __future__ import annotations

import torch

from twosome.agents.base import ActorCritic, masked_categorical
from twosome.agents.observation import ObsBatch


class UniformRandomAgent(ActorCritic):
    def distribution(self, obs: ObsBatch):
        return masked_categorical(torch.zeros(obs.action_mask.shape), obs.action_mask)

    def value(self, obs: ObsBatch) -> torch.Tensor:
        return torch.zeros(len(obs))

    def policy_parameters(self):
        return []

    def value_parameters(self):
        return []
