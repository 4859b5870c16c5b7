"""Gymnasium environment: one step is one high-level action, told to a language model in the original words."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from twosome.envs.actions import check_action
from twosome.envs.contract import decision_info, step_info

from .observation import holds_goal, read_features, to_vector
from .planner import planner
from .prompts import describe
from .render import render_card
from .tasks import TASKS, TaskSpec
from .world import World


class VirtualHomeEnv(gym.Env):
    """TWOSOME's symbolic VirtualHome (``VirtualHome-v1``/``-v2``) and its unseen-task variants.

    Observation: the task's 0/1 feature vector (11 dims for Food Preparation, 21 for Entertainment). ``info``
    carries the original's prompt, the text of every action, and ``action_mask``: the actions the original
    policy offers in this state (it never chooses the others).

    A masked action is still executed, as the original environment does (its mask lives in the policy): the
    engine applies it if VirtualHome's rules allow it, which can change the state (walking to the room you are
    in forgets what you were close to), and otherwise does nothing; either way it spends a step.
    ``info["executed"]`` says which. Reward 1 on success, which terminates; truncation at ``horizon`` steps.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 2}

    def __init__(self, task: str | TaskSpec, max_steps: int | None = None, render_mode: str | None = None):
        if isinstance(task, str):
            if task not in TASKS:
                raise ValueError(f"unknown task {task!r}; known: {sorted(TASKS)}")
            task = TASKS[task]
        max_steps = task.horizon if max_steps is None else max_steps
        if not isinstance(max_steps, (int, np.integer)) or isinstance(max_steps, bool) or max_steps < 1:
            raise ValueError(f"max_steps must be an integer >= 1, got {max_steps!r}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None")
        self.task = task
        self.max_steps = int(max_steps)
        self.render_mode = render_mode
        self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(len(task.features),), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(len(task.actions))
        self.action_texts = [a.text for a in task.actions]
        self.world = World(task.scene)
        self.elapsed_steps = 0
        self._ended = False

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)  # the original's reset has no randomness; this only seeds the spaces' samplers
        self.world = World(self.task.scene)
        self.elapsed_steps = 0
        self._ended = False
        flags = read_features(self.world, self.task.features)
        return to_vector(flags, self.task.features), self._text_info(flags)

    def step(self, action):
        index = self._check_action(action)
        if self._ended:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        spec = self.task.actions[index]
        executed = self.world.act(spec.verb, spec.args)
        self.elapsed_steps += 1
        flags = read_features(self.world, self.task.features)
        success = holds_goal(flags, self.task.goal)
        truncated = not success and self.elapsed_steps >= self.max_steps
        self._ended = success or truncated
        info = step_info(self._text_info(flags), 1, success, elapsed_steps=self.elapsed_steps, executed=bool(executed))
        return to_vector(flags, self.task.features), float(success), success, truncated, info

    def render(self):
        if self.render_mode == "ansi":
            return render_card(self.world, self.task, self.elapsed_steps)
        return None

    def optimal_actions(self) -> tuple[int, ...]:
        """Indices, into the valid actions of the current observation (the list the agent scores, in its order),
        of the actions that begin an optimal continuation from the current state; () when none is known.

        The valid actions (``action_mask``) that begin a shortest plan (fewest decisions) to the goal, each later
        decision also among its state's valid actions (``planner.Planner``: breadth-first over world copies, the
        distances memoized per state key and task for the process). () after the episode ended, or when no plan
        reaches the goal within the steps left before truncation.
        """
        if self._ended:
            return ()
        return planner(self.task).best_actions(self.world, self.max_steps - self.elapsed_steps)

    def state_key(self):
        """A hashable snapshot of everything the dynamics read (the world's relations and object states): two
        states with equal keys behave alike under every action (``evaluation/exact_success.py`` enumerates them)."""
        return self.world.key()

    def _text_info(self, flags: dict[str, bool]) -> dict[str, Any]:
        prompt, valid = describe(flags, self.task.words)
        mask = np.zeros(len(self.task.actions), dtype=bool)
        mask[list(valid)] = True
        return decision_info(prompt, self.action_texts, mask)

    def _check_action(self, action) -> int:
        return check_action(action, int(self.action_space.n))
