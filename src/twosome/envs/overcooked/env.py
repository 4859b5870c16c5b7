"""Gymnasium environment: one step is one macro action, told to a language model in the original words."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from twosome.envs.actions import check_action
from twosome.envs.contract import decision_info, step_info

from .macros import run_macro
from .observation import encode, vector_size
from .render import render_ansi
from .solver import solution
from .tasks import TASKS, TaskSpec
from .text import describe
from .world import CHOPS_NEEDED, World, kitchen_of


class OvercookedEnv(gym.Env):
    """TWOSOME's single-agent macro-action Overcooked (``Overcooked-LLMA-v3/v4``).

    ``reward`` is ``sum_k gamma**k r_k`` over the primitive steps ``k`` of the macro action and
    ``info["primitive_steps"]`` their number, so a learner discounts the next decision by
    ``gamma**primitive_steps``. The episode is terminated by the correct delivery, and truncated at the end
    of the macro action during which the ``max_steps``-th primitive step happened (the original finishes that
    macro action too, so the last one may run a few primitive steps past ``max_steps``).
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 5}

    def __init__(
        self,
        task: str | TaskSpec,
        view_radius: int = 2,
        max_steps: int | None = None,
        gamma: float = 0.99,
        render_mode: str | None = None,
    ):
        if isinstance(task, str):
            if task not in TASKS:
                raise ValueError(f"unknown task {task!r}; known: {sorted(TASKS)}")
            task = TASKS[task]
        if not isinstance(view_radius, (int, np.integer)) or view_radius < 0:
            raise ValueError(f"view_radius must be an integer >= 0 (0 = full view), got {view_radius!r}")
        max_steps = task.horizon if max_steps is None else max_steps
        if not isinstance(max_steps, (int, np.integer)) or max_steps < 1:
            raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
        if not 0.0 < gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None")
        self.task = task
        self.view_radius = int(view_radius)
        self.max_steps = int(max_steps)
        self.gamma = float(gamma)
        self.render_mode = render_mode
        kitchen = kitchen_of(task)
        high = max(*kitchen.shape, CHOPS_NEEDED + 1) - 1
        self.observation_space = gym.spaces.Box(0.0, float(high), shape=(vector_size(kitchen),), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(task.macro_actions))
        self.world = World(task, self.view_radius)
        self.elapsed_steps = 0
        self._ended = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)  # the dynamics have no randomness; this only seeds the spaces' samplers
        self.world = World(self.task, self.view_radius)
        self.elapsed_steps = 0
        self._ended = False
        obs = encode(self.world)
        return obs, self._text_info(obs)

    def step(self, action):
        index = self._check_action(action)
        if self._ended:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        result = run_macro(self.world, self.task.macro_actions[index], self.gamma)
        self.elapsed_steps += result.steps
        terminated = result.success
        truncated = not terminated and self.elapsed_steps >= self.max_steps
        self._ended = terminated or truncated
        obs = encode(self.world)
        info = step_info(self._text_info(obs), result.steps, result.success, elapsed_steps=self.elapsed_steps)
        return obs, float(result.reward), terminated, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return render_ansi(self.world)
        return None

    def optimal_actions(self) -> tuple[int, ...]:
        """Indices, into the valid actions of the current observation (the list the agent scores, in its order),
        of the actions that begin an optimal continuation from the current state; () when none is known.

        Exact: the macro actions whose Q-value, from the current state with the primitive steps already used, is
        the best one (ties within ``solver.RELATIVE_TIE``), from the solver's graph and value table for this task,
        gamma, view radius and horizon (built at the first call, about a second for Tomato-Lettuce Salad, then
        cached for the process). Every macro action is valid here, so the indices are macro-action indices. ()
        after the episode ended or in a state the graph from the reset state lacks (which should not happen).
        """
        if self._ended:
            return ()
        solved = solution(self.task, self.gamma, self.view_radius, self.max_steps)
        return solved.best_actions(self.world.key(), self.elapsed_steps)

    def _text_info(self, obs: np.ndarray) -> dict[str, Any]:
        return decision_info(*describe(obs, self.task))  # every macro action is always valid

    def _check_action(self, action) -> int:
        return check_action(action, int(self.action_space.n), "macro actions")
