"""A tiny text environment for fast learning tests: the prompt names an apple colour, taking that one pays 1."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

COLORS = ["red", "green"]


class ColorDoorEnv(gym.Env):
    """Each decision shows one apple colour; ``horizon`` decisions per episode, then truncation (time limit)."""

    def __init__(self, horizon: int = 4, colors: tuple[str, ...] = tuple(COLORS)):
        self.horizon = horizon
        self.colors = list(colors)
        self.observation_space = gym.spaces.Box(0.0, 1.0, (len(self.colors),), np.float32)
        self.action_space = gym.spaces.Discrete(len(self.colors))
        self.actions = [f"take the {c} apple" for c in self.colors]

    def _obs(self):
        vec = np.zeros(len(self.colors), np.float32)
        vec[self.color] = 1.0
        info = {
            "prompt": f"You see a {self.colors[self.color]} apple. You should",
            "actions": list(self.actions),
            "action_mask": np.ones(len(self.colors), bool),
        }
        return vec, info

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        self.color = int(self.np_random.integers(len(self.colors)))
        return self._obs()

    def step(self, action):
        reward = float(int(action) == self.color)
        self.t += 1
        self.color = int(self.np_random.integers(len(self.colors)))
        obs, info = self._obs()
        info.update(primitive_steps=1, success=bool(reward))
        return obs, reward, False, self.t >= self.horizon, info


def register() -> str:
    env_id = "twosome/ToyColorDoor-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=ColorDoorEnv)
    return env_id


def register_unseen() -> str:
    """The same game with a colour never trained on (and so a 3-dim vector): an unseen task."""
    env_id = "twosome/ToyColorDoorBlue-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=ColorDoorEnv, kwargs={"colors": ("red", "green", "blue")})
    return env_id


class ColorDoorTextEnv(ColorDoorEnv):
    """The same game as a text-only environment, written as docs/EXTENDING.md's recipe says: the observation is the
    prompt (``contract.text_space()``), the info comes from ``decision_info`` and ``step_info``."""

    def __init__(self, horizon: int = 4, colors: tuple[str, ...] = tuple(COLORS)):
        from twosome.envs import contract

        super().__init__(horizon, colors)
        self.observation_space = contract.text_space()

    def _obs(self):
        from twosome.envs import contract

        prompt = f"You see a {self.colors[self.color]} apple. You should"
        return prompt, contract.decision_info(prompt, self.actions)

    def step(self, action):
        from twosome.envs import contract

        obs, reward, terminated, truncated, info = super().step(action)
        return obs, reward, terminated, truncated, contract.step_info(info, 1, bool(reward))


def register_text(colors: tuple[str, ...] = tuple(COLORS)) -> str:
    """The text-only game; with a third colour, an unseen text-only task."""
    env_id = f"twosome/ToyColorDoorText{len(colors)}-v0"
    if env_id not in gym.registry:
        gym.register(env_id, entry_point=ColorDoorTextEnv, kwargs={"colors": colors})
    return env_id
