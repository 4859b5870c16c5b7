"""How a policy explores, measured on the states the agent itself visits: at every rollout decision, the policy's
entropy as a fraction of log(number of valid actions), the mass of its likeliest action and, where the environment
can name the optimal next actions from the current state (``optimal_actions()``: the suite's exact solvers, minigrid's
BabyAI bot, TextWorld's winning commands), the probability the policy gives them and their rank. Logged per update
as ``explore/*`` beside the losses: "it did not explore" becomes a measured statement.

An environment without an oracle, or a decision where it names none (an episode's end), leaves the optimal-action
measures out; they are computed on the decisions that have one (``explore/oracle_decisions`` says how many).
"""

from __future__ import annotations

import numpy as np
import torch
from torch.distributions import Categorical

from twosome.rl.exploration import entropy_fraction

ORACLE = "optimal_actions"  # the environment's method: indices into the current valid actions


def optimal_actions(envs) -> list[tuple[int, ...]] | None:
    """Each sub-environment's optimal next actions now; None when the environments have no oracle."""
    answers = []
    for env in getattr(envs, "envs", []):
        try:
            oracle = env.get_wrapper_attr(ORACLE)
        except AttributeError:
            return None
        answers.append(tuple(int(a) for a in oracle()))
    return answers or None


def optimal_prob_and_rank(probs: torch.Tensor, optimal: tuple[int, ...]) -> tuple[float, int]:
    """The probability of taking one of the ``optimal`` actions, and the rank (1: the likeliest) of the likeliest of
    them among all actions (ties share the better rank)."""
    best = probs[list(optimal)].max()
    return float(probs[list(optimal)].sum()), int((probs > best).sum()) + 1


class ExplorationLog:
    """Per-decision measures collected during a rollout, summarised by ``pop`` into the update's metrics."""

    def __init__(self) -> None:
        self.fraction: list[np.ndarray] = []
        self.top: list[np.ndarray] = []
        self.optimal_prob: list[float] = []
        self.optimal_rank: list[int] = []
        self.decisions = 0

    def add(self, pi: Categorical, mask: torch.Tensor, optimal: list[tuple[int, ...]] | None) -> None:
        probs = pi.probs.detach().float().cpu()
        self.fraction.append(entropy_fraction(pi, mask).detach().float().cpu().numpy())
        self.top.append(probs.max(-1).values.numpy())
        self.decisions += len(probs)
        for row, best in enumerate(optimal or []):
            if best:
                p, rank = optimal_prob_and_rank(probs[row], best)
                self.optimal_prob.append(p)
                self.optimal_rank.append(rank)

    def pop(self) -> dict[str, float]:
        """The rollout's measures (means over its decisions; the optimal action's probability also as a median,
        since a few easy states can carry a mean); the log starts afresh."""
        if not self.decisions:
            return {}
        fraction = np.concatenate(self.fraction)
        out = {
            "explore/entropy_fraction": float(np.nanmean(fraction)) if np.isfinite(fraction).any() else float("nan"),
            "explore/top_mass": float(np.concatenate(self.top).mean()),
        }
        if self.optimal_prob:
            prob, rank = np.array(self.optimal_prob), np.array(self.optimal_rank)
            out |= {
                "explore/optimal_prob_mean": float(prob.mean()),
                "explore/optimal_prob_median": float(np.median(prob)),
                "explore/optimal_rank_mean": float(rank.mean()),
                "explore/optimal_top1_rate": float((rank == 1).mean()),
                "explore/oracle_decisions": float(len(prob) / self.decisions),
            }
        self.__init__()
        return out
