"""Actions given as free text: an environment that lets a decision be invalid without acting (the agent
that writes its actions, and what counts as a valid action's text: agents/generate.py).

TWOSOME scores a fixed list of valid actions, so its policy cannot write an action the environment cannot execute;
an LM left to generate its action can ("pick up the cucumber" where there is none). To measure that misalignment,
``InvalidAsNoOp`` adds one action index past the environment's own (``len(actions)``): choosing it does nothing in
the environment, rewards ``reward`` (0, or a small penalty), says ``invalid_action: True`` in the step's info, and
the episode goes on from the same decision. Greedy generation writes the same text at the same state again, so an
episode ends (truncated) after ``max_in_a_row`` invalid decisions in a row.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from twosome.envs.contract import PRIMITIVE_STEPS, SUCCESS

INVALID_ACTION = "invalid_action"  # a step info key: True when the decision's text matched no valid action


class InvalidAsNoOp(gym.Wrapper):
    """The environment with one more action, ``n = len(actions)``: an invalid decision (see the module)."""

    def __init__(self, env: gym.Env, reward: float = 0.0, max_in_a_row: int = 3):
        super().__init__(env)
        if not isinstance(env.action_space, gym.spaces.Discrete):
            raise ValueError(f"InvalidAsNoOp needs a Discrete action space, got {env.action_space}")
        if max_in_a_row < 1:
            raise ValueError(f"max_in_a_row={max_in_a_row} is not valid; valid: an integer >= 1")
        self.n = int(env.action_space.n)
        self.action_space = gym.spaces.Discrete(self.n + 1)
        self.reward, self.max_in_a_row = float(reward), int(max_in_a_row)
        self._last: tuple[Any, dict] | None = None
        self._in_a_row = 0

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        self._last, self._in_a_row = (obs, info), 0
        return obs, info

    def step(self, action):
        if int(action) != self.n:
            obs, reward, terminated, truncated, info = self.env.step(action)
            self._last, self._in_a_row = (obs, info), 0
            return obs, reward, terminated, truncated, {**info, INVALID_ACTION: False}
        if self._last is None:
            raise RuntimeError("step before reset")
        self._in_a_row += 1
        obs, info = self._last
        info = {**info, PRIMITIVE_STEPS: 1, SUCCESS: False, INVALID_ACTION: True}
        return obs, self.reward, False, self._in_a_row >= self.max_in_a_row, info
