"""The symbolic observation: named 0/1 features read off what the agent sees, and goals written over them.

As in the original, every feature is computed on the *observed* graph (visible nodes and the edges between
them), so a pancake in a closed microwave is neither seen nor "in the microwave", and the goal tests exactly
the flags the original's reward tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from .scene import AGENT, ON, OPEN
from .world import CLOSE, FACING, HANDS, INSIDE, ON_TOP, World

FeatureKind = Literal["in_room", "sees", "close", "holds", "inside", "on", "is_open", "is_on", "facing", "sits_on"]


@dataclass(frozen=True)
class Feature:
    """One vector entry. ``key`` is the name prompts and goals use; ``args`` name the scene nodes it reads."""

    key: str
    kind: FeatureKind
    args: tuple[str, ...]


# A goal in conjunctive normal form: every clause must hold, a clause holds when any of its literals does.
# A literal is a feature key, or "not <key>".
Goal = tuple[tuple[str, ...], ...]


def _value(world: World, seen: frozenset[str], feature: Feature) -> bool:
    kind, args = feature.kind, feature.args
    if any(a not in seen for a in args):
        return False  # features about unseen nodes read 0, as in the original
    x = args[0]
    if kind == "in_room":
        return world.has(AGENT, INSIDE, x)
    if kind == "sees":
        return True
    if kind == "close":
        return world.has(AGENT, CLOSE, x)
    if kind == "holds":
        return any(world.has(AGENT, hand, x) for hand in HANDS)
    if kind == "inside":
        return world.has(x, INSIDE, args[1])
    if kind == "on":
        return world.has(x, ON_TOP, args[1])
    if kind == "is_open":
        return OPEN in world.states.get(x, ())
    if kind == "is_on":
        return ON in world.states.get(x, ())
    if kind == "facing":
        return world.has(AGENT, FACING, x)
    if kind == "sits_on":
        return world.has(AGENT, ON_TOP, x)
    raise ValueError(f"unknown feature kind {kind!r}")


def read_features(world: World, features: tuple[Feature, ...]) -> dict[str, bool]:
    seen = world.visible()
    return {f.key: _value(world, seen, f) for f in features}


def to_vector(flags: dict[str, bool], features: tuple[Feature, ...]) -> np.ndarray:
    return np.array([float(flags[f.key]) for f in features], dtype=np.float32)


def holds_goal(flags: dict[str, bool], goal: Goal) -> bool:
    def literal(text: str) -> bool:
        return not flags[text[4:]] if text.startswith("not ") else flags[text]

    return all(any(literal(lit) for lit in clause) for clause in goal)
