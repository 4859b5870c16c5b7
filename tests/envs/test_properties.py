"""Properties every registered environment keeps under random play (hypothesis): no crash, determinism under a
seed, rewards within documented bounds, well-formed text, and an end by the horizon."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from helpers import make_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import twosome.envs  # noqa: F401  (registers the ids)

ENV_IDS = sorted(k for k in gym.registry if k.startswith("twosome/"))


def reward_bounds(env_id: str) -> tuple[float, float]:
    """Documented per-decision reward bounds: VirtualHome pays 1 on success; BabyAI-Text pays at most its scale
    (20); an Overcooked macro action sums at most a subtask (0.2) and a delivery (1), and at least a wrong
    delivery (-0.1) plus -0.001 per primitive step; TextWorld pays a command's score increase (a cooking game's
    score never falls; its whole score is at most 17: up to 5 ingredients, each taken, cut and cooked, then the
    meal prepared and eaten)."""
    if "VirtualHome" in env_id:
        return 0.0, 1.0
    if "TextWorld" in env_id:
        return 0.0, 17.0
    if "BabyAI" in env_id:
        return 0.0, 20.0
    return -0.1 - 0.001 * 200, 1.2


def play(env_id: str, seed: int, actions: list[int]):
    env = make_env(env_id)
    obs, info = env.reset(seed=seed)
    trace = [(np.asarray(obs).tobytes(), info["prompt"])]
    rewards, ended = [], False
    for a in actions:
        valid = np.flatnonzero(info["action_mask"])
        assert len(valid) > 0, "an environment must always offer a valid action"
        obs, reward, terminated, truncated, info = env.step(int(valid[a % len(valid)]))
        space = env.observation_space  # a text-only environment's observation is a string (contract.text_space)
        assert space.contains(obs if isinstance(space, gym.spaces.Text) else np.asarray(obs, dtype=space.dtype))
        assert isinstance(info["prompt"], str) and info["prompt"]
        assert len(info["actions"]) == env.action_space.n == len(info["action_mask"])
        rewards.append(float(reward))
        trace.append((np.asarray(obs).tobytes(), info["prompt"]))
        if terminated or truncated:
            ended = True
            break
    env.close()
    return trace, rewards, ended


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    env_id=st.sampled_from(ENV_IDS),
    seed=st.integers(0, 1000),
    actions=st.lists(st.integers(0, 50), min_size=1, max_size=30),
)
def test_random_play_is_deterministic_and_bounded(env_id, seed, actions):
    first, rewards, _ = play(env_id, seed, actions)
    second, rewards_again, _ = play(env_id, seed, actions)
    assert first == second and rewards == rewards_again
    low, high = reward_bounds(env_id)
    assert all(low <= r <= high for r in rewards), (env_id, rewards)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(env_id=st.sampled_from(ENV_IDS), seed=st.integers(0, 1000))
def test_every_episode_ends_by_its_horizon(env_id, seed):
    """Random valid actions for longer than any horizon (VirtualHome 50 decisions, BabyAI-Text 128, Overcooked
    200 primitive steps, each macro action at least one): the episode has ended by then."""
    rng = np.random.default_rng(seed)
    _, _, ended = play(env_id, seed, [int(x) for x in rng.integers(0, 50, size=201)])
    assert ended, env_id
