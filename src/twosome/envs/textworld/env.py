"""Gymnasium environment: a generated TextWorld cooking game, its admissible commands as the candidate actions."""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from twosome.envs.actions import check_action
from twosome.envs.contract import decision_info, step_info, text_space

from .games import CookingSettings, check_split, ensure_game, import_textworld

META_COMMANDS = ("keep", "drop")
# Commands that only show what the prompt already shows (where you are, what you carry); "examine cookbook" stays:
# reading the recipe is how the game tells what to cook.
_META = re.compile(r"^(look|inventory|examine (?!cookbook$).+)$")
_STATUS_LINE = re.compile(r"^\s*(>.*|-= .* =-.*)$")  # the game's command prompt and its status bar
PADDING = ""  # the text of an action slot with no command in it (masked: never scored, never chosen)


def default_game_dir() -> Path:
    """``artifacts/textworld`` of the repository (``TWOSOME_ROOT``, which src/run.py sets), else of the working
    directory."""
    return Path(os.environ.get("TWOSOME_ROOT", ".")) / "artifacts" / "textworld"


def clean(text: str) -> str:
    """The game's text without its command prompt and status bar, whitespace collapsed."""
    lines = [line for line in str(text).splitlines() if not _STATUS_LINE.match(line)]
    return " ".join(" ".join(lines).split())


class TextWorldCookingEnv(gym.Env):
    """One of ``num_games`` tw-cooking games of ``split`` per episode (drawn by the reset seed, or
    ``options={"game": i}``). Text only: the observation is the prompt.

    Actions: the state's admissible commands (TextWorld's own list, sorted), in slots ``0..k-1`` of
    ``Discrete(max_actions)``; the other slots are masked. ``meta_commands="drop"`` removes ``look``,
    ``inventory`` and ``examine ...`` (not ``examine cookbook``), whose answers the prompt already holds. A state
    with more commands than slots keeps the first ``max_actions`` and says how many it cut in
    ``info["commands_cut"]``. Reward: the score's increase; terminated when the game is won (success) or lost;
    truncated after ``max_steps`` commands.

    The prompt follows TWOSOME's principles and departs from the game's raw text as follows: the game's own
    objective as the goal; the room's description and the inventory in the game's words but with its command
    prompt and status bar removed; the recipe, once read, kept in the prompt; the last ``history`` commands with
    the game's answers; and TWOSOME's closing "your next step is to", which each command completes.
    """

    metadata = {"render_modes": ["ansi"], "render_fps": 1}
    # what an evaluation on another split takes from the training run's options (twosome.evaluation.generalization)
    carried_to_other_tasks = (
        "num_games", "recipe", "take", "go", "open", "cook", "cut", "drop", "max_steps", "max_actions",
        "meta_commands", "history", "game_dir",
    )  # fmt: skip

    def __init__(
        self,
        split: str = "train",
        num_games: int = 20,
        recipe: int = 1,
        take: int = 1,
        go: int = 1,
        open: bool = False,  # noqa: A002  (tw-cooking's own name for the skill)
        cook: bool = False,
        cut: bool = False,
        drop: bool = False,
        max_steps: int = 30,
        max_actions: int = 64,
        meta_commands: str = "keep",
        history: int = 2,
        game_dir: str | os.PathLike | None = None,
        render_mode: str | None = None,
    ):
        check_split(split, num_games)
        self.settings = CookingSettings(recipe, take, go, open, cook, cut, drop)
        limits = (("max_steps", max_steps, 1), ("max_actions", max_actions, 2), ("history", history, 0))
        for name, value, low in limits:
            if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
                raise ValueError(f"{name}={value!r} is not valid; valid: an integer >= {low}")
        if meta_commands not in META_COMMANDS:
            raise ValueError(f"meta_commands={meta_commands!r} is not valid; valid: {', '.join(META_COMMANDS)}")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(
                f"render_mode={render_mode!r} is not valid; valid: {self.metadata['render_modes']} or None"
            )
        self.split, self.num_games = split, int(num_games)
        self.max_steps, self.max_actions, self.history = int(max_steps), int(max_actions), int(history)
        self.meta_commands, self.render_mode = meta_commands, render_mode
        self.game_dir = Path(game_dir) if game_dir is not None else default_game_dir()
        self.observation_space = text_space()
        self.action_space = gym.spaces.Discrete(self.max_actions)
        self._game = None  # TextWorld's environment of the current game
        self.game_index: int | None = None

    # --- the game -------------------------------------------------------------------------------------------------
    def _start(self, index: int):
        textworld = import_textworld()
        path = ensure_game(self.game_dir, self.settings, self.split, index)
        if self._game is not None:
            self._game.close()
        infos = textworld.EnvInfos(
            admissible_commands=True, won=True, lost=True, score=True, max_score=True, inventory=True,
            description=True, objective=True, feedback=True, policy_commands=True,  # for optimal_actions
        )  # fmt: skip
        self._game = textworld.start(str(path), request_infos=infos)
        self.game_index = index
        return self._game.reset()

    def _read(self, state) -> None:
        """Keep what the prompt and the action list need from TextWorld's game state."""
        self._state = state
        commands = sorted(state.admissible_commands or [])
        if self.meta_commands == "drop":
            commands = [c for c in commands if not _META.match(c)]
        self.commands_cut = max(0, len(commands) - self.max_actions)
        self.commands = commands[: self.max_actions]

    def _info(self) -> dict[str, Any]:
        actions = self.commands + [PADDING] * (self.max_actions - len(self.commands))
        mask = np.zeros(self.max_actions, dtype=bool)
        mask[: len(self.commands)] = True
        return decision_info(
            self.prompt(), actions, mask, game=self.game_index, score=int(self._state.score or 0),
            max_score=int(self._state.max_score or 0), commands_cut=self.commands_cut,
        )  # fmt: skip

    def prompt(self) -> str:
        s = self._state
        parts = [f"You are playing a text game. Your goal: {clean(s.objective)}"]
        if self.recipe:
            parts.append(f"The recipe you read: {self.recipe}")
        parts.append(f"Where you are: {clean(s.description)}")
        parts.append(f"What you carry: {clean(s.inventory)}")
        for command, answer in self.past[len(self.past) - self.history :] if self.history else []:
            parts.append(f"You did: {command}. The game said: {answer}")
        parts.append("In order to reach your goal, your next step is to")
        return "\n".join(parts)

    # --- gymnasium ------------------------------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        index = (options or {}).get("game")
        if index is None:
            index = int(self.np_random.integers(self.num_games))
        elif isinstance(index, bool) or not isinstance(index, int | np.integer) or not 0 <= index < self.num_games:
            valid = f"an integer from 0 to {self.num_games - 1}"
            raise ValueError(f"options['game']={index!r} is not valid; valid: {valid}")
        self._read(self._start(int(index)))
        self.past: list[tuple[str, str]] = []
        self.recipe = ""
        self.elapsed_steps = 0
        info = self._info()
        return info["prompt"], info

    def step(self, action):
        index = check_action(action, self.max_actions, "action slots")
        if index >= len(self.commands):
            raise ValueError(
                f"invalid action {index}: this state has {len(self.commands)} commands (slots 0 to "
                f"{len(self.commands) - 1}); the other slots are masked"
            )
        command = self.commands[index]
        before = int(self._state.score or 0)
        state, _, _ = self._game.step(command)
        answer = clean(state.feedback)
        if command == "examine cookbook" and "Recipe" in answer:
            self.recipe = answer
        self.past.append((command, answer))
        self.elapsed_steps += 1
        self._read(state)
        success = bool(state.won)
        terminated = success or bool(state.lost)
        truncated = not terminated and self.elapsed_steps >= self.max_steps
        reward = float(int(state.score or 0) - before)
        info = step_info(self._info(), 1, success, command=command)
        return info["prompt"], reward, terminated, truncated, info

    def optimal_actions(self) -> tuple[int, ...]:
        """Indices, into the valid actions of the current observation (the list the agent scores, in its order),
        of the actions that begin an optimal continuation from the current state; () when none is known.

        The first of TextWorld's winning commands from the current state (its ``policy_commands``, the quest's
        winning policy as TextWorld tracks it: a plan that wins, not proven shortest), as its slot among this
        state's commands; () when that command is not among them (``meta_commands="drop"`` or ``max_actions`` cut
        it), when TextWorld knows no winning policy (a lost game), or after the episode ended.
        """
        if self._game is None or self._over():
            return ()
        policy = self._state.get("policy_commands") or []
        if not policy or policy[0] not in self.commands:
            return ()
        return (self.commands.index(policy[0]),)

    def _over(self) -> bool:
        s = self._state
        return bool(s.get("won")) or bool(s.get("lost")) or self.elapsed_steps >= self.max_steps

    def answer(self, command: str) -> str:
        """The game's answer to ``command`` (any text) from the current state, the episode unchanged: the command runs
        on a copy replayed to this state, so a command the admissible list lacks is judged by the game's own parser
        (``parser.refused``)."""
        if self._game is None:
            raise RuntimeError("answer before reset")
        copy = pickle.loads(pickle.dumps(self))  # a replay of this episode (``__setstate__``)
        try:
            state, _, _ = copy._game.step(command)
            return clean(state.feedback)
        finally:
            copy.close()

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (a checkpoint keeps its environments): TextWorld's running game is not, so the state keeps the
        game's index and the episode's commands, and unpickling replays them (the games are deterministic)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("_game", "_state")}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._game = None
        if self.game_index is not None:
            game_state = self._start(self.game_index)
            for command, _ in self.past:
                game_state, _, _ = self._game.step(command)
            self._read(game_state)

    def render(self):
        """``ansi``: the game's screen as a player sees it (the score, the room, the inventory); the prompt and the
        commands are the decision's, in ``info``."""
        if self.render_mode != "ansi":
            return None
        s = self._state
        score = f"Score {int(s.score or 0)} of {int(s.max_score or 0)}, {self.elapsed_steps} commands"
        return "\n\n".join([score, clean(s.description), clean(s.inventory)])

    def close(self):
        if self._game is not None:
            self._game.close()
            self._game = None
