"""The one reading of environments into an ObsBatch: vector envs, final observations, single envs, text-only envs."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from toy_env import register

from twosome.envs.contract import decision_info, step_info, text_space
from twosome.training.vector_env import final_obs_batch, make_vector_env, single_obs_batch, step_field, to_obs_batch


class TextOnlyEnv(gym.Env):
    """No symbolic vector: the observation is the prompt. Action 1 is valid only at even steps; 2 steps an episode."""

    def __init__(self):
        self.observation_space = text_space()
        self.action_space = gym.spaces.Discrete(2)

    def _decision(self):
        prompt = f"Step {self.t}. You should"
        info = decision_info(prompt, ["wait", "jump"], np.array([True, self.t % 2 == 0]))
        return prompt, info

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return self._decision()

    def step(self, action):
        self.t += 1
        obs, info = self._decision()
        return obs, float(action), self.t >= 2, False, step_info(info, 3, self.t >= 2)


def register_text_only() -> str:
    env_id = "twosome/test-TextOnly-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=TextOnlyEnv)
    return env_id


def test_a_text_only_env_gives_no_vectors_now_and_at_the_end_of_an_episode():
    envs = make_vector_env(register_text_only(), 2)
    batch = to_obs_batch(*envs.reset(seed=0))
    assert batch.vectors is None and batch.prompts == ["Step 0. You should"] * 2
    assert batch.actions == [["wait", "jump"]] * 2 and batch.action_mask.tolist() == [[True, True]] * 2

    obs, _, terminated, truncated, info = envs.step(np.array([0, 1]))
    assert to_obs_batch(obs, info).action_mask.tolist() == [[True, False]] * 2
    obs, _, terminated, truncated, info = envs.step(np.array([0, 0]))
    ended = terminated | truncated
    assert ended.all()
    final = final_obs_batch(info, [0, 1])
    assert final.vectors is None and final.prompts == ["Step 2. You should"] * 2
    assert to_obs_batch(obs, info).prompts == ["Step 0. You should"] * 2  # autoreset in the same step
    assert step_field(info, "primitive_steps", ended, 1).tolist() == [3, 3]
    assert step_field(info, "success", ended, False).tolist() == [True, True]
    envs.close()


def test_a_vector_env_round_trips_through_the_contract():
    envs = make_vector_env(register(), 3)
    obs, info = envs.reset(seed=1)
    batch = to_obs_batch(obs, info)
    assert batch.vectors.dtype == torch.float32 and torch.equal(batch.vectors, torch.as_tensor(obs))
    assert batch.prompts == list(info["prompt"]) and batch.actions == [list(a) for a in info["actions"]]
    assert batch.action_mask.dtype == torch.bool and batch.action_mask.shape == (3, 2)
    envs.close()


def test_a_single_env_is_a_batch_of_one_with_or_without_a_vector():
    env = gym.make(register())
    obs, info = env.reset(seed=0)
    one = single_obs_batch(obs, info)
    assert len(one) == 1 and torch.equal(one.vectors, torch.as_tensor(obs)[None])
    assert one.prompts == [info["prompt"]] and one.action_mask.tolist() == [info["action_mask"].tolist()]
    text = single_obs_batch(*gym.make(register_text_only()).reset(seed=0))
    assert text.vectors is None and text.actions == [["wait", "jump"]]


def test_an_info_without_the_contract_keys_is_named():
    with pytest.raises(ValueError, match="has no 'prompt'.*'actions', 'action_mask'"):
        single_obs_batch(np.zeros(2), {"actions": ["a"], "action_mask": np.ones(1, bool)})
