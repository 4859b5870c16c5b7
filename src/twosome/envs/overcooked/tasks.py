"""Task declarations: a task is pure data (map, recipe, macro actions, wording); adding one is a declaration.

Coordinates follow the original TWOSOME code: ``(x, y)`` with ``x`` the row (growing downwards) and ``y`` the
column, so ``layout[x][y]`` is the tile at ``(x, y)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# Order of the 7-dim task one-hot in the observation vector (the original's TASKLIST).
RECIPES: tuple[str, ...] = (
    "tomato salad",
    "lettuce salad",
    "onion salad",
    "lettuce-tomato salad",
    "onion-tomato salad",
    "lettuce-onion salad",
    "lettuce-onion-tomato salad",
)
# Order in which foods appear in the observation vector (and in prompts).
FOOD_ORDER: tuple[str, ...] = ("tomato", "lettuce", "onion")
# Order in which foods are named in a dish ("lettuce-tomato salad"); a delivered dish must equal the recipe.
DISH_ORDER: tuple[str, ...] = ("lettuce", "onion", "tomato")

# Layout legend. Foods use their own letter; every non-floor tile is a counter the agent cannot walk on.
TILE_FLOOR = "."
TILE_COUNTER = "#"
TILE_BOARD = "K"  # cutting board ("knife" in the original)
TILE_DELIVERY = "D"
TILE_AGENT = "A"
TILE_PLATE = "p"
FOOD_TILES: dict[str, str] = {"t": "tomato", "l": "lettuce", "o": "onion"}


@dataclass(frozen=True)
class Rewards:
    """Per-step rewards; defaults are what the TWOSOME scripts pass (``--env-reward 0.2 1 0.1 0.001``)."""

    subtask: float = 0.2  # a required ingredient finishes chopping
    correct_delivery: float = 1.0
    wrong_delivery: float = -0.1
    step: float = -0.001  # paid on every primitive step


@dataclass(frozen=True)
class MacroAction:
    """``get`` an item ("tomato", ..., "plate"), walk to ``board`` number ``arg``, ``deliver`` or ``chop``."""

    kind: Literal["get", "board", "deliver", "chop"]
    arg: str | int | None = None


@dataclass(frozen=True)
class TaskText:
    """The few phrases in which the original prompts of different tasks differ."""

    intro: str
    board_names: tuple[str, ...]  # "cutting board" or "first cutting board", ... (one per board, map order)
    bowl_action: str  # default text of the "get plate" action
    bowl_on_board: str  # "{foods}" and "{board}" placeholders; lower case, capitalised when used
    goal: str


@dataclass(frozen=True)
class TaskSpec:
    env_id: str
    recipe: str  # one of RECIPES
    layout: tuple[str, ...]
    macro_actions: tuple[MacroAction, ...]
    text: TaskText
    rewards: Rewards = field(default_factory=Rewards)
    horizon: int = 200  # primitive steps

    @property
    def required(self) -> frozenset[str]:
        """Foods whose chopping pays the subtask reward (the original tests ``food in recipe``)."""
        return frozenset(self.recipe.removesuffix(" salad").split("-"))


TOMATO_SALAD = TaskSpec(
    env_id="twosome/Overcooked-TomatoSalad-v0",
    recipe="tomato salad",
    layout=(
        "#####t#",
        "K...A.#",
        "#.....#",
        "D.....#",
        "#.....#",
        "#.....#",
        "#####p#",
    ),
    macro_actions=(
        MacroAction("get", "tomato"),
        MacroAction("get", "plate"),
        MacroAction("board", 0),
        MacroAction("deliver"),
        MacroAction("chop"),
    ),
    text=TaskText(
        intro="There is a fixed cutting board in the room.",
        board_names=("cutting board",),
        bowl_action="take the bowl",
        bowl_on_board="a bowl containing a chopped {foods} is on the {board}.",
        goal="To serve the dish of a bowl only containing chopped tomato, you should first",
    ),
)

TOMATO_LETTUCE_SALAD = TaskSpec(
    env_id="twosome/Overcooked-TomatoLettuceSalad-v0",
    recipe="lettuce-tomato salad",
    layout=(
        "#####t#",
        "K...A.l",
        "K.....o",
        "D.....#",
        "#.....#",
        "#.....#",
        "#####p#",
    ),
    macro_actions=(
        MacroAction("get", "tomato"),
        MacroAction("get", "lettuce"),
        MacroAction("get", "onion"),
        MacroAction("get", "plate"),
        MacroAction("board", 0),
        MacroAction("board", 1),
        MacroAction("deliver"),
        MacroAction("chop"),
    ),
    text=TaskText(
        intro="There are two fixed cutting boards in the room.",
        board_names=("first cutting board", "second cutting board"),
        bowl_action="take the empty bowl",
        bowl_on_board="a bowl containing chopped {foods} is on the {board}.",
        goal="To serve the dish of a bowl only containing chopped tomato and lettuce, you should first",
    ),
)

TASKS: dict[str, TaskSpec] = {t.env_id: t for t in (TOMATO_SALAD, TOMATO_LETTUCE_SALAD)}
