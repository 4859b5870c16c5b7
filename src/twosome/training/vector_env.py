"""Vector environments with same-step autoreset, and the one reading of what environments return into an ObsBatch.

Every reader (the rollouts, the evaluation, the analysis scripts) goes through ``to_obs_batch`` / ``final_obs_batch``
(vector envs) or ``single_obs_batch`` (one env), which read the contract of :mod:`twosome.envs.contract`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
import torch

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.agents.observation import ObsBatch
from twosome.envs.contract import Decision, read_decision, read_vector
from twosome.envs.invalid import InvalidAsNoOp
from twosome.envs.wording import CANONICAL, Reworded


def make_vector_env(
    env_id: str,
    num_envs: int,
    kwargs: dict[str, Any] | None = None,
    invalid_action: dict[str, Any] | None = None,
    wording: str = CANONICAL,
) -> gym.vector.SyncVectorEnv:
    """Same-step autoreset: the final observation of an ended episode is in ``info['final_obs']`` /
    ``info['final_info']``, which truncation bootstrapping needs. ``invalid_action``: each environment wrapped in
    ``InvalidAsNoOp(**invalid_action)`` (for an agent that writes its actions); ``wording``: shown in another wording
    (``Reworded``) unless canonical."""
    kwargs = dict(kwargs or {})
    if env_id not in gym.registry:
        valid = sorted(k for k in gym.registry if k.startswith("twosome/"))
        raise ValueError(f"env id {env_id!r} is not registered; valid: {valid}")

    def make() -> gym.Env:
        env = gym.make(env_id, **kwargs)
        env = env if wording == CANONICAL else Reworded(env, wording)
        return env if invalid_action is None else InvalidAsNoOp(env, **invalid_action)

    return gym.vector.SyncVectorEnv(
        [make for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def to_obs_batch(obs, info: dict[str, Any]) -> ObsBatch:
    """What the N environments of a vector env show now (``vectors`` None for text-only environments)."""
    return _rows(obs, info, range(len(obs)))


def final_obs_batch(info: dict[str, Any], rows: list[int]) -> ObsBatch:
    """The observations at which episodes ``rows`` ended (before the autoreset replaced them)."""
    return _rows(info["final_obs"], info["final_info"], rows)


def single_obs_batch(obs, info: dict[str, Any]) -> ObsBatch:
    """A batch of one, from a single (not vectorized) environment's observation and info."""
    return _batch([read_vector(obs)], [read_decision(info)])


def step_field(info: dict[str, Any], key: str, ended: np.ndarray, default) -> np.ndarray:
    """A per-step info field (``contract.STEP_FIELDS``), read from ``final_info`` for environments whose episode
    just ended; ``default`` where an environment did not report it."""
    n = len(ended)
    out = np.full(n, default, dtype=type(default))
    if key in info:
        present = info.get("_" + key, np.ones(n, bool))
        out[present] = np.asarray(info[key])[present]
    if ended.any() and "final_info" in info and key in info["final_info"]:
        fin = info["final_info"]
        present = fin.get("_" + key, np.ones(n, bool)) & ended
        out[present] = np.asarray(fin[key])[present]
    return out


def _rows(obs, info: dict[str, Any], rows: Sequence[int]) -> ObsBatch:
    """Rows ``rows`` of a vector env's batched observation and info."""
    return _batch([read_vector(obs[i]) for i in rows], [read_decision(info, i) for i in rows])


def _batch(vectors: list[np.ndarray | None], decisions: list[Decision]) -> ObsBatch:
    """Vectors are kept only if every row has one: a text-only environment gives None for all."""
    return ObsBatch(
        vectors=None if any(v is None for v in vectors) else torch.as_tensor(np.stack(vectors)),
        prompts=[d.prompt for d in decisions],
        actions=[d.actions for d in decisions],
        action_mask=torch.as_tensor(np.stack([d.action_mask for d in decisions])),
    )
