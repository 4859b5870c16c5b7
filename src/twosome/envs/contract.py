"""The contract between an environment and the rest of the suite, written down once (numpy only: no models, no torch).

An environment is a gymnasium env whose actions are ``Discrete(len(actions))`` and whose ``info`` (from ``reset``
and ``step``) carries what a language agent reads at a decision:

``prompt`` (str)
    The text shown to the model before it chooses, in the original's words.
``actions`` (list[str])
    The text of every action, index ``a`` being action ``a``; the same length at every decision.
``action_mask`` (bool array, ``len(actions)``)
    ``action_mask[a]`` says whether the policy may choose action ``a`` here (all True where every action is valid).

and, in the info of ``step`` only, what that step did:

``primitive_steps`` (int >= 1)
    How many primitive steps the action took (a macro action takes several; a primitive action 1). The learner
    discounts the next decision by ``gamma ** primitive_steps``. Read as 1 where absent.
``success`` (bool)
    Whether the task was accomplished by this step (the success rate counts it). Read as False where absent.

Any other keys (``elapsed_steps``, ``mission``...) are the environment's own and pass through untouched. Build the
info with :func:`decision_info` and add the step fields with :func:`step_info`, so that every environment spells the
contract the same way; read it with :func:`read_decision`.

The observation is the environment's symbolic vector, for agents that read no text (MLP, SayCan's critic): a
numeric array (declare a ``Box``). An environment without one declares ``observation_space = text_space()`` and
returns a string (e.g. the prompt) as observation; :func:`read_vector` then gives None and so does the ObsBatch's
``vectors``. (Do not use a ``Discrete(1)`` dummy: its 0 is numeric and would be read as a one-number vector.)
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

PROMPT, ACTIONS, ACTION_MASK = "prompt", "actions", "action_mask"
PRIMITIVE_STEPS, SUCCESS = "primitive_steps", "success"

DECISION_KEYS = (PROMPT, ACTIONS, ACTION_MASK)
"""What every info carries, at reset and after every step."""

STEP_FIELDS: dict[str, Any] = {PRIMITIVE_STEPS: 1, SUCCESS: False}
"""What a step's info carries besides the decision, with the value a reader assumes where it is absent."""


@dataclass(frozen=True)
class Decision:
    """What an environment shows at one decision: the prompt, every action's text, and which ones may be chosen."""

    prompt: str
    actions: list[str]
    action_mask: np.ndarray


@dataclass(frozen=True)
class StepFields:
    """What one step did, besides leading to the next decision: see the module's docstring."""

    primitive_steps: int
    success: bool


def decision_info(
    prompt: str, actions: Sequence[str], action_mask: np.ndarray | None = None, **extra: Any
) -> dict[str, Any]:
    """The info of a decision (``action_mask`` None: every action valid), then the environment's own ``extra`` keys.

    ``actions`` is copied, so the environment may keep reusing its own list.
    """
    actions = list(actions)
    mask = np.ones(len(actions), dtype=bool) if action_mask is None else action_mask
    if np.shape(mask) != (len(actions),):
        raise ValueError(f"action_mask has shape {np.shape(mask)}; expected ({len(actions)},), one per action")
    return {PROMPT: prompt, ACTIONS: actions, ACTION_MASK: mask, **extra}


def step_info(info: dict[str, Any], primitive_steps: int, success: bool, **extra: Any) -> dict[str, Any]:
    """``info`` (from :func:`decision_info`) with the step fields and the environment's own ``extra`` keys added."""
    info.update({PRIMITIVE_STEPS: primitive_steps, SUCCESS: success}, **extra)
    return info


def read_decision(info: Mapping[str, Any], row: int | None = None) -> Decision:
    """The decision in one environment's ``info``, or in row ``row`` of a vector environment's (batched) ``info``.

    A ValueError names a missing key, the contract's keys and the keys the info has.
    """
    values = [_field(info, key, row) for key in DECISION_KEYS]
    prompt, actions = str(values[0]), [str(a) for a in values[1]]
    mask = np.asarray(values[2], dtype=bool).reshape(-1)
    if len(mask) != len(actions):
        where = "" if row is None else f" (env {row})"
        raise ValueError(f"action_mask has {len(mask)} entries but there are {len(actions)} actions{where}")
    return Decision(prompt, actions, mask)


def read_step(info: Mapping[str, Any]) -> StepFields:
    """The step fields of one environment's step ``info``, with their defaults where absent."""
    values = {key: info.get(key, default) for key, default in STEP_FIELDS.items()}
    return StepFields(int(values[PRIMITIVE_STEPS]), bool(values[SUCCESS]))


def read_vector(obs: Any) -> np.ndarray | None:
    """The symbolic vector of one environment's observation as float32; None when it is not numeric (text-only)."""
    array = np.asarray(obs)
    if array.dtype.kind not in "biuf":
        return None
    return array.astype(np.float32, copy=False)


def text_space(max_length: int = 100_000) -> gym.spaces.Text:
    """The observation space of an environment without a symbolic vector: its observation is a string."""
    return gym.spaces.Text(max_length=max_length, min_length=0, charset=string.printable)


def _field(info: Mapping[str, Any], key: str, row: int | None) -> Any:
    """``info[key]`` (row ``row`` of it for a batched info), or a ValueError naming the key and the valid ones."""
    filled = info.get("_" + key)  # a batched info marks the rows whose env gave the key
    present = key in info and (row is None or filled is None or bool(filled[row]))
    if not present:
        where = "" if row is None else f" of env {row}"
        has = sorted(k for k in info if not k.startswith("_"))
        raise ValueError(
            f"the info{where} has no {key!r}: an environment's info must carry {list(DECISION_KEYS)} "
            f"(and after a step {list(STEP_FIELDS)}); it has {has}"
        )
    return info[key] if row is None else info[key][row]
