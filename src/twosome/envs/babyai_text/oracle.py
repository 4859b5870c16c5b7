"""minigrid's BabyAI bot as the oracle of ``BabyAITextEnv.optimal_actions``, kept off the environment's state.

The bot (``minigrid.utils.baby_ai_bot.BabyAIBot``) is stateful: it maps what it has seen and keeps a plan that it
revises after every action taken, so it must replan once at every state of the episode, told the action that led
there. :class:`BotOracle` records the minigrid action of every step (nearly free) and builds the bot only when asked
for its advice: on a *shadow* of the episode's level, a copy at the reset state (a deep copy of the level when no
action has been taken yet, else the level regenerated from the seed it was reset with), which it then steps through
the recorded actions, replanning after each. Later questions only catch up with the actions taken since. The bot
never reads or writes the environment's own level or random generators, so asking changes no trajectory.

A pickled oracle keeps the seed and the actions, not the bot: the copy rebuilds it by replaying them when asked.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from minigrid.utils.baby_ai_bot import BabyAIBot

from .levels import MixedLocalLevel


class BotOracle:
    """The BabyAI bot's next action in the current episode (see the module); None when it has none."""

    def __init__(self, split: str, num_dists: int, max_steps: int | None):
        self.split, self.num_dists, self.max_steps = split, num_dists, max_steps
        self.family: str | None = None
        self.seed: int | None = None
        self.actions: list[int] = []  # minigrid actions taken in this episode
        self.failure: str | None = None  # why the bot gave up in this episode (it raised), if it did
        self._bot = None
        self._shadow: MixedLocalLevel | None = None
        self._fed = 0  # actions the bot has seen
        self._suggestion: int | None = None
        self._spares: dict[str, MixedLocalLevel] = {}  # levels to regenerate episodes on, one per family

    def start(self, family: str, seed: int) -> None:
        """A new episode: ``family``'s level reset with ``seed``."""
        self.family, self.seed = family, int(seed)
        self.actions, self.failure = [], None
        self._bot, self._shadow, self._fed, self._suggestion = None, None, 0, None

    def record(self, action: int) -> None:
        """The minigrid action the environment just executed."""
        self.actions.append(int(action))

    def next_action(self, level: MixedLocalLevel) -> int | None:
        """The bot's action at the current state of ``level`` (the episode's level, only read), or None when the
        bot gave up in this episode or its shadow does not match the level (which should not happen)."""
        if self.failure is not None or self.seed is None:
            return None
        if self._bot is not None and self._fed == len(self.actions):
            return self._answer()  # asked again at the same state
        try:
            if self._bot is None:
                self._shadow = copy.deepcopy(level) if not self.actions else self._regenerate()
                self._bot = BabyAIBot(self._shadow)
                self._suggestion, self._fed = self._bot.replan(), 0
            while self._fed < len(self.actions):
                action = self.actions[self._fed]
                self._shadow.step(action)
                self._suggestion = self._bot.replan(action)
                self._fed += 1
        except Exception as error:  # noqa: BLE001  (the bot's own failures: DisappearedBoxError, its asserts)
            self.failure = f"{type(error).__name__}: {error}"
            self._bot = self._shadow = None
            return None
        if not _same_state(self._shadow, level):
            self.failure = "the bot's copy of the level does not match the episode's"
            self._bot = self._shadow = None
            return None
        return self._answer()

    def _answer(self) -> int | None:
        return None if self._suggestion is None else int(self._suggestion)

    def _regenerate(self) -> MixedLocalLevel:
        """The episode's level at its reset state, generated again from its seed on a level of our own."""
        if self.family not in self._spares:
            self._spares[self.family] = MixedLocalLevel(
                self.family, self.split, num_dists=self.num_dists, max_steps=self.max_steps
            )
        spare = self._spares[self.family]
        spare.reset(seed=self.seed)
        return spare

    def __getstate__(self) -> dict[str, Any]:
        """The episode's seed and actions; the bot, its shadow and the spare levels are rebuilt when asked."""
        state = dict(self.__dict__)
        state.update(_bot=None, _shadow=None, _fed=0, _suggestion=None, _spares={})
        return state


def _same_state(shadow: MixedLocalLevel, level: MixedLocalLevel) -> bool:
    """The agent's pose, what it carries, the step count and the grid agree."""
    carried = [(c.type, c.color) if c is not None else None for c in (shadow.carrying, level.carrying)]
    return (
        tuple(shadow.agent_pos) == tuple(level.agent_pos)
        and int(shadow.agent_dir) == int(level.agent_dir)
        and carried[0] == carried[1]
        and shadow.step_count == level.step_count
        and np.array_equal(shadow.grid.encode(), level.grid.encode())
    )
