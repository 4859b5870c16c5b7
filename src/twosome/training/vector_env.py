"""Vector environments with same-step autoreset, and conversion of what they return into an ObsBatch."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import torch

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.agents.observation import ObsBatch


def make_vector_env(env_id: str, num_envs: int, kwargs: dict[str, Any] | None = None) -> gym.vector.SyncVectorEnv:
    """Same-step autoreset: the final observation of an ended episode is in ``info['final_obs']`` /
    ``info['final_info']``, which truncation bootstrapping needs."""
    kwargs = dict(kwargs or {})
    if env_id not in gym.registry:
        valid = sorted(k for k in gym.registry if k.startswith("twosome/"))
        raise ValueError(f"env id {env_id!r} is not registered; valid: {valid}")
    return gym.vector.SyncVectorEnv(
        [lambda: gym.make(env_id, **kwargs) for _ in range(num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,
    )


def to_obs_batch(obs: np.ndarray, info: dict[str, Any]) -> ObsBatch:
    n = len(obs)
    return ObsBatch(
        vectors=torch.as_tensor(np.stack([np.asarray(o, dtype=np.float32) for o in obs])),
        prompts=[str(p) for p in info["prompt"]],
        actions=[list(a) for a in info["actions"]],
        action_mask=torch.as_tensor(np.asarray(info["action_mask"], dtype=bool)).reshape(n, -1),
    )


def final_obs_batch(info: dict[str, Any], rows: list[int]) -> ObsBatch:
    """The observations at which episodes ``rows`` ended (before the autoreset replaced them)."""
    final = info["final_info"]
    return ObsBatch(
        vectors=torch.as_tensor(np.stack([np.asarray(info["final_obs"][i], dtype=np.float32) for i in rows])),
        prompts=[str(final["prompt"][i]) for i in rows],
        actions=[list(final["actions"][i]) for i in rows],
        action_mask=torch.as_tensor(np.stack([np.asarray(final["action_mask"][i], dtype=bool) for i in rows])),
    )


def step_field(info: dict[str, Any], key: str, ended: np.ndarray, default) -> np.ndarray:
    """A per-step info field, read from ``final_info`` for environments whose episode just ended."""
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
