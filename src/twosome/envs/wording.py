"""Meaning-preserving rewordings of what an environment shows (``env.wording=<name>``): the measure of the
prompt sensitivity TWOSOME names as a limit and never tests.

A wording is data, beside each family's environments (``<family>/wordings.yaml``): regular-expression rules applied in
order to the prompt (``prompt``), to every action text (``actions``), or to both (``both``: words that occur in
either, such as an object's name or, in BabyAI-Text, the actions the prompt lists and recalls). ``shuffle: true``
also shows the actions in another order (one fixed permutation per wording). The canonical wording is no rule at
all: the environment as it is, word for word the original's. ``Reworded`` changes only text (and, for a shuffle,
which index names which action): states, transitions and rewards are the environment's (tests/test_wording.py
plays each wording against the environment it rewords). ``random`` draws one of the family's ``TRAIN`` wordings at
every reset, from the reset's own seed; the others are held out for evaluation.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import gymnasium as gym
import numpy as np
import yaml

from twosome.envs.contract import ACTION_MASK, ACTIONS, PROMPT

CANONICAL, RANDOM = "canonical", "random"
FAMILIES = {"Overcooked": "overcooked", "VirtualHome": "virtualhome", "BabyAI": "babyai_text"}  # id prefix -> folder
TRAIN = 3  # ``random`` trains on the first TRAIN paraphrases of a family's file; the rest (and shuffles) are held out


@dataclass(frozen=True)
class Wording:
    name: str
    prompt: tuple[tuple[re.Pattern, str], ...] = ()
    actions: tuple[tuple[re.Pattern, str], ...] = ()
    shuffle: bool = False

    def prompt_text(self, text: str) -> str:
        for pattern, replacement in self.prompt:
            text = pattern.sub(replacement, text)
        return text

    def action_text(self, text: str) -> str:
        for pattern, replacement in self.actions:
            text = pattern.sub(replacement, text)
        return text


def family_of(env_id: str) -> str:
    name = env_id.split("/")[-1]
    for prefix, folder in FAMILIES.items():
        if name.startswith(prefix):
            return folder
    raise ValueError(f"{env_id!r} belongs to no family with wordings; families: {sorted(FAMILIES)}")


@cache
def wordings(family: str) -> dict[str, Wording]:
    """Every wording of a family by name, the canonical one first, in the file's order."""
    raw = yaml.safe_load((Path(__file__).parent / family / "wordings.yaml").read_text())
    out = {CANONICAL: Wording(CANONICAL)}
    for name, spec in raw.items():
        rules = {k: [(re.compile(p), r) for p, r in spec.get(k, [])] for k in ("prompt", "actions", "both")}
        out[name] = Wording(
            name,
            prompt=tuple(rules["prompt"] + rules["both"]),
            actions=tuple(rules["actions"] + rules["both"]),
            shuffle=bool(spec.get("shuffle", False)),
        )
    return out


def names(env_id: str) -> list[str]:
    """The valid values of ``env.wording`` for an environment."""
    return [*wordings(family_of(env_id)), RANDOM]


def train_wordings(env_id: str) -> list[str]:
    return [n for n, w in wordings(family_of(env_id)).items() if n != CANONICAL and not w.shuffle][:TRAIN]


class Reworded(gym.Wrapper):
    """The environment shown in another wording (see the module)."""

    def __init__(self, env: gym.Env, wording: str):
        super().__init__(env)
        env_id = env.spec.id if env.spec is not None else ""
        valid = names(env_id)
        if wording not in valid:
            raise ValueError(f"env.wording={wording!r} is not valid for {env_id}; valid: {valid}")
        self.family, self.choice = family_of(env_id), wording
        self.wording = wordings(self.family)[CANONICAL if wording == RANDOM else wording]
        self.order: np.ndarray | None = None  # shown index -> the environment's action index

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        if self.choice == RANDOM:
            pool = train_wordings(self.env.spec.id)
            self.wording = wordings(self.family)[pool[int(self.env.unwrapped.np_random.integers(len(pool)))]]
        n = len(info[ACTIONS])
        seed = zlib.crc32(self.wording.name.encode())  # the same permutation in every process
        self.order = np.random.default_rng(seed).permutation(n) if self.wording.shuffle else None
        return obs, self._reword(info)

    def step(self, action):
        inner = int(self.order[int(action)]) if self.order is not None else action
        obs, reward, terminated, truncated, info = self.env.step(inner)
        return obs, reward, terminated, truncated, self._reword(info)

    def optimal_actions(self) -> tuple[int, ...]:
        """The wrapped environment's ``optimal_actions`` as indices of the actions shown here (a shuffle moves them;
        a paraphrase keeps them), in the environment's order of preference."""
        inner = self.env.get_wrapper_attr("optimal_actions")()
        if self.order is None:
            return tuple(inner)
        shown = np.argsort(self.order)  # the environment's action index -> the index shown
        return tuple(int(shown[a]) for a in inner)

    def _reword(self, info: dict) -> dict:
        actions = [self.wording.action_text(a) for a in info[ACTIONS]]
        mask = np.asarray(info[ACTION_MASK], dtype=bool)
        if self.order is not None:
            actions, mask = [actions[i] for i in self.order], mask[self.order]
        return {**info, PROMPT: self.wording.prompt_text(info[PROMPT]), ACTIONS: actions, ACTION_MASK: mask}
