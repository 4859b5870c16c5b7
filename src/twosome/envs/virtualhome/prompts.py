"""Observation prompts and valid-action sets, word for word as TWOSOME's policies build them from the vector.

The original has no environment-side text: ``policy_v1.obs2text`` (Food Preparation) and ``policy_v2.obs2text``
(Entertainment) turn the 0/1 observation vector into a prompt and the list of actions the LLM may choose from.
The two functions are hand-written decision trees; they are reproduced here branch for branch (typos and
slips included: "opend", "grabbed the them", a sentence said twice, "walk to the milk" offered when only the
chips are in sight), with the nouns taken from the task's wording so that the unseen tasks reuse them.

There are two prompt styles, one per original: :class:`ContainerWords` (put an item into an appliance:
Food Preparation and its six variants) and :class:`WatchWords` (Entertainment).
"""

from __future__ import annotations

from dataclasses import dataclass

# The original's room names in prompts, keyed by the room features.
_ROOMS = (
    ("in_kitchen", "kitchen"),
    ("in_bathroom", "bathroom"),
    ("in_bedroom", "bedroom"),
    ("in_livingroom", "living room"),
)
_INTRO = "There are four rooms: the kitchen, bathroom, bedroom, and living room. You are in the {}"
_NEXT = "your next step is to"


@dataclass(frozen=True)
class ContainerWords:
    """Wording of the Food Preparation style; flags used: rooms, ``see/close_to/hold_item``,
    ``see/close_to_box``, ``box_open``."""

    item: str  # "pancake"
    box: str  # "microwave"
    goal: str  # "heat up the pancake in the microwave"


@dataclass(frozen=True)
class WatchWords:
    """Wording of the Entertainment style; flags used: rooms, ``see/close_to/hold_food``, ``food_on_table``, the
    same for ``drink``, ``close_to_table``, ``close_to_tv``, ``tv_on``, ``close_to_seat``, ``sitting_on_seat``."""

    food: str = "chips"
    food_be: str = "are"
    drink: str = "milk"
    drink_be: str = "is"
    table: str = "coffee table"
    screen: str = "TV"
    seat: str = "sofa"
    goal: str = "enjoy the chips and the milk while watching TV"


def _room(f: dict[str, bool]) -> str:
    rooms = [name for key, name in _ROOMS if f[key]]
    if len(rooms) != 1:
        raise ValueError(f"the agent must be in exactly one room, flags say {rooms}")
    return rooms[0]


def describe(flags: dict[str, bool], words: ContainerWords | WatchWords) -> tuple[str, tuple[int, ...]]:
    """Prompt and valid action indices for the observation ``flags`` (feature key -> bool)."""
    if isinstance(words, ContainerWords):
        return _describe_container(flags, words)
    if isinstance(words, WatchWords):
        return _describe_watch(flags, words)
    raise TypeError(f"unknown prompt wording {type(words).__name__}")


# ----- Food Preparation style (policy_v1) --------------------------------------------------------------------
# Actions: 0-3 walk to living room / kitchen / bathroom / bedroom, 4 walk to item, 5 walk to box, 6 grab item,
# 7 put item in box, 8 open box, 9 close box.


def _describe_container(f: dict[str, bool], w: ContainerWords) -> tuple[str, tuple[int, ...]]:
    room = _room(f)
    text = _INTRO.format(room) + ". "
    empty = "Currently, you are not grabbing anything in hand. "
    grabbed = f"Currently, you have grabbed the {w.item} in hand. "
    if room == "kitchen":
        text += f"You notice {w.item} and {w.box}. " if f["see_item"] else f"The {w.item} is in the {w.box}. "
        if f["hold_item"]:
            text += grabbed
            if f["close_to_box"]:
                text += f"The {w.box} is close to you. "
                valid = (0, 2, 3, 4, 7, 8, 9)
            else:
                text += f"The {w.box} is not close to you. "
                valid = (0, 2, 3, 4, 5)
        elif f["close_to_item"] and not f["close_to_box"]:
            text += empty + f"The {w.item} is close to you. "
            valid = (0, 2, 3, 5, 6)
        elif f["close_to_box"] and not f["close_to_item"]:
            text += empty + f"The {w.box} is close to you. "
            valid = (0, 2, 3, 4, 8, 9)
        elif not f["close_to_item"] and not f["close_to_box"]:
            text += empty + f"The {w.item} and the {w.box} are not close to you. "
            valid = (0, 2, 3, 4, 5)
        else:  # close to both, empty-handed: the original says nothing about the hands here
            valid = (0, 2, 3, 8, 9) if f["box_open"] else (0, 2, 3, 9)
        if f["see_item"] and f["box_open"]:
            text += f"The {w.box} is opened. "
        elif f["see_item"]:
            text += f"The {w.box} is not opend. "
        else:
            text += f"The {w.box} is closed. "
            valid = (0, 2, 3)
    else:
        text += "and notice nothing useful. " + (grabbed if f["hold_item"] else empty)
        valid = {"bathroom": (0, 1, 3), "bedroom": (0, 1, 2), "living room": (1, 2, 3)}[room]
    return text + f"In order to {w.goal}, " + _NEXT, valid


# ----- Entertainment style (policy_v2) -----------------------------------------------------------------------
# Actions: 0-3 walk to living room / kitchen / bathroom / bedroom, 4 walk to food, 5 walk to drink, 6 walk to
# table, 7 walk to screen, 8 walk to seat, 9 grab food, 10 grab drink, 11 put food on table, 12 put drink on
# table, 13 switch screen on, 14 switch screen off, 15 sit on seat, 16 stand up.


def _hands_short(f: dict[str, bool], w: WatchWords) -> str:
    """Hands sentence of the bedroom, bathroom and "nothing is close" living room."""
    if f["hold_food"] and f["hold_drink"]:
        return f"Currently, you have grabbed the {w.food} and the {w.drink} in hand. "
    if f["hold_drink"]:
        return f"Currently, you have grabbed the {w.drink} in hand. "
    if f["hold_food"]:
        return f"Currently, you have grabbed the {w.food} in hand. "
    return "Currently, you are not grabbing anything in hand. "


def _hands_long(f: dict[str, bool], w: WatchWords, screen_on: bool) -> str:
    """Hands sentence next to the table, screen or seat; says nothing when the hands are empty. With one item in
    hand it mentions the other one on the table; with only the food in hand it says the food sentence twice."""
    have = f"Currently, the {w.screen} is turned on, you have" if screen_on else "Currently, you have"
    if f["hold_food"] and f["hold_drink"]:
        return f"{have} grabbed the {w.food} and the {w.drink} in hand. "
    if f["hold_drink"]:
        if not f["food_on_table"]:
            return f"{have} grabbed the {w.drink} in hand. "
        return f"{have} the {w.food} on the {w.table} and the {w.drink} in your hand. "
    if f["hold_food"]:
        text = f"{have} grabbed the {w.food} in hand. "
        if not f["drink_on_table"]:
            return text + f"{have} grabbed the {w.food} in hand. "
        return text + f"{have} the {w.drink} on the {w.table} and the {w.food} in your hand. "
    return ""


def _kitchen(f: dict[str, bool], w: WatchWords) -> tuple[str, tuple[int, ...]]:
    food_close = f"The {w.food} {w.food_be} close to you. But you have not grabbed the {w.food}. "
    drink_close = f"The {w.drink} {w.drink_be} close to you. But you have not grabbed the {w.drink}. "
    food_far = f"The {w.food} {w.food_be} not close to you. "
    drink_far = f"The {w.drink} {w.drink_be} not close to you. "
    holding_food = f"Currently, you have grabbed the {w.food} in hand. "
    holding_drink = f"Currently, you have grabbed the {w.drink} in hand. "
    if f["see_food"] and f["see_drink"]:
        text = f"and notice {w.food} and {w.drink}. "
        if f["hold_food"] and f["hold_drink"]:
            return text + f"Currently, you have grabbed the {w.food} and the {w.drink} in hand. ", (0, 2, 3)
        if f["hold_food"]:
            if f["close_to_drink"]:
                return text + drink_close + holding_food, (0, 2, 3, 10)
            return text + drink_far + holding_food, (0, 2, 3, 5)
        if f["hold_drink"]:
            if f["close_to_food"]:
                return text + food_close + holding_drink, (0, 2, 3, 9)
            return text + food_far + holding_drink, (0, 2, 3, 4)
        if f["close_to_food"] and f["close_to_drink"]:
            text, valid = text + "They are close to you. But you have not grabbed the them. ", (0, 2, 3, 9, 10)
        elif f["close_to_food"]:
            text, valid = text + food_close, (0, 2, 3, 5, 9)
        elif f["close_to_drink"]:
            text, valid = text + drink_close, (0, 2, 3, 4, 10)
        else:
            text, valid = text + "But they are not close to you. ", (0, 2, 3, 4, 5)
        return text + "Currently, you are not grabbing anything in hand. ", valid
    if f["see_food"]:
        text = f"and only notice {w.food}. "
        if f["hold_food"]:
            return text + holding_food, (0, 2, 3)
        if f["close_to_food"]:
            return text + food_close, (0, 2, 3, 9)
        return text + food_far, (0, 2, 3, 5)  # sic: offers walking to the drink, which is out of sight
    if f["see_drink"]:
        text = f"and notice {w.drink}. "
        if f["hold_drink"]:
            return text + holding_drink, (0, 2, 3)
        if f["close_to_drink"]:
            return text + drink_close, (0, 2, 3, 10)
        return text + drink_far, (0, 2, 3, 4)  # sic: offers walking to the food, which is out of sight
    return "and notice nothing. ", (0, 2, 3)


def _living_room(f: dict[str, bool], w: WatchWords) -> tuple[str, tuple[int, ...]]:
    text = f"and you notice a {w.table}, a {w.screen} and a {w.seat}. "
    valid: tuple[int, ...] = ()
    food, drink = f["hold_food"], f["hold_drink"]
    if not f["close_to_table"] and not f["close_to_tv"] and not f["close_to_seat"]:
        text += "They are not close to you. " + _hands_short(f, w)
        valid = (1, 2, 3, 6, 7, 8)
    if f["close_to_table"]:
        if (f["food_on_table"] and drink) or (f["drink_on_table"] and food):
            text += f"The {w.screen} is not close to you. "  # sic
        else:
            text += f"The {w.table} is close to you. "
        if not food and not drink:
            text += "Currently, you are not grabbing anything in hand. "
        else:
            text += _hands_long(f, w, screen_on=False)
        if food and drink:
            valid = (1, 2, 3, 7, 8, 11, 12)
        elif drink:
            valid = (1, 2, 3, 7, 8) if f["food_on_table"] else (1, 2, 3, 7, 8, 12)
        elif food:
            valid = (1, 2, 3, 7, 8) if f["drink_on_table"] else (1, 2, 3, 7, 8, 11)
        else:
            valid = (1, 2, 3)
    if f["close_to_tv"]:
        if f["tv_on"]:
            text += f"The {w.seat} is not close to you. " + _hands_long(f, w, screen_on=True)  # sic
            valid = (1, 2, 3, 6, 8)
        else:
            text += f"The {w.screen} is close to you. " + _hands_long(f, w, screen_on=False)
            valid = (1, 2, 3, 6, 8, 13, 14)
    if f["close_to_seat"]:
        if not f["sitting_on_seat"]:
            text += f"The {w.seat} is close to you. " + _hands_long(f, w, screen_on=f["tv_on"])
            valid = (1, 2, 3, 6, 7, 15, 16) if f["tv_on"] else (1, 2, 3, 6, 7)
        else:
            text += f"You are sitting on the {w.seat}. " + _hands_long(f, w, screen_on=f["tv_on"])
            valid = (1, 2, 3)
    return text, valid


def _describe_watch(f: dict[str, bool], w: WatchWords) -> tuple[str, tuple[int, ...]]:
    room = _room(f)
    if room == "kitchen":
        body, valid = _kitchen(f, w)
    elif room == "living room":
        body, valid = _living_room(f, w)
    else:
        body = "and notice nothing. " + _hands_short(f, w)
        valid = (0, 1, 2) if room == "bedroom" else (0, 1, 3)
    return _INTRO.format(room) + " " + body + f"In order to {w.goal}, " + _NEXT, valid
