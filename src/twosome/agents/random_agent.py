"""Uniformly random over the valid actions: the floor every agent is compared with."""

from __future__ import annotations

import torch

from twosome.agents.base import EvaluationOnly, masked_categorical
from twosome.agents.observation import ObsBatch


class UniformRandomAgent(EvaluationOnly):
    def distribution(self, obs: ObsBatch):
        return masked_categorical(torch.zeros(obs.action_mask.shape), obs.action_mask)
