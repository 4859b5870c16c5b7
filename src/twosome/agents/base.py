"""The contract between PPO and a policy: one PPO, several policies (TWOSOME, PPO from scratch, SayCan, ...)."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.distributions import Categorical

from twosome.agents.observation import ObsBatch


def masked_categorical(logits: torch.Tensor, mask: torch.Tensor) -> Categorical:
    """A categorical over the valid actions only: invalid ones get the most negative finite logit."""
    logits = logits.masked_fill(~mask.to(logits.device), torch.finfo(logits.dtype).min)
    return Categorical(logits=logits)


class ActorCritic(nn.Module):
    """Interface PPO trains. The critic reads ``value_features``, which PPO may cache across an update when
    ``features_are_fixed`` (the features come from frozen weights), so the value phase costs no LM forward."""

    features_are_fixed: bool = True

    #: Set for data-parallel training: every call makes the same model forwards whatever the data (no memoization,
    #: no caches), because each forward of a sharded model is a collective all ranks must join.
    lockstep: bool = False

    def shard(self, mesh) -> int:
        """Shard the agent's modules for FSDP over ``mesh``; return the number of units. Default: one unit per
        child module that has parameters (enough for small networks)."""
        from twosome.training.fsdp import shard_modules

        return shard_modules([m for m in self.children() if any(True for _ in m.parameters())], mesh)

    def cache_state(self) -> dict:
        """Caches of values computed from frozen weights. A checkpoint keeps them: recomputed in other batches
        they could differ in the last bits, and a resumed run would drift from an uninterrupted one."""
        return {}

    def load_cache_state(self, state: dict) -> None:
        pass

    def frozen_policy(self):
        """Context in which the weights do not change (rollouts, evaluation): agents may memoize inside it."""
        return nullcontext()

    def distribution(self, obs: ObsBatch) -> Categorical:
        raise NotImplementedError

    def value_features(self, obs: ObsBatch) -> torch.Tensor:
        raise NotImplementedError

    def value(self, features: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def policy_parameters(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def value_parameters(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        """Write the trained weights. ``state_dict``: the agent's weights gathered from every rank (FSDP, where
        each rank holds a shard); by default the module's own."""
        raise NotImplementedError

    def part(self, name: str, state_dict: dict | None) -> dict:
        """The state dict of child ``name``, from ``state_dict`` when given (keys prefixed ``name.``)."""
        if state_dict is None:
            return getattr(self, name).state_dict()
        return {k.removeprefix(name + "."): v for k, v in state_dict.items() if k.startswith(name + ".")}


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, bias: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)
