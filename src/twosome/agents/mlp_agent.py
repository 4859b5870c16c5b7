"""PPO from scratch: cleanrl's MLP actor and critic on the symbolic observation vector, with invalid-action masking.

It reads no text, so it cannot transfer to a task whose objects or vector layout differ: the generalization table
reports that instead of running it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.distributions import Categorical

from twosome.agents.base import ActorCritic, masked_categorical, require_vectors
from twosome.agents.capabilities import child_state_dict
from twosome.agents.observation import ObsBatch


def layer_init(layer: nn.Linear, std: float = float(np.sqrt(2)), bias_const: float = 0.0) -> nn.Linear:
    """cleanrl's orthogonal initialisation (small std on the policy output keeps the first policy near uniform)."""
    nn.init.orthogonal_(layer.weight, std)
    nn.init.constant_(layer.bias, bias_const)
    return layer


def cleanrl_mlp(inputs: int, hidden: list[int], outputs: int, out_std: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    for a, b in zip([inputs, *hidden[:-1]], hidden):
        layers += [layer_init(nn.Linear(a, b)), nn.Tanh()]
    layers.append(layer_init(nn.Linear(hidden[-1], outputs), std=out_std))
    return nn.Sequential(*layers)


class MLPAgent(ActorCritic):
    """Separate actor and critic MLPs (tanh), as cleanrl's ``ppo.py``."""

    def __init__(self, obs_dim: int, n_actions: int, hidden: tuple[int, ...] = (64, 64)):
        super().__init__()
        if obs_dim < 1 or n_actions < 1 or not hidden:
            raise ValueError(
                f"need obs_dim >= 1, n_actions >= 1 and a hidden size; got {obs_dim}, {n_actions}, {hidden}"
            )
        self.obs_dim, self.n_actions = int(obs_dim), int(n_actions)
        self.actor = cleanrl_mlp(self.obs_dim, list(hidden), self.n_actions, out_std=0.01)
        self.critic = cleanrl_mlp(self.obs_dim, list(hidden), 1, out_std=1.0)

    def _vectors(self, obs: ObsBatch) -> torch.Tensor:
        return require_vectors(obs, "PPO from scratch", self.obs_dim).to(next(self.parameters()).device)

    def distribution(self, obs: ObsBatch) -> Categorical:
        return masked_categorical(self.actor(self._vectors(obs)), obs.action_mask)

    def value(self, obs: ObsBatch) -> torch.Tensor:
        return self.critic(self._vectors(obs)).squeeze(-1)

    def policy_parameters(self) -> list[nn.Parameter]:
        return list(self.actor.parameters())

    def value_parameters(self) -> list[nn.Parameter]:
        return list(self.critic.parameters())

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        state = {name: child_state_dict(self, name, state_dict) for name in ("actor", "critic")}
        torch.save(state, Path(directory) / "mlp_agent.pt")

    def load(self, directory: str | Path) -> None:
        state = torch.load(Path(directory) / "mlp_agent.pt", weights_only=True)
        self.actor.load_state_dict(state["actor"])
        self.critic.load_state_dict(state["critic"])
