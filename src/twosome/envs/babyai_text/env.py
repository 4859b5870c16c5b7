"""Gymnasium environment: GLAM's BabyAI-Text, one step is one primitive minigrid action chosen among six texts."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np
from minigrid.core.constants import COLOR_NAMES
from minigrid.envs.babyai.core.verifier import (
    AfterInstr,
    BeforeInstr,
    GoToInstr,
    ObjDesc,
    OpenInstr,
    PickupInstr,
    PutNextInstr,
)

from twosome.envs.actions import check_action
from twosome.envs.contract import decision_info, step_info

from .levels import FAMILIES, NUM_DISTRACTORS, SPLITS, MixedLocalLevel, check_num_distractors
from .oracle import BotOracle
from .text import build_prompt, describe
from .variants import VARIANTS, Variant

REWARD_SCALE = 20.0
"""GLAM multiplies the environment's success reward by 20 in the learner (``train_language_agent.reward_function``)."""

HISTORY = 3
"""GLAM's ``nbr_obs``: the prompt shows the last 3 observations and the 2 actions between them."""

VIEW = 7
MISSION_FORMS = ("goto", "pickup", "open", "putnext", "pickup_then_goto", "goto_after_pickup")
_TYPES = ("key", "ball", "box", "door")
_SLOT = len(_TYPES) + len(COLOR_NAMES) + 1  # type one-hot, colour one-hot, "no colour named"
MISSION_SIZE = len(MISSION_FORMS) + 2 * _SLOT
OBS_SIZE = VIEW * VIEW * 3 + MISSION_SIZE


_SINGLE = {GoToInstr: "goto", PickupInstr: "pickup", OpenInstr: "open"}


def _slot(desc: ObjDesc | None) -> np.ndarray:
    out = np.zeros(_SLOT, dtype=np.float32)
    if desc is not None:
        out[_TYPES.index(desc.type)] = 1.0
        out[len(_TYPES) + (COLOR_NAMES.index(desc.color) if desc.color else len(COLOR_NAMES))] = 1.0
    return out


def encode_mission(instr) -> np.ndarray:
    """The mission as numbers, for agents that read no text: its form, then the first and second object named."""
    if type(instr) in _SINGLE:
        form, first, second = _SINGLE[type(instr)], instr.desc, None
    elif isinstance(instr, PutNextInstr):
        form, first, second = "putnext", instr.desc_move, instr.desc_fixed
    elif isinstance(instr, BeforeInstr):  # pick up A, then go to B
        form, first, second = "pickup_then_goto", instr.instr_a.desc, instr.instr_b.desc
    elif isinstance(instr, AfterInstr):  # go to B after you pick up A
        form, first, second = "goto_after_pickup", instr.instr_b.desc, instr.instr_a.desc
    else:
        raise TypeError(f"cannot encode instruction {type(instr).__name__}")
    head = np.zeros(len(MISSION_FORMS), dtype=np.float32)
    head[MISSION_FORMS.index(form)] = 1.0
    return np.concatenate([head, _slot(first), _slot(second)])


# GLAM's action-space study (its GoTo experiments with 3, 6 and 9 actions; the extra texts are those of its
# analysis scripts). Actions past "go forward" move nothing: they are minigrid's `done`, which only spends a step.
NAVIGATION = ("turn left", "turn right", "go forward")
ACTION_SPACES: dict[str, tuple[str, ...] | None] = {
    "standard": None,  # the variant's six: turn left, turn right, go forward, pick up, drop, toggle
    "navigation_3": NAVIGATION,
    "useless_6": (*NAVIGATION, "eat", "dance", "sleep"),
    "useless_9": (*NAVIGATION, "eat", "dance", "sleep", "do nothing", "cut", "think"),
}
MINIGRID_DONE = 6


class BabyAITextEnv(gym.Env):
    """GLAM's BabyAI-Text Mixed levels (train or held-out test), told in English or a generalization variant.

    Actions: ``Discrete(6)`` (see ``action_space``), the texts in ``info["actions"]`` ("turn left", "turn right",
    "go forward", "pick up", "drop", "toggle" unless the variant renames them), all always valid. Observation:
    float32 vector of ``OBS_SIZE`` = the 7x7x3 minigrid view (object, colour, state indices) flattened, then
    ``encode_mission``. ``info["prompt"]`` is GLAM's prompt over the last ``history`` observations of this episode.

    Reward ``reward_scale * (1 - 0.9 * t / T)`` on success (minigrid's BabyAI reward, scaled as GLAM's learner
    does), else 0. Success or a failed sequence terminates; the horizon ``T`` (64 goto/pickup, 128 open, putnext
    and sequences, or ``max_steps``) truncates.

    ``action_space``: ``standard`` (the six above), or GLAM's study: ``navigation_3`` (turn left, turn right, go
    forward), ``useless_6`` and ``useless_9`` (those plus 3 or 6 actions that move nothing: "eat", "dance", ...).

    ``num_distractors``: objects placed besides the goal's (8, GLAM's level; GLAM's robustness study varies 4-16).
    At most what the room can hold (30, 29 with putnext or the sequence: ``levels.max_distractors``); above about
    16 few layouts leave every object reachable, so resets slow down and give up after ``levels.MAX_LAYOUTS`` draws.

    ``family_sampling``: ``"episode"`` draws the goal family at every reset; ``"instance"`` draws it at the first
    reset and keeps it, as GLAM's level does per ``gym.make`` (so GLAM's 32 training envs are 32 fixed families).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(
        self,
        split: str = "train",
        families: Sequence[str] | str | None = None,
        variant: str = "none",
        reward_scale: float = REWARD_SCALE,
        family_sampling: str = "episode",
        history: int = HISTORY,
        max_steps: int | None = None,
        num_distractors: int = NUM_DISTRACTORS,
        action_space: str = "standard",
        render_mode: str | None = None,
    ):
        if not isinstance(split, str) or split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; known: {sorted(SPLITS)}")
        if families is None:
            families = FAMILIES
        elif isinstance(families, str):
            families = (families,)
        elif isinstance(families, Sequence):
            families = tuple(families)
        else:
            raise ValueError(f"families must be a name or a list of names from {list(FAMILIES)}, got {families!r}")
        unknown = [f for f in families if not isinstance(f, str) or f not in FAMILIES]
        if not families or unknown:
            raise ValueError(f"families must be a non-empty subset of {list(FAMILIES)}, got {list(families)}")
        if not isinstance(variant, str) or variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; known: {sorted(VARIANTS)}")
        if (
            isinstance(reward_scale, bool)
            or not isinstance(reward_scale, int | float | np.integer | np.floating)
            or not np.isfinite(reward_scale)
            or reward_scale <= 0
        ):
            raise ValueError(f"reward_scale must be a positive number, got {reward_scale!r}")
        if family_sampling not in ("episode", "instance"):
            raise ValueError(f"family_sampling must be 'episode' or 'instance', got {family_sampling!r}")
        if not isinstance(history, int | np.integer) or isinstance(history, bool) or history < 1:
            raise ValueError(f"history must be an integer >= 1, got {history!r}")
        if max_steps is not None and (
            isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer) or max_steps < 1
        ):
            raise ValueError(f"max_steps must be None or an integer >= 1, got {max_steps!r}")
        num_distractors = check_num_distractors(num_distractors, families)  # refuse now what no reset can place
        if not isinstance(action_space, str) or action_space not in ACTION_SPACES:
            raise ValueError(f"unknown action_space {action_space!r}; known: {list(ACTION_SPACES)}")
        if action_space != "standard" and variant != "none":
            raise ValueError(
                f"action_space={action_space!r} needs variant='none' (GLAM's action-space study is in plain English; "
                f"the variants reword or replace the six standard actions), got variant={variant!r}"
            )
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']} or None, got {render_mode!r}")
        self.split = split
        self.families = families
        self.variant: Variant = VARIANTS[variant]
        self.reward_scale = float(reward_scale)
        self.family_sampling = family_sampling
        self.history = int(history)
        self.max_steps = None if max_steps is None else int(max_steps)
        self.num_distractors = int(num_distractors)
        self.render_mode = render_mode
        texts = ACTION_SPACES[action_space]
        self.action_texts = list(self.variant.actions if texts is None else texts)
        # text index -> minigrid action: the same index for the standard six, `done` for GLAM's useless actions
        self._minigrid_actions = [
            i if texts is None or i < len(NAVIGATION) else MINIGRID_DONE for i in range(len(self.action_texts))
        ]
        self.action_space = gym.spaces.Discrete(len(self.action_texts))
        self.observation_space = gym.spaces.Box(0.0, 10.0, shape=(OBS_SIZE,), dtype=np.float32)
        self._levels: dict[str, MixedLocalLevel] = {}
        self._pinned: str | None = None
        self.level: MixedLocalLevel | None = None
        self.family: str | None = None
        self._goal = ""
        self._observations: deque[list[str]] = deque(maxlen=self.history)
        self._past_actions: deque[str] = deque(maxlen=self.history - 1)
        self._ended = True
        self._oracle = BotOracle(self.split, self.num_distractors, self.max_steps)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        if self.family_sampling == "instance" and self._pinned is not None:
            family = self._pinned
        else:
            family = self.families[int(self.np_random.integers(len(self.families)))]
            self._pinned = family
        self.family = family
        self.level = self._level(family)
        level_seed = int(self.np_random.integers(2**31 - 1))
        try:
            obs, _ = self.level.reset(seed=level_seed)
        except RuntimeError as error:  # no layout passed: say which env reset drew the level's seed
            raise RuntimeError(f"{error}; the level's seed came from env.reset(seed={seed!r})") from error
        self._oracle.start(family, level_seed)
        self._goal = self.variant.goal(self.level)
        self._observations.clear()
        self._past_actions.clear()
        self._ended = False
        return self._observe(obs["image"])

    def step(self, action):
        index = self._check_action(action)
        if self._ended:
            raise RuntimeError("step() called after the episode ended; call reset() first")
        obs, raw, terminated, truncated, _ = self.level.step(self._minigrid_actions[index])
        self._oracle.record(self._minigrid_actions[index])
        success = bool(terminated and raw > 0)
        truncated = bool(truncated and not terminated)
        self._ended = bool(terminated or truncated)
        self._past_actions.append(self.action_texts[index])
        vector, info = self._observe(obs["image"])
        step_info(info, 1, success, elapsed_steps=int(self.level.step_count))
        return vector, self.reward_scale * float(raw) if success else 0.0, bool(terminated), truncated, info

    def render(self):
        if self.level is None:
            return None
        if self.render_mode == "ansi":
            return f"{self.level.mission}\n{self.level.pprint_grid()}"
        if self.render_mode == "rgb_array":
            return self.level.get_frame()
        return None

    def optimal_actions(self) -> tuple[int, ...]:
        """Indices, into the valid actions of the current observation (the list the agent scores, in its order),
        of the actions that begin an optimal continuation from the current state; () when none is known.

        minigrid's BabyAI bot's next action (``oracle.BotOracle``: the bot follows the whole episode on a copy of the
        level, so asking changes nothing of the environment), as the index of its text: one index, or () when the
        action space lacks it (``navigation_3`` and a bot that wants to pick up, drop or toggle), when the bot has
        nothing but minigrid's ``done`` to suggest, when it gave up on this episode (it raises, e.g. after a box was
        opened: ``self._oracle.failure`` says why), or after the episode ended. The bot solves every BabyAI level
        GLAM's families are drawn from, but it is not guaranteed shortest (it explores what it has not seen).
        """
        if self._ended or self.level is None:
            return ()
        action = self._oracle.next_action(self.level)
        if action is None or action == MINIGRID_DONE:
            return ()
        return tuple(i for i, m in enumerate(self._minigrid_actions) if m == action)

    def close(self):
        for level in self._levels.values():
            level.close()

    @property
    def horizon(self) -> int:
        """The current episode's step limit T."""
        return int(self.level.max_steps)

    def _level(self, family: str) -> MixedLocalLevel:
        if family not in self._levels:
            self._levels[family] = MixedLocalLevel(
                family, self.split, num_dists=self.num_distractors, max_steps=self.max_steps
            )
        return self._levels[family]

    def _observe(self, image: np.ndarray) -> tuple[np.ndarray, dict[str, Any]]:
        sentences = describe(image, self.variant.lexicon)
        self._observations.append(sentences)
        prompt = build_prompt(
            self.action_texts, self._goal, list(self._observations), list(self._past_actions), self.variant.prompt_words
        )
        vector = np.concatenate([image.reshape(-1).astype(np.float32), encode_mission(self.level.instrs)])
        info = decision_info(  # every action is always valid
            self.variant.reword(prompt),
            self.action_texts,
            mission=self.level.mission,
            descriptions=list(sentences),
            family=self.family,
            horizon=self.horizon,
        )
        return vector, info

    def _check_action(self, action) -> int:
        return check_action(action, int(self.action_space.n))
