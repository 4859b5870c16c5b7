"""Observation prompt and action texts, word for word as TWOSOME's ``obs2text`` (``policy_pomdp.py``).

Like the original, the text is computed from the observation vector alone, so it only mentions what the agent
currently sees: an item at its starting spot is "noticed on the table", items at a board's or the agent's
position are "on the board" / "in hand". Every action is always offered; only its wording adapts.
"""

from __future__ import annotations

import numpy as np

from .observation import decode
from .tasks import TaskSpec
from .world import CHOPS_NEEDED, MOVES, Kitchen, Pos, kitchen_of

_ARTICLE = {"onion": "an"}


def _a(noun: str) -> str:
    return f"{_ARTICLE.get(noun, 'a')} {noun}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _front(kitchen: Kitchen, board: Pos) -> Pos:
    """The floor tile from which the agent faces ``board`` (where the original says "in front of")."""
    fronts = [(board[0] + dx, board[1] + dy) for dx, dy in MOVES if (board[0] + dx, board[1] + dy) in kitchen.floor]
    if len(fronts) != 1:
        raise ValueError(f"board at {board} must touch exactly one floor tile, touches {fronts}")
    return fronts[0]


def default_actions(task: TaskSpec) -> list[str]:
    names = task.text.board_names
    texts = {
        "board": lambda m: f"walk to the {names[m.arg]}",
        "deliver": lambda m: "serve nothing",
        "chop": lambda m: "chop nothing",
        "get": lambda m: task.text.bowl_action if m.arg == "plate" else f"pick up the {m.arg}",
    }
    return [texts[m.kind](m) for m in task.macro_actions]


def describe(obs: np.ndarray, task: TaskSpec) -> tuple[str, list[str]]:
    """(prompt, action texts in macro-action order) for an observation vector of ``task``."""
    kitchen = kitchen_of(task)
    seen = decode(obs, kitchen)
    words = task.text
    index = {(m.kind, m.arg): i for i, m in enumerate(task.macro_actions)}
    actions = default_actions(task)
    plate = kitchen.plate
    names = [*kitchen.foods, "bowl"]
    chopped = [c == CHOPS_NEEDED for c in seen.chops]
    agent = seen.positions[-1]

    def food_phrase(food: int) -> str:
        return ("a chopped " if chopped[food] else "an unchopped ") + names[food]

    # Which pieces are noticed at their starting spot, and which share the agent's or a board's position.
    noticed: list[str] = []
    places = [agent, *kitchen.boards]
    stacked: list[list[int]] = [[] for _ in places]
    for piece in range(len(names)):
        pos = seen.positions[piece]
        if pos == kitchen.piece_starts[piece]:
            noticed.append(_a(names[piece]))
        for place, pile in zip(places, stacked, strict=True):
            if pos == place:
                pile.append(piece)
                if len(pile) > 1:
                    actions[index[("get", "plate")]] = "take the bowl"
    in_hand, on_boards = stacked[0], stacked[1:]

    sentences = [words.intro]
    if noticed:
        where = "on the table" if len(noticed) == 1 else "on the different tables"
        sentences.append(f"you notice {_join(noticed)} {where}.".capitalize())

    fronts = [_front(kitchen, b) for b in kitchen.boards]
    for b, pile in enumerate(on_boards):
        board = words.board_names[b]
        if len(pile) == 1:
            piece = pile[0]
            thing = "a bowl" if piece == plate else food_phrase(piece)
            sentences.append(f"{thing} is on the {board}.".capitalize())
            if piece != plate and agent == fronts[b]:
                actions[index[("chop", None)]] = f"chop the {names[piece]}"
        elif len(pile) > 1:
            foods = _join([names[f] for f in pile[:-1]])
            sentences.append(words.bowl_on_board.format(foods=foods, board=board).capitalize())

    at_board = next((b for b, front in enumerate(fronts) if agent == front), None)
    prefix = "currently you are"
    if at_board is not None:
        prefix += f" standing in front of the {words.board_names[at_board]}"
    if not in_hand:
        if at_board is None:
            sentences.append("currently you don't have anything in hand.".capitalize())
        else:
            sentences.append(f"{prefix} without anything in hand.".capitalize())
    else:
        actions[index[("deliver", None)]] = "serve the dish"
        comma = "" if at_board is None else ","
        holds_bowl = len(in_hand) > 1 or in_hand[0] == plate
        if len(in_hand) > 1:
            foods = _join([names[f] for f in in_hand[:-1]])
            tail = "." if at_board is None else " in hand."
            sentences.append(f"{prefix}{comma} carrying a bowl containing chopped {foods}{tail}".capitalize())
        else:
            piece = in_hand[0]
            thing = "a bowl" if piece == plate else food_phrase(piece)
            sentences.append(f"{prefix}{comma} carrying {thing} in hand.".capitalize())
        if holds_bowl:
            for food in kitchen.foods:
                actions[index[("get", food)]] = f"put the {food} in the bowl"
        if holds_bowl or not chopped[in_hand[0]]:
            held_name = "bowl" if holds_bowl else names[in_hand[0]]
            for b, board in enumerate(words.board_names):
                actions[index[("board", b)]] = f"put the {held_name} on the {board}"
    sentences.append(words.goal)
    return " ".join(sentences), actions
