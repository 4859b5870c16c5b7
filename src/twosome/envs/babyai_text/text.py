"""What the language agent reads: BabyAI-Text's sentences for the 7x7 egocentric view, and GLAM's prompt.

Both reproduce the original word for word (``gym_minigrid/minigrid.py::MiniGridEnv.gen_graph`` of GLAM's
``babyai-text`` fork, and ``experiments/agents/base_agent.py::generate_prompt``), quirks included:

* walls are named only on the three straight rays (forward, left, right) and only when nothing stands between the
  agent and the wall; unseen and empty cells are looked through;
* every visible non-wall object is listed, left to right then far to near (view column, then view row);
* a door always reads "a {state} {colour} door", so an open one is "a open" (the original tests a state *name*
  against 0, which is never equal);
* the prompt ends each observation with ", " even when it is the last one, and the observation header is preceded
  by " \\n " but the action header by "\\n ".

The carried object is read from the agent's own cell of the view, where minigrid draws it (``gen_obs_grid``), so
``describe`` is a pure function of the 7x7x3 image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from minigrid.core.constants import IDX_TO_COLOR, IDX_TO_OBJECT, OBJECT_TO_IDX

UNSEEN = OBJECT_TO_IDX["unseen"]
EMPTY = OBJECT_TO_IDX["empty"]
WALL = OBJECT_TO_IDX["wall"]
DOOR = OBJECT_TO_IDX["door"]


@dataclass(frozen=True)
class Lexicon:
    """The words of one language; formats take ``color``, ``obj``, ``state`` and ``steps`` (``carry`` also the
    English ``color_en`` and ``obj_en``)."""

    colors: dict[int, str]
    objects: dict[int, str]
    states: dict[int, str]  # minigrid door state: 0 open, 1 closed, 2 locked
    carry: str
    wall: str
    thing: str  # ends with a space, as the original's
    door: str
    step: str  # one step
    steps: str  # more than one
    left: str
    right: str
    forward: str
    conjunction: str

    def distance(self, n: int, direction: str) -> str:
        return (self.steps if n > 1 else self.step).format(n=n) + " " + direction


ENGLISH = Lexicon(
    colors=dict(IDX_TO_COLOR),
    objects=dict(IDX_TO_OBJECT),
    states={0: "open", 1: "closed", 2: "locked"},
    carry="You carry a {color} {obj}",
    wall="You see a wall {steps}",
    thing="You see a {color} {obj} ",
    door="You see a {state} {color} {obj} ",
    step="{n} step",
    steps="{n} steps",
    left="left",
    right="right",
    forward="forward",
    conjunction=" and ",
)

# The original's French branch of gen_graph (its French level was left unfinished, see docs/BABYAI_TEXT.md).
FRENCH = Lexicon(
    colors={0: "rouge", 1: "verte", 2: "bleue", 3: "violette", 4: "jaune", 5: "grise"},
    objects={
        0: "non visible",
        1: "vide",
        2: "mur",
        3: "sol",
        4: "porte",
        5: "clef",
        6: "balle",
        7: "boîte",
        8: "but",
        9: "lave",
        10: "agent",
    },
    states={0: "ouverte", 1: "fermée", 2: "fermée à clef"},
    carry="Tu portes une {obj_en} {color_en}",  # sic: the original formats the English names here
    wall="Tu vois un mur à {steps}",
    thing="Tu vois une {obj} {color} ",
    door="Tu vois une {obj} {color} {state} ",
    step="{n} pas",
    steps="{n} pas",
    left="à gauche",
    right="à droite",
    forward="devant",
    conjunction=" et ",
)


def _wall_distance(cells: np.ndarray) -> int | None:
    """Steps to the first wall along a ray of cell types (nearest first), or None if anything else comes first."""
    for k, kind in enumerate(cells, start=1):
        if kind in (UNSEEN, EMPTY):
            continue
        return k if kind == WALL else None
    return None


def describe(image: np.ndarray, lexicon: Lexicon = ENGLISH) -> list[str]:
    """The sentences for one egocentric view (minigrid's ``(view, view, 3)`` encoding, agent at the bottom middle)."""
    width, height = image.shape[0], image.shape[1]
    ax, ay = width // 2, height - 1
    kinds = image[:, :, 0]
    out: list[str] = []

    carried = image[ax, ay]
    if int(carried[0]) not in (UNSEEN, EMPTY):
        kind, color = int(carried[0]), int(carried[1])
        out.append(
            lexicon.carry.format(
                color=lexicon.colors[color],
                obj=lexicon.objects[kind],
                color_en=IDX_TO_COLOR[color],
                obj_en=IDX_TO_OBJECT[kind],
            )
        )

    rays = (  # nearest cell first; minigrid's view is at least 3x3, so the agent has cells ahead and aside
        (kinds[ax, ay - 1 :: -1], lexicon.forward),
        (kinds[ax - 1 :: -1, ay], lexicon.left),
        (kinds[ax + 1 :, ay], lexicon.right),
    )
    for cells, direction in rays:
        n = _wall_distance(cells)
        if n is not None:
            out.append(lexicon.wall.format(steps=lexicon.distance(n, direction)))

    for i in range(width):
        for j in range(height):
            kind = int(kinds[i, j])
            if kind in (UNSEEN, EMPTY, WALL) or (i == ax and j == ay):
                continue
            dx, dy = i - ax, ay - j
            side = lexicon.right if dx > 0 else lexicon.left
            if dx == 0:
                parts = [lexicon.distance(dy, lexicon.forward)]
            elif dy == 0:
                parts = [lexicon.distance(abs(dx), side)]
            else:
                parts = [lexicon.distance(abs(dx), side), lexicon.distance(dy, lexicon.forward)]
            words = {"color": lexicon.colors[int(image[i, j, 1])], "obj": lexicon.objects[kind]}
            head = lexicon.door if kind == DOOR else lexicon.thing
            words["state"] = lexicon.states.get(int(image[i, j, 2]), "")
            out.append(head.format(**words) + lexicon.conjunction.join(parts))
    return out


@dataclass(frozen=True)
class PromptWords:
    """The fixed words of GLAM's prompt: its header, and the label before the goal."""

    header: str
    goal: str


ENGLISH_PROMPT = PromptWords(header="Possible action of the agent:", goal="Goal of the agent")
FRENCH_PROMPT = PromptWords(header="Actions possibles pour l'agent:", goal="But de l'agent")


def build_prompt(
    actions: Sequence[str],
    goal: str,
    observations: Sequence[Sequence[str]],
    past_actions: Sequence[str],
    words: PromptWords = ENGLISH_PROMPT,
) -> str:
    """GLAM's prompt for the last observations and the actions taken between them (``len(past_actions) < len(obs)``).

    ``Possible action of the agent: a1, a2 \\n Goal of the agent: g \\n Observation 0: d1, d2, \\n Action 0: a
    \\n Observation 1: ..., \\n Action 1: `` -- the last action slot is left empty for the candidate.
    """
    parts = [(words.header + "".join(f" {a}," for a in actions))[:-1], f" \n {words.goal}: {goal}"]
    for i, sentences in enumerate(observations):
        parts.append(f" \n Observation {i}: " + "".join(f"{s}, " for s in sentences))
        parts.append(f"\n Action {i}: " + (past_actions[i] if i < len(past_actions) else ""))
    return "".join(parts)
