"""Mechanisms that keep a skewed prior exploring, composed into every action-level PPO-family update (PPO, GiGPO):
a mixture with the uniform policy over the valid actions, an entropy floor, and a KL term to the untrained policy.
What each setting means: rl.settings.ExplorationConfig; why and where each applies: docs/ALGORITHMS.md.

An LM's prior can put almost no mass on what is rewarded (and a random-init LM almost all of it on the shortest
actions), so PPO samples nothing to raise, or its policy collapses before it finds reward. Each mechanism here is
off by default and, off, leaves the update's arithmetic as it was.
"""

from __future__ import annotations

import math

import torch
from torch.distributions import Categorical

from twosome.rl.settings import ExplorationConfig

# The adapted entropy coefficient stays under the upper end (a floor that cannot be met must not blow the loss up);
# the lower end is ppo.ent_coef's when it is above it.
ENT_COEF_RANGE = (1e-6, 10.0)


def mix_with_uniform(pi: Categorical, mask: torch.Tensor, epsilon: float) -> Categorical:
    """``(1 - epsilon) pi + epsilon * uniform(valid actions)``; ``pi`` itself when epsilon is 0. Used for the
    action a rollout samples and for the new policy in the ratio, so PPO's ratio is between the probabilities the
    action had and has under the policy that acts: the update is on-policy for the mixture."""
    if not epsilon:
        return pi
    valid = mask.to(pi.probs.device).to(pi.probs.dtype)
    uniform = valid / valid.sum(-1, keepdim=True)
    return Categorical(probs=(1 - epsilon) * pi.probs + epsilon * uniform)


def entropy_fraction(pi: Categorical, mask: torch.Tensor) -> torch.Tensor:
    """The entropy of each row as a fraction of log(number of valid actions), in [0, 1]; NaN where a row has a
    single valid action (no choice to explore)."""
    n = mask.sum(-1).to(pi.probs.device).float()
    entropy = pi.entropy().float()
    return torch.where(n > 1, entropy / torch.log(n.clamp(min=2)), torch.full_like(entropy, float("nan")))


class Exploration:
    """The exploration state of one run: epsilon for the current update (from the update's index: the same after a
    resume) and the entropy coefficient, adapted after each update when a floor is set (saved in checkpoints)."""

    def __init__(self, config: ExplorationConfig | None, ent_coef: float):
        self.config = config if config is not None else ExplorationConfig()
        self.epsilon = self.config.uniform_mix
        self.base_ent_coef = ent_coef  # ppo.ent_coef: a floor adds to it, never takes it away
        self.ent_coef = ent_coef  # exactly ppo.ent_coef until a floor adapts it

    @property
    def prior_kl_coef(self) -> float:
        return self.config.prior_kl_coef

    def begin_update(self, update: int, total: int) -> None:
        """Epsilon for the 0-based ``update`` of ``total``: linear from ``uniform_mix`` to 0 at ``uniform_mix_until``
        of the run."""
        c = self.config
        if c.uniform_mix:
            self.epsilon = c.uniform_mix * max(0.0, 1.0 - update / (c.uniform_mix_until * total))

    def behaviour(self, pi: Categorical, mask: torch.Tensor) -> Categorical:
        """The policy that acts and trains: pi, mixed with the uniform one when epsilon > 0."""
        return mix_with_uniform(pi, mask, self.epsilon)

    def adapt(self, fraction: float) -> None:
        """After an update whose policy had mean entropy ``fraction`` (of log n): raise the coefficient below the
        floor, lower it above (SAC's temperature rule, on the log of the coefficient), but never under
        ``ppo.ent_coef``: above its floor the policy trains as plain PPO would, its entropy bonus intact (a
        two-sided rule took the bonus away from a policy above the floor, which then met the floor with no bonus to
        raise quickly)."""
        floor = self.config.entropy_floor
        if floor is None or not math.isfinite(fraction):
            return
        low, high = max(self.base_ent_coef, ENT_COEF_RANGE[0]), ENT_COEF_RANGE[1]
        log_coef = math.log(max(self.ent_coef, low)) + self.config.entropy_coef_lr * (floor - fraction)
        self.ent_coef = min(max(math.exp(log_coef), low), high)

    def metrics(self) -> dict[str, float]:
        out = {}
        if self.config.uniform_mix:
            out["charts/uniform_mix"] = float(self.epsilon)
        if self.config.entropy_floor is not None:
            out["losses/ent_coef"] = float(self.ent_coef)
        return out

    def state_dict(self) -> dict:
        return {"ent_coef": self.ent_coef}

    def load_state_dict(self, state: dict) -> None:
        self.ent_coef = float(state["ent_coef"])
