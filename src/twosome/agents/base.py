"""The contract between an algorithm and a policy: any algorithm (PPO, POAD), several policies (TWOSOME, PPO from
scratch, SayCan, an LM writing its action).

An agent turns a batch of observations into a distribution over the valid actions and a state value, and says
which parameters each optimizer owns. Everything else (memoization, saving, FSDP units) is an optional capability
(``agents/capabilities.py``).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.distributions import Categorical

from twosome.agents.observation import ObsBatch


def masked_categorical(logits: torch.Tensor, mask: torch.Tensor) -> Categorical:
    """A categorical over the valid actions only: invalid ones get the most negative finite logit."""
    logits = logits.masked_fill(~mask.to(logits.device), torch.finfo(logits.dtype).min)
    return Categorical(logits=logits)


class ActorCritic(nn.Module):
    """What an algorithm trains: a policy and, for an algorithm that reads values (``needs_values`` where it is
    registered, rl/settings.py), a critic. An agent without one leaves ``value`` and ``value_parameters`` as they are
    here."""

    def distribution(self, obs: ObsBatch) -> Categorical:
        """pi(. | s) over the action indices of ``obs`` (invalid ones have probability 0)."""
        raise NotImplementedError

    def value(self, obs: ObsBatch) -> torch.Tensor:
        """V(s), shape (N,)."""
        raise NotImplementedError(f"{type(self).__name__} has no critic: train it with an algorithm that needs none")

    def policy_parameters(self) -> list[nn.Parameter]:
        raise NotImplementedError

    def value_parameters(self) -> list[nn.Parameter]:
        raise NotImplementedError


class EvaluationOnly(ActorCritic):
    """A policy with nothing to train (uniform random, an LM writing its actions): no critic, no parameters."""

    def value(self, obs: ObsBatch) -> torch.Tensor:
        return torch.zeros(len(obs))

    def policy_parameters(self) -> list[nn.Parameter]:
        return []

    def value_parameters(self) -> list[nn.Parameter]:
        return []


def mlp(sizes: list[int], activation: type[nn.Module] = nn.ReLU, bias: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b, bias=bias))
        if i < len(sizes) - 2:
            layers.append(activation())
    return nn.Sequential(*layers)


def require_vectors(obs: ObsBatch, agent: str, dim: int) -> torch.Tensor:
    """The symbolic observation, checked: agents that read vectors fail clearly on text-only environments."""
    if obs.vectors is None:
        raise ValueError(
            f"{agent} reads the symbolic observation vector, and this environment provides none (text only): "
            "use an agent that reads text (src/run.py names them)"
        )
    x = obs.vectors.float()
    if x.shape[-1] != dim:
        raise ValueError(
            f"{agent} reads {dim}-dim observations, got {x.shape[-1]}-dim ones: it cannot be run on a task with "
            "another observation layout"
        )
    return x
