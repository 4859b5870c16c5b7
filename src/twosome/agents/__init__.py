"""Policies PPO can train: each turns a batch of observations into a distribution over actions and a value."""

from twosome.agents.base import ActorCritic
from twosome.agents.observation import ObsBatch

__all__ = ["ActorCritic", "ObsBatch"]
