"""Decisive kitchen steps: chop what lies whole on the board, take the bowl, put food in it, serve the dish. These
are the steps the Overcooked tasks hinge on; they get their own frequent documents, phrased as common English around
such states (never the environments' sentences), for many foods.
"""

from __future__ import annotations

import random

from twosome.lm.corpus.acts import act_variants
from twosome.lm.corpus.guard import _forbidden
from twosome.lm.corpus.split import allowed
from twosome.lm.corpus.things import THINGS
from twosome.lm.corpus.words import FOODS, a, cap, join
from twosome.lm.corpus.world import Act

_CHOPPABLE = [x for x in FOODS if x in THINGS and THINGS[x].kind == "food" and "chop" in THINGS[x].tags]
_STANDS = ["cutting board"] * 4 + ["counter", "kitchen counter", "chopping board"]
_ELSEWHERE = ["counter", "table", "kitchen table", "shelf", "dining table", "cupboard shelf", "stove", "tray"]
_AT_PLACES = ["cutting board", "counter", "stove", "sink", "fridge", "table", "oven", "serving counter", "shelf"]
_POS = [
    "you are standing in front of the {p}",
    "you stand at the {p}",
    "you are at the {p}",
    "you are standing at the {p}",
    "you are right in front of the {p}",
    "you are standing next to the {p}",
    "you are by the {p}",
    "you have walked up to the {p}",
]
_EMPTY_SUFFIX = [
    " without anything in hand",
    " with nothing in your hands",
    ", empty-handed",
    " with empty hands",
    " and your hands are empty",
    " and you are not holding anything",
    " without anything in your hands",
    " and you have nothing in hand",
]
_WHOLE_ON = [
    "an {u} {x} lies on the {b}",
    "{ax_whole} is sitting on the {b}",
    "there is an {u} {x} on the {b}",
    "the {b} has {ax_whole} on it",
    "the {x} on the {b} is still whole",
    "the {u} {x} is on the {b}",
    "{ax_whole} rests on the {b}",
]
_HOLD_CUT = [
    "you are carrying {ac}",
    "you are holding the {c} {x}",
    "you have the {c} {x} in your hand",
    "{ac} is in your hands",
    "you are carrying the {c} {x} in your hands",
    "you hold {ac}",
]
_VESSEL_AT = [
    "the {v} is on the {q}",
    "an empty {v} sits on the {q}",
    "there is {av} on the {q}",
    "the {v} is still over on the {q}",
    "the {v} is waiting on the {q}",
]
_CARRY_FULL = [
    "you are carrying {av} with {cX} in it",
    "you are holding {av} of {cX}",
    "you have {av} holding the {cX}",
    "you are carrying {av} containing the {cX}",
    "you carry {av} of {cX}",
    "in your hands is {av} with the {cX}",
    "you are holding {av} that has the {cX} in it",
]
_CARRY_EMPTY = ["you are holding an empty {v}", "you are carrying the {v}", "you have the empty {v} in your hands"]
_CUT_ON = ["{ac} lies on the {b}", "the {c} {x} is still on the {b}", "there is {ac} on the {b}"]
_ASK = [
    "If {s}, the next step is to {a}.",
    "{S}. To {g}, you should first {a}.",
    "{S}. What should you do next? {A}.",
    "{S}, so {a} next.",
    "When {s}, {a}.",
    "Q: {S}. You want to {g}. What is the next step?\nA: {A}.",
    "Goal: {g}. State: {s}. Next action: {a}.",
    "You want to {g}. {S}. The next step is to {a}.",
    "{S}. To {g}, {a}.",
    "Since {s}, {a} now.",
]


def _dish_goals(xs: list[str], c: str, v: str) -> list[str]:
    X = join(xs)
    out = [f"serve a {v} of {c} {X}", f"make a {X} salad", f"prepare a {v} of {c} {X}", f"serve a salad of {c} {X}"]
    return out + [f"deliver a {v} of {c} {X}", f"serve the {X} salad"]


def _cutword(x: str) -> tuple[str, str]:
    """(adjective for the cut food, adjective for the whole food)."""
    return ("sliced", "unsliced") if "slice" in THINGS[x].tags else ("chopped", "unchopped")


def _decisive_item(rng: random.Random, foods: list[str]) -> tuple[str, list[tuple[str, str]]]:
    kind = rng.choices(["chop", "take", "put", "serve"], [5, 5, 2, 4])[0]
    k = rng.choice([1, 1, 1, 2, 2, 3]) if kind == "serve" else 1
    xs = rng.sample(foods, k)
    x = xs[0]
    c, u = _cutword(x)
    c = "diced" if c == "chopped" and rng.random() < 0.15 else c
    v = rng.choice(["bowl", "bowl", "bowl", "plate", "salad bowl"])
    b = rng.choice(["cutting board"] * 3 + ["chopping board", "board"])
    cX = join([f"{_cutword(y)[0]} {y}" for y in xs])
    f = {
        "x": x,
        "u": u if rng.random() < 0.7 else ("uncut" if u == "unchopped" else "whole"),
        "c": c,
        "b": b,
        "v": v,
        "av": a(v),
        "ac": a(x, c),
        "ax_whole": a(x, rng.choice(["whole", u])),
        "q": rng.choice(_ELSEWHERE),
        "cX": cX,
    }
    a_ = ""
    contrast = ""
    if kind == "chop":
        f["p"] = rng.choice([b, b, "counter"] if b != "board" else ["cutting board"])
        pos = rng.choice(_POS).format(**f) + rng.choice(_EMPTY_SUFFIX)
        parts = [pos, rng.choice(_WHOLE_ON).format(**f)]
        a_ = rng.choice(act_variants(Act("chop", x), None))
        contrast = rng.choice(
            [
                f"Do not pick up the {x} yet: it is still {u}, so {a_} first.",
                f"There is no need to pick up the {x} or take the {v}; the {x} is not {c} yet.",
                f"The {x} is already on the board and your hands are free, so there is no reason to walk anywhere.",
            ]
        )
    elif kind == "take":
        f["p"] = rng.choice(_STANDS)
        parts = [rng.choice(_POS).format(**f), rng.choice(_HOLD_CUT).format(**f), rng.choice(_VESSEL_AT).format(**f)]
        a_ = rng.choice(act_variants(Act("pick", "bowl" if "bowl" in v else v), None))
        if v == "salad bowl":
            a_ = a_.replace("bowl", "salad bowl")
        contrast = rng.choice(
            [
                f"The {x} is already {c}, so do not chop it again; {a_}.",
                f"Chopping the {x} again makes no sense, since it is already {c}.",
                f"You already hold the {c} {x}, so there is no need to pick it up again.",
            ]
        )
    elif kind == "put":
        f["p"] = rng.choice(_STANDS)
        parts = [rng.choice(_POS).format(**f), rng.choice(_CARRY_EMPTY).format(**f), rng.choice(_CUT_ON).format(**f)]
        a_ = rng.choice([f"put the {c} {x} in the {v}", f"add the {c} {x} to the {v}", f"put the {x} into the {v}"])
        contrast = rng.choice(
            [
                f"The {v} is still empty, so the dish is not ready to serve yet.",
                f"Do not serve the {v} yet: the {c} {x} is not in it.",
            ]
        )
    else:
        f["p"] = rng.choice(_AT_PLACES)
        parts = [rng.choice(_CARRY_FULL).format(**f)]
        if rng.random() < 0.6:
            parts.insert(0, rng.choice(_POS).format(**f))
        serve = ["serve the dish", "serve the salad", f"serve the {v}", f"deliver the {v}", "serve it"]
        a_ = rng.choice(serve + ["serve the dish"] * 2)
        contrast = rng.choice(
            [
                f"The {x} in the {v} is already {c}, so do not put it in again; {a_}.",
                f"Everything the dish needs is already in the {v}, so there is nothing left to chop or add.",
                f"Do not put the {x} in the {v} again: it is already there.",
                f"The {v} already holds the {cX}, so the dish is ready.",
            ]
        )
    goal = rng.choice(_dish_goals(xs, _cutword(x)[0], "bowl" if v == "salad bowl" else v))
    if rng.random() < 0.5:
        rng.shuffle(parts[1:])
    s = join(parts)
    text = rng.choice(_ASK).format(s=s, S=cap(s), a=a_, A=cap(a_), g=goal)
    if rng.random() < 0.35:
        text += " " + cap(contrast)
    return text, [(kind, y) for y in xs]


def doc_decisive(rng: random.Random, split: str, log: list | None = None) -> tuple[str, set]:
    foods = [x for x in _CHOPPABLE if all(allowed(s, x, split) for s in ("salad", "soup", "sandwich"))]
    items = []
    for _ in range(rng.randint(1, 4)):
        for _try in range(5):
            item, recs = _decisive_item(rng, foods)
            if not _forbidden(item):
                break
        else:
            continue
        items.append(item)
        if log is not None:
            log.extend(recs)
    return ("\n\n" if rng.random() < 0.5 else " ").join(items), set()
