"""Documents of general knowledge around the procedures: schema facts ("To keep the milk cold, you put it in the
fridge."), facts about things, room descriptions, lists, questions and answers, and a little grid navigation. Facts
that would reveal a reserved combination are gated by the split like the procedures.
"""

from __future__ import annotations

import random

from twosome.lm.corpus.split import ELIGIBLE, TAG_SCHEMA, allowed, is_heldout
from twosome.lm.corpus.things import COLOURS, NAV_OBJECTS, ROOM_USE, THINGS, with_tag
from twosome.lm.corpus.words import FOODS, ROOMS, _an, _room_prep, a, be, cap, it, join
from twosome.lm.corpus.world import inside_or_on

# Schema facts: (schema, query, answer, wrong answers). Training text states them for allowed combinations;
# knowledge probes ask the query for reserved combinations. ``{x}`` is the object, ``{it}`` its pronoun.
_NOT_FOOD_SURFACES = ["bed", "sofa", "toilet", "bathtub", "pillow", "bookshelf", "armchair"]
_NOT_FOOD_CONTAINERS = ["laundry basket", "trash can", "bathtub", "toilet", "wardrobe", "washing machine", "drawer"]
_NOT_HEATING = ["washing machine", "wardrobe", "bathtub", "fridge", "freezer", "laundry basket", "drawer", "dishwasher"]
_NOT_COOLING = ["oven", "microwave", "washing machine", "wardrobe", "bathtub", "dryer", "toaster"]
_NOT_KITCHEN = ["bathroom", "bedroom", "garage", "laundry room", "hallway"]
SCHEMA_FACTS: list[tuple[str, str, str, list[str]]] = [
    ("salad", "To make a salad with chopped {x}, you first put the {x} on the", "cutting board", _NOT_FOOD_SURFACES),
    ("salad", "After you chop the {x} for the salad, you put the pieces in the", "bowl", _NOT_FOOD_CONTAINERS),
    ("soup", "To cook a soup with {x}, you chop the {x} and put the pieces in the", "pot", _NOT_FOOD_CONTAINERS),
    ("sandwich", "To make a sandwich with {x}, you slice the {x} on the", "cutting board", _NOT_FOOD_SURFACES),
    ("microwave", "To heat up the {x} quickly, you put {it} in the", "microwave", _NOT_HEATING),
    ("microwave", "To heat the {x} in the microwave, you first walk to the", "kitchen", _NOT_KITCHEN),
    ("oven", "To bake the {x}, you put {it} in the", "oven", _NOT_HEATING),
    ("fry", "To fry the {x}, you put {it} in a", "pan", _NOT_FOOD_CONTAINERS),
    ("boil", "To boil the {x}, you put {it} in a pot of", "water", ["soap", "detergent", "toothpaste", "sand"]),
    ("fridge", "To keep the {x} cold, you put {it} in the", "fridge", _NOT_COOLING),
    ("cold_drink", "To pour a glass of {x}, you take the {x} out of the", "fridge", _NOT_COOLING),
    (
        "tv",
        "To watch TV with {ax}, you put the {x} on the",
        "coffee table",
        ["toilet", "bathtub", "dryer", "washing machine"],
    ),
    (
        "tv",
        "To watch TV with {ax}, you carry the {x} to the",
        "living room",
        ["bathroom", "garage", "laundry room", "hallway"],
    ),
    (
        "laundry",
        "To wash the dirty {x}, you put {it} in the",
        "washing machine",
        ["oven", "fridge", "microwave", "toaster"],
    ),
    ("dishes", "To wash the dirty {x} by hand, you take {it} to the", "sink", ["bed", "sofa", "toilet", "bookshelf"]),
    (
        "plants",
        "To water the plant {rp}, you first fill the watering can at the",
        "sink",
        ["bed", "sofa", "TV", "oven"],
    ),
    ("clean", "To clean the dirty {x}, you wipe {it} with a", "sponge", ["pillow", "book", "banana", "sock"]),
]


def _fill(template: str, x: str) -> str:
    return template.format(x=x, it=it(x), ax=a(x), rp=_room_prep(x))


def doc_schema_facts(rng: random.Random, split: str) -> tuple[str, set]:
    """Sentences like "To keep the milk cold, you put it in the fridge." for allowed (or reserved) combinations."""
    sents, combos = [], set()
    for _ in range(rng.randint(3, 7)):
        schema, query, answer, _ = rng.choice(SCHEMA_FACTS)
        pool = [x for x in ELIGIBLE[schema] if is_heldout(schema, x) == (split == "heldout")]
        if schema in ("salad", "soup", "sandwich"):
            pool = [x for x in pool if "chop" in THINGS[x].tags]
        if not pool:
            continue
        x = rng.choice(pool)
        sents.append(_fill(query, x) + " " + answer + ".")
        combos.add((schema, x))
    return " ".join(sents), combos


def _gated(schema: str, x: str, split: str) -> bool:
    return allowed(schema, x, split)


def doc_thing_facts(rng: random.Random, split: str) -> tuple[str, set]:
    """A paragraph of facts about one object, from its properties."""
    names = [t.name for t in THINGS.values() if t.kind in ("food", "drink", "appliance", "furniture", "item")]
    x = rng.choices(names, [THINGS[n].freq for n in names])[0]
    th = THINGS[x]
    X, ax = f"the {x}", a(x)
    s: list[str] = []
    combos: set = set()
    is_ = be(x)
    if th.kind in ("food", "drink"):
        s.append(
            cap(rng.choice([f"{ax} is a kind of {th.cat}.", f"{ax} is {_an(th.cat)}."]))
            if not (th.mass or th.plural)
            else cap(f"{x} {is_} a kind of {th.cat}.")
        )
        where = f"{inside_or_on(th.spot)} the {th.spot}" if th.spot else ""
        s.append(
            cap(
                rng.choice(
                    [
                        f"{X} {is_} usually kept {where} in the kitchen.",
                        f"you can find {X} {where} in the kitchen.",
                        f"people keep {x} {where}.",
                    ]
                )
            )
        )
        tag_lines = {
            "chop": [
                f"You can chop {X} on a cutting board with a knife.",
                f"Before you chop {X}, put {it(x)} on a cutting board.",
                f"Use a knife and a cutting board to cut {X}.",
            ],
            "wash": [f"Wash {X} before you eat {it(x)}.", f"It is good to rinse {X} in the sink first."],
            "peel": [f"Many people peel {X} before eating {it(x)}."],
            "raw": [f"You can eat {X} raw."],
            "salad": [f"Chopped {x} goes well in a salad.", f"{cap(x)} is a common salad ingredient."],
            "soup": [f"You can put chopped {x} in a soup.", f"{cap(x)} makes a good soup."],
            "sandwich": [f"{cap(x)} goes well in a sandwich."],
            "microwave": [f"You can heat {X} in the microwave.", f"To warm up {X}, put {it(x)} in the microwave."],
            "pot": [f"You can cook {x} in a pot of boiling water."],
            "pan": [f"You can fry {x} in a pan on the stove."],
            "oven": [f"You can bake {x} in the oven."],
            "cold": [f"{cap(X)} {is_} kept in the fridge so that {'they stay' if th.plural else 'it stays'} fresh."],
            "snack": [f"{cap(x)} {is_} a nice snack to have in front of the TV."],
            "toast": ["You can make toast by putting bread in the toaster."],
            "hot": [f"To make {x}, you boil water in the kettle."],
        }
        for tag, lines in tag_lines.items():
            if tag not in th.tags:
                continue
            schema = TAG_SCHEMA.get(tag)
            if schema is not None:
                if not _gated(schema, x, split):
                    continue
                combos.add((schema, x))
            s.append(rng.choice(lines))
    elif th.kind == "appliance":
        s.append(cap(f"{ax} is {_an(th.cat)} found in the {th.room}."))
        if "open" in th.tags:
            s.append(f"{cap(X)} has a door that you open and close.")
        if "power" in th.tags:
            s.append(
                rng.choice(
                    [f"You turn {X} on and off.", f"You switch on {X} when you need it, and switch it off after."]
                )
            )
        if x == "microwave":
            foods = [f for f in ELIGIBLE["microwave"] if _gated("microwave", f, split)]
            shown = rng.sample(foods, 3)
            combos |= {("microwave", f) for f in shown}
            s.append(f"A microwave heats food quickly, for example {join(shown)}.")
            s.append("To use it, open the door, put the food inside, close the door and turn it on.")
        elif x == "fridge":
            s.append(
                "A fridge keeps food cold. Open it, take what you need, and close it again so the food stays cold."
            )
        elif x == "oven":
            s.append("An oven bakes food. You put the food on a tray, put the tray in the oven and close the door.")
        elif x == "stove":
            s.append("You cook on a stove: put a pot or a pan on it and turn it on.")
        elif x == "TV":
            s.append("People sit on the sofa to watch TV. You turn on the TV with the remote or a button.")
        elif x == "washing machine":
            s.append("You put dirty clothes in the washing machine, add detergent, close the door and turn it on.")
        elif x == "dishwasher":
            s.append("You put dirty plates and cups in the dishwasher, close it and turn it on.")
        elif x == "lamp":
            s.append("Turn on the lamp when it is dark, and turn it off before you sleep.")
        elif x == "kettle":
            s.append("Fill the kettle with water and switch it on to boil the water for tea or coffee.")
        elif x == "toaster":
            s.append("Put a slice of bread in the toaster and push down the lever to make toast.")
    elif th.kind == "furniture":
        s.append(cap(f"{ax} is a piece of furniture in the {th.room}."))
        if "sit" in th.tags:
            s.append(rng.choice([f"You sit on {X}.", f"People sit on {X} to rest."]))
        if "lie" in th.tags:
            s.append(f"You lie on {X} to sleep.")
        if "open" in th.tags:
            s.append(f"{cap(X)} opens and closes, and you keep things inside {it(x)}.")
        if x == "sofa":
            s.append("The sofa is usually in the living room, in front of the TV.")
    else:
        where = f"{inside_or_on(th.spot)} the {th.spot} " if th.spot else ""
        s.append(cap(f"{X} {is_} usually {where}in the {th.room}."))
        if "clothes" in th.tags:
            if _gated("laundry", x, split):
                combos.add(("laundry", x))
                s.append(f"When {X} {'are' if th.plural else 'is'} dirty, put {it(x)} in the washing machine.")
            s.append(f"You wear {X}." if x not in ("sheets", "towel") else f"You use {X} every day.")
        if x == "sponge":
            s.append("You wipe tables and wash dishes with a sponge.")
        if x == "knife":
            s.append("You cut food with a knife on a cutting board.")
        if x == "plant":
            s.append("Plants need water. Fill a watering can at the sink and water the plant.")
        if x == "book":
            s.append("People like to read a book on the sofa or in bed.")
        if x == "toothbrush":
            s.append("You brush your teeth with a toothbrush and toothpaste in the bathroom.")
    return " ".join(s), combos


def doc_room(rng: random.Random, split: str) -> str:
    room = rng.choice(ROOMS)
    here = [t.name for t in THINGS.values() if t.room == room and t.kind != "food" and t.name != "floor"]
    rp = _room_prep(room)
    s = [cap(rng.choice([f"the {room} is where people {ROOM_USE[room]}.", f"people {ROOM_USE[room]} {rp}."]))]
    if here:
        shown = rng.sample(here, min(len(here), rng.randint(2, 5)))
        s.append(
            rng.choice(
                [
                    f"{cap(rp)} there is {join([a(x) for x in shown])}.",
                    f"You can find {join([a(x) for x in shown])} {rp}.",
                ]
            )
        )
    if room == "kitchen":
        foods = rng.sample(FOODS, 3)
        s.append(f"Food such as {join(foods)} is kept in the kitchen.")
    if rng.random() < 0.5:
        other = rng.choice([r for r in ROOMS if r != room])
        s.append(
            f"To get from the {other} to the {room}, you walk through the hallway."
            if "hallway" not in (room, other)
            else f"The {room} is next to the {other}."
        )
    return " ".join(s)


def doc_lists(rng: random.Random, split: str) -> tuple[str, set]:
    combos: set = set()

    def pool(schema: str, xs: list[str]) -> list[str]:
        return [x for x in xs if _gated(schema, x, split)]

    options = [
        ("Things you can chop on a cutting board", with_tag("chop"), None),
        ("Vegetables that go in a salad", pool("salad", ELIGIBLE["salad"]), "salad"),
        ("Foods you can heat in a microwave", pool("microwave", ELIGIBLE["microwave"]), "microwave"),
        ("Foods that are kept in the fridge", pool("fridge", ELIGIBLE["fridge"]), "fridge"),
        ("Snacks to eat while watching TV", pool("tv", ELIGIBLE["tv"]), "tv"),
        ("Things you can sit on", with_tag("sit"), None),
        ("Things that you switch on and off", with_tag("power"), None),
        ("Things with a door", [x for x in with_tag("open") if x not in ("trash can", "drawer")], None),
        ("Things in the kitchen", [t.name for t in THINGS.values() if t.room == "kitchen"], None),
        ("Fruits", [t.name for t in THINGS.values() if t.cat == "fruit"], None),
        ("Kitchen tools", ["knife", "cutting board", "bowl", "plate", "pot", "pan", "spoon", "fork", "cup"], None),
        ("Rooms in a house", ROOMS, None),
    ]
    out = []
    for title, items, schema in rng.sample(options, rng.randint(1, 3)):
        if schema == "salad":
            title = "Things that go in a salad"
        shown = rng.sample(items, min(len(items), rng.randint(3, 7)))
        if schema:
            combos |= {(schema, x) for x in shown}
        if rng.random() < 0.5:
            out.append(f"{title}: {join(shown)}.")
        else:
            out.append(f"{title}:\n" + "\n".join(f"- {x}" for x in shown))
    return "\n\n".join(out), combos


def doc_qa(rng: random.Random, split: str) -> tuple[str, set]:
    qas: list[tuple[str, str]] = []
    combos: set = set()
    for _ in range(rng.randint(3, 6)):
        k = rng.randrange(8)
        if k == 0:
            x = rng.choice(with_tag("chop"))
            qas.append((f"Where do you chop {a(x)}?", "On a cutting board, with a knife."))
        elif k == 1:
            x = rng.choice([t.name for t in THINGS.values() if t.kind in ("furniture", "appliance")])
            qas.append((f"Which room is the {x} usually in?", f"The {THINGS[x].room}."))
        elif k == 2:
            qas.append(("What do you sit on to watch TV?", rng.choice(["The sofa.", "A sofa or an armchair."])))
        elif k == 3:
            x = rng.choice([f for f in ELIGIBLE["microwave"] if _gated("microwave", f, split)])
            combos.add(("microwave", x))
            qas.append(
                (
                    f"How do you heat up the {x} in the microwave?",
                    f"Open the microwave, put the {x} inside, close it and turn it on.",
                )
            )
        elif k == 4:
            x = rng.choice([f for f in ELIGIBLE["salad"] if _gated("salad", f, split)])
            combos.add(("salad", x))
            qas.append(
                (f"What do you do with chopped {x} when you make a salad?", f"You put the chopped {x} in a bowl.")
            )
        elif k == 5:
            qas.append(("What should you do before you put food in a closed microwave?", "Open the microwave door."))
        elif k == 6:
            x = rng.choice(ROOMS)
            here = [t.name for t in THINGS.values() if t.room == x and t.kind in ("furniture", "appliance")]
            if here:
                qas.append(
                    (
                        f"What can you find {_room_prep(x)}?",
                        cap(join([a(y) for y in rng.sample(here, min(3, len(here)))])) + ".",
                    )
                )
        else:
            x = rng.choice(with_tag("chop"))
            qas.append(
                (
                    f"You are holding a whole {x} and want to chop it. What do you do first?",
                    f"Put the {x} on the cutting board.",
                )
            )
    style = rng.random()
    if style < 0.5:
        return "\n".join(f"Q: {q}\nA: {ans}" for q, ans in qas), combos
    return " ".join(f"{q} {ans}" for q, ans in qas), combos


_NUM = ["zero", "one", "two", "three", "four", "five", "six"]


def _steps(n: int) -> str:
    return "one step" if n == 1 else f"{_NUM[n]} steps"


def _times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{_NUM[n]} times")


def doc_nav(rng: random.Random) -> str:
    """Grid navigation in general words (turning, going forward, picking up, dropping, opening doors)."""
    sents = []
    for _ in range(rng.randint(2, 5)):
        c, o = rng.choice(COLOURS), rng.choice(NAV_OBJECTS)
        thing = f"the {c} {o}"
        k = rng.randrange(7)
        if k == 0:
            n = rng.randint(2, 5)
            sents.append(
                f"{cap(thing)} is {_steps(n)} ahead of you. "
                "Go forward until it is right in front of you, then pick it up."
            )
        elif k == 1:
            side = rng.choice(["left", "right"])
            sents.append(
                rng.choice(
                    [
                        f"{cap(thing)} is to your {side}, so turn {side} first.",
                        f"If {thing} is on your {side}, turn {side} to face it. Next you should go forward.",
                    ]
                )
            )
        elif k == 2:
            sents.append(f"{cap(thing)} is right in front of you. The next step is to pick up {thing}.")
        elif k == 3:
            sents.append(f"{cap(thing)} is behind you. Turn left twice, or turn right twice, to face it.")
        elif k == 4:
            d = rng.choice(COLOURS)
            sents.append(
                f"The {d} door is closed. To go through it, first open it: toggle the door. A locked door needs a key."
            )
        elif k == 5:
            c2, o2 = rng.choice(COLOURS), rng.choice(NAV_OBJECTS)
            if (c2, o2) != (c, o):
                sents.append(
                    f"To put {thing} next to the {c2} {o2}, pick up {thing}, go to the {c2} {o2}, "
                    f"and drop {thing} there."
                )
        else:
            n, m = rng.randint(1, 4), rng.randint(1, 3)
            side = rng.choice(["left", "right"])
            sents.append(
                f"There is {_an(c + ' ' + o)} {_steps(n)} forward and {_steps(m)} to the {side}. "
                f"Go forward {_times(n)}, turn {side}, and go forward {_times(m)}."
            )
    return " ".join(sents)
