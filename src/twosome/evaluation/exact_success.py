"""The exact probability that a sampled policy succeeds within the horizon, on a task small enough to enumerate.

A hundred sampled episodes cannot tell a success probability of 1e-5 from 3e-5: SmolLM2's untrained policies on
VirtualHome read 0/100 with word and with token normalization alike (studies/smollm2_gpu/README.md, 3a). Yet how
often an exploring policy
stumbles on the reward decides whether PPO ever sees one. Where the dynamics are deterministic and the states the
policy can reach are few (VirtualHome: 48 for Food Preparation, 315 for Entertainment), the probability is a sum
over paths: enumerate the reachable states once (breadth-first over the actions the mask offers), score each state's
prompt once, and solve by backward induction over the steps left. No sampling error, one forward pass per state.

An environment opts in by exposing ``state_key()`` (a hashable snapshot of everything its dynamics read) and a
``max_steps`` constructor argument (its horizon, in decisions of one step each).
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.agents.observation import ObsBatch
from twosome.envs.contract import PRIMITIVE_STEPS, SUCCESS, read_decision
from twosome.envs.wording import CANONICAL, RANDOM, Reworded
from twosome.training.vector_env import single_obs_batch

SUCCEEDED = -1
"""``DecisionGraph.dst`` of an edge whose step succeeds (the episode ends with reward)."""
FAILED = -2
"""``DecisionGraph.dst`` of an edge whose step terminates the episode without success."""


@dataclass(frozen=True)
class DecisionGraph:
    """Every state the policy can reach from the reset state, and the deterministic step of every offered action:
    edge ``e`` leads from state ``src[e]`` by action ``action[e]`` to ``dst[e]`` (or SUCCEEDED / FAILED)."""

    env_id: str
    horizon: int
    observations: list[tuple[Any, dict]]
    src: np.ndarray
    action: np.ndarray
    dst: np.ndarray

    @property
    def n_states(self) -> int:
        return len(self.observations)


def _make(env_id: str, wording: str, **kwargs) -> gym.Env:
    env = gym.make(env_id, **kwargs)
    return env if wording == CANONICAL else Reworded(env, wording)


def horizon_of(env_id: str, wording: str = CANONICAL, env_kwargs: dict | None = None) -> int:
    """The task's horizon, or a ValueError saying why its exact success probability cannot be computed."""
    if env_id not in gym.registry:
        valid = sorted(k for k in gym.registry if k.startswith("twosome/"))
        raise ValueError(f"env id {env_id!r} is not registered; valid: {valid}")
    if wording == RANDOM:
        raise ValueError("wording='random' draws a wording per episode: the exact probability needs a fixed one")
    probe = gym.make(env_id, **dict(env_kwargs or {})).unwrapped
    if not callable(getattr(probe, "state_key", None)) or not hasattr(probe, "max_steps"):
        raise ValueError(
            f"{env_id} has no state_key() and max_steps: the exact success probability needs a deterministic "
            "environment that exposes both (the VirtualHome tasks do)"
        )
    return int(probe.max_steps)


def decision_graph(env_id: str, wording: str = CANONICAL, env_kwargs: dict | None = None) -> DecisionGraph:
    """Breadth-first over the actions each state's mask offers (the policy gives the others probability 0)."""
    horizon = horizon_of(env_id, wording, env_kwargs)
    env_kwargs = dict(env_kwargs or {})
    # The search itself must never truncate: its depth is not the episode's time (the induction counts that).
    env = _make(env_id, wording, **{**env_kwargs, "max_steps": 10**9})
    obs, info = env.reset(seed=0)
    index = {env.unwrapped.state_key(): 0}
    observations, queue = [(obs, info)], deque([env])
    src, act, dst = [], [], []
    while queue:
        here = queue.popleft()
        i = index[here.unwrapped.state_key()]
        for a in np.flatnonzero(read_decision(observations[i][1]).action_mask):
            there = copy.deepcopy(here)
            obs, _, terminated, _, info = there.step(int(a))
            if int(info.get(PRIMITIVE_STEPS, 1)) != 1:
                raise ValueError(f"{env_id}: action {a} took {info[PRIMITIVE_STEPS]} steps; only one per decision")
            if terminated:
                to = SUCCEEDED if info.get(SUCCESS, False) else FAILED
            else:
                key = there.unwrapped.state_key()
                if key not in index:
                    index[key] = len(observations)
                    observations.append((obs, info))
                    queue.append(there)
                to = index[key]
            src.append(i), act.append(int(a)), dst.append(to)
    return DecisionGraph(env_id, horizon, observations, np.array(src), np.array(act), np.array(dst))


@torch.no_grad()
def action_probabilities(policy: Callable[[ObsBatch], torch.distributions.Categorical], graph: DecisionGraph):
    """pi(a | s) for every state of ``graph`` (n_states, n_actions), one policy call per state. Normalized in float64
    from the policy's log-probabilities: a float32 distribution sums to 1 only within about 1e-7, which 50 steps of
    induction would turn into probabilities above 1."""
    rows = [policy(single_obs_batch(obs, info)).logits[0].double().softmax(-1) for obs, info in graph.observations]
    return torch.stack(rows).cpu().numpy()


def success_within(graph: DecisionGraph, probs: np.ndarray, steps: int | None = None) -> np.ndarray:
    """P(success within ``steps`` decisions) from every state (default: the horizon; [0] is the reset state):
    P_k(s) = sum_a pi(a|s) * (1 if the step succeeds, P_{k-1}(s') if it goes on, 0 if it fails), P_0 = 0."""
    steps = graph.horizon if steps is None else steps
    weight = probs[graph.src, graph.action]
    done = graph.dst == SUCCEEDED
    going = graph.dst >= 0
    p = np.zeros(graph.n_states)
    for _ in range(steps):
        gain = weight * done
        gain[going] += weight[going] * p[graph.dst[going]]
        p = np.minimum(np.bincount(graph.src, weights=gain, minlength=graph.n_states), 1.0)  # ulps of round-off
    return p
