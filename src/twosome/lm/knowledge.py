"""Knowledge base of the generated pretraining corpus: household things, a small world state, and procedures.

Everything here is general household knowledge stored as data, and nothing is taken from an environment:

* ``THINGS``: about 150 objects (foods, drinks, containers, surfaces, appliances, furniture, items), each with the
  room where it is usually found, the thing it is kept in or on, a category, how common it is, and tags
  (``chop``: cut on a cutting board; ``salad``: goes in a salad; ``microwave``: heated in a microwave;
  ``open``: has a door; ``power``: is switched on and off; ``sit``: you sit on it; ...).
* ``World``: the state a procedure changes (room, what is in hand, where things are, their flags: chopped, open,
  on, hot, full, ...). ``World.apply`` performs an ``Act``; ``why_not`` says why an act makes no sense in a state
  (already in hand, already chopped, door closed, not holding it, ...) or ``None`` when it does.
* ``SCHEMAS``: procedures (make a salad, heat food in the microwave, watch TV with a snack, do the laundry, ...)
  built step by step on a ``World``, so every step comes with the state it was taken in. ``make_plan`` builds one.

Held-out split: ``HELDOUT`` reserves (schema, object) combinations, e.g. a salad with cucumber or noodles heated
in the microwave. Training text never shows a reserved object inside its schema (neither as a procedure nor as a
fact such as "cucumber goes in a salad"), though it shows the object elsewhere (cucumber in sandwiches, facts
about chopping it). Held-out text and the knowledge probes use only procedures with a reserved combination, so
they measure whether the model generalises procedural knowledge to objects it knows from other contexts.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property

ROOM_NAMES = (
    "kitchen",
    "bathroom",
    "bedroom",
    "living room",
    "dining room",
    "hallway",
    "laundry room",
    "garage",
    "garden",
    "office",
    "balcony",
)

ROOM_USE = {
    "kitchen": "cook and keep food",
    "bathroom": "wash, take a shower and brush their teeth",
    "bedroom": "sleep and get dressed",
    "living room": "relax, watch TV and talk with friends",
    "dining room": "eat meals together",
    "hallway": "walk between rooms and leave their shoes",
    "laundry room": "wash and dry clothes",
    "garage": "park the car and keep tools and the trash can",
    "garden": "grow flowers and vegetables",
    "office": "work at a desk",
    "balcony": "sit outside and grow a few plants",
}


@dataclass(frozen=True)
class Thing:
    name: str
    kind: str  # food | drink | container | surface | appliance | furniture | item
    room: str  # where it is usually found
    spot: str  # the thing it is kept in or on ("" = somewhere in the room)
    cat: str  # category noun for facts ("vegetable", "fruit", "snack", ...)
    freq: int  # how common it is in everyday life: sampling weight 1-3
    tags: frozenset[str]

    @property
    def plural(self) -> bool:
        return "plural" in self.tags

    @property
    def mass(self) -> bool:
        return "mass" in self.tags


# name | kind | room | spot | category | freq | tags
_TABLE = """
tomato | food | kitchen | counter | vegetable | 3 | chop raw wash salad soup sandwich
lettuce | food | kitchen | fridge | vegetable | 3 | chop raw wash salad sandwich
onion | food | kitchen | basket | vegetable | 3 | chop peel salad soup pan
cucumber | food | kitchen | fridge | vegetable | 2 | chop raw wash salad sandwich
carrot | food | kitchen | fridge | vegetable | 3 | chop raw wash peel salad soup
pepper | food | kitchen | fridge | vegetable | 2 | chop raw wash salad pan
cabbage | food | kitchen | fridge | vegetable | 1 | chop raw wash salad soup
celery | food | kitchen | fridge | vegetable | 1 | chop raw wash salad soup
radish | food | kitchen | fridge | vegetable | 1 | chop raw wash salad
zucchini | food | kitchen | fridge | vegetable | 1 | chop wash soup pan
eggplant | food | kitchen | counter | vegetable | 1 | chop wash oven pan
broccoli | food | kitchen | fridge | vegetable | 1 | chop wash pot soup
mushroom | food | kitchen | fridge | vegetable | 2 | chop wash pan soup
potato | food | kitchen | basket | vegetable | 3 | chop wash peel pot oven microwave soup
garlic | food | kitchen | basket | vegetable | 1 | chop peel soup pan
avocado | food | kitchen | counter | fruit | 1 | chop peel raw salad sandwich
apple | food | kitchen | basket | fruit | 3 | chop raw wash salad snack
banana | food | kitchen | basket | fruit | 2 | chop peel raw salad snack
orange | food | kitchen | basket | fruit | 2 | chop peel raw salad snack
pear | food | kitchen | basket | fruit | 1 | chop raw wash salad
peach | food | kitchen | basket | fruit | 1 | chop raw wash salad
mango | food | kitchen | basket | fruit | 1 | chop peel raw salad
strawberry | food | kitchen | fridge | fruit | 1 | chop raw wash salad
pineapple | food | kitchen | counter | fruit | 1 | chop peel raw salad
melon | food | kitchen | counter | fruit | 1 | chop raw salad
bread | food | kitchen | counter | baked food | 3 | chop slice toast mass
egg | food | kitchen | fridge | food | 3 | pan pot cold
cheese | food | kitchen | fridge | dairy food | 2 | chop slice sandwich cold snack mass
butter | food | kitchen | fridge | dairy food | 2 | cold mass
yogurt | food | kitchen | fridge | dairy food | 1 | cold snack mass
milk | drink | kitchen | fridge | drink | 3 | cold microwave drink mass
juice | drink | kitchen | fridge | drink | 2 | cold drink mass
coffee | drink | kitchen | cupboard | hot drink | 2 | hot mass
tea | drink | kitchen | cupboard | hot drink | 2 | hot mass
rice | food | kitchen | cupboard | grain | 2 | pot microwave mass
pasta | food | kitchen | cupboard | grain | 2 | pot microwave mass
noodles | food | kitchen | cupboard | grain | 1 | pot microwave plural
beans | food | kitchen | cupboard | food | 1 | pot microwave plural
soup | food | kitchen | fridge | dish | 2 | microwave cold mass
pancake | food | kitchen | counter | dish | 2 | microwave pan
pizza | food | kitchen | fridge | dish | 2 | microwave oven snack cold
chicken | food | kitchen | fridge | meat | 2 | oven pan cold mass
fish | food | kitchen | fridge | food | 1 | oven pan cold
sausage | food | kitchen | fridge | meat | 1 | pan oven cold
chips | food | kitchen | cupboard | snack | 3 | snack plural
popcorn | food | kitchen | cupboard | snack | 1 | microwave snack mass
cookies | food | kitchen | cupboard | snack | 2 | snack oven plural
cake | food | kitchen | fridge | dessert | 1 | chop slice oven snack cold
cereal | food | kitchen | cupboard | breakfast food | 1 | mass
oil | item | kitchen | cupboard | cooking oil | 1 | mass
tea bag | item | kitchen | cupboard | item | 1 |
detergent | item | laundry room | shelf | soap | 1 | mass
toothpaste | item | bathroom | sink | item | 1 | mass
bowl | container | kitchen | counter | dish | 3 | dish inside
plate | container | kitchen | cupboard | dish | 3 | dish top
cup | container | kitchen | cupboard | dish | 2 | dish inside
mug | container | kitchen | cupboard | dish | 2 | dish inside
glass | container | kitchen | cupboard | dish | 2 | dish inside
pot | container | kitchen | cupboard | pan | 2 | dish inside
pan | container | kitchen | cupboard | pan | 2 | dish inside
tray | container | kitchen | counter | tray | 1 | top
basket | container | kitchen | counter | basket | 1 | inside
laundry basket | container | bedroom |  | basket | 1 | inside
watering can | container | balcony |  | can | 1 | inside
trash bag | item | kitchen |  | bag | 1 |
trash can | container | garage |  | bin | 1 | inside open
cutting board | surface | kitchen | counter | board | 3 | top
counter | surface | kitchen |  | surface | 3 | top wipe
kitchen table | surface | kitchen |  | table | 2 | top wipe
dining table | surface | dining room |  | table | 2 | top wipe
coffee table | surface | living room |  | table | 2 | top wipe
desk | surface | office |  | table | 2 | top wipe
nightstand | surface | bedroom |  | table | 1 | top wipe
shelf | surface | living room |  | shelf | 1 | top wipe
drying rack | surface | kitchen | counter | rack | 1 | top
floor | surface | living room |  | floor | 1 | top
microwave | appliance | kitchen | counter | appliance | 3 | open power inside heat
oven | appliance | kitchen |  | appliance | 2 | open power inside heat
fridge | appliance | kitchen |  | appliance | 3 | open inside cool
freezer | appliance | kitchen |  | appliance | 1 | open inside cool
stove | appliance | kitchen |  | appliance | 2 | power top heat
toaster | appliance | kitchen | counter | appliance | 1 | power inside heat
kettle | appliance | kitchen | counter | appliance | 1 | power inside heat
dishwasher | appliance | kitchen |  | appliance | 1 | open power inside
washing machine | appliance | laundry room |  | appliance | 2 | open power inside
dryer | appliance | laundry room |  | appliance | 1 | open power inside
tap | appliance | kitchen | sink | appliance | 2 | power
sink | container | kitchen |  | sink | 2 | inside
TV | appliance | living room |  | screen | 3 | power screen
lamp | appliance | bedroom | nightstand | light | 2 | power light
radio | appliance | living room | shelf | device | 1 | power music
computer | appliance | office | desk | device | 1 | power screen
fan | appliance | bedroom |  | device | 1 | power
shower | appliance | bathroom |  | shower | 1 | power
cupboard | furniture | kitchen |  | cupboard | 2 | open inside
wardrobe | furniture | bedroom |  | wardrobe | 1 | open inside
drawer | furniture | kitchen |  | drawer | 1 | open inside
cabinet | furniture | bathroom |  | cabinet | 1 | open inside
bookshelf | furniture | living room |  | shelf | 1 | top
sofa | furniture | living room |  | seat | 3 | sit
armchair | furniture | living room |  | seat | 2 | sit
chair | furniture | dining room |  | seat | 2 | sit
stool | furniture | kitchen |  | seat | 1 | sit
bench | furniture | garden |  | seat | 1 | sit
bed | furniture | bedroom |  | bed | 3 | sit lie
bathtub | furniture | bathroom |  | bathtub | 1 | inside
toilet | furniture | bathroom |  | toilet | 1 |
knife | item | kitchen | drawer | tool | 2 | tool
spoon | item | kitchen | drawer | tool | 1 | dish
fork | item | kitchen | drawer | tool | 1 | dish
sponge | item | kitchen | sink | cleaning tool | 2 |
towel | item | bathroom |  | cloth | 2 | clothes
toothbrush | item | bathroom | cup | item | 2 |
soap | item | bathroom |  | soap | 1 | mass
broom | item | hallway |  | cleaning tool | 1 |
book | item | living room | bookshelf | book | 2 |
remote | item | living room | coffee table | device | 1 |
pillow | item | bedroom | bed | bedding | 1 |
blanket | item | bedroom | bed | bedding | 1 |
shirt | item | bedroom | floor | clothing | 2 | clothes
socks | item | bedroom | floor | clothing | 2 | clothes plural
jeans | item | bedroom | floor | clothing | 1 | clothes plural
sweater | item | bedroom | floor | clothing | 1 | clothes
dress | item | bedroom | floor | clothing | 1 | clothes
sheets | item | bedroom | bed | bedding | 1 | clothes plural
plant | item | living room |  | plant | 2 | plant
"""


def _parse(table: str) -> dict[str, Thing]:
    things: dict[str, Thing] = {}
    for line in table.strip().splitlines():
        name, kind, room, spot, cat, freq, tags = (part.strip() for part in line.split("|"))
        things[name] = Thing(name, kind, room, spot, cat, int(freq), frozenset(tags.split()))
    return things


THINGS: dict[str, Thing] = _parse(_TABLE)


def with_tag(tag: str, kind: str | None = None) -> list[str]:
    return [t.name for t in THINGS.values() if tag in t.tags and (kind is None or t.kind == kind)]


FOOD_NAMES = [t.name for t in THINGS.values() if t.kind in ("food", "drink")]
CLOTHES = [n for n in with_tag("clothes") if n != "towel"]
PLANT_ROOMS = ("living room", "bedroom", "office", "garden", "balcony", "kitchen")
SEATS = ("sofa", "armchair")
WIPEABLE = with_tag("wipe")
DISHES = ["plate", "bowl", "cup", "mug", "glass", "pan", "pot", "fork", "spoon"]

# A few objects for grid-world navigation text (BabyAI-like vocabulary, general spatial knowledge).
COLOURS = ("red", "green", "blue", "purple", "yellow", "grey")
NAV_OBJECTS = ("key", "ball", "box")

# ---------------------------------------------------------------------------------------------------------------
# Schemas and the held-out split
# ---------------------------------------------------------------------------------------------------------------

# Which objects each schema may be built around (the objects of its (schema, object) combinations).
ELIGIBLE: dict[str, list[str]] = {
    "salad": with_tag("salad"),
    "microwave": with_tag("microwave"),
    "boil": with_tag("pot", "food"),
    "fry": with_tag("pan", "food"),
    "oven": with_tag("oven"),
    "soup": with_tag("soup"),
    "sandwich": with_tag("sandwich"),
    "toast": ["bread"],
    "fridge": with_tag("cold"),
    "cold_drink": ["milk", "juice"],
    "hot_drink": ["tea", "coffee"],
    "tv": with_tag("snack"),
    "laundry": CLOTHES,
    "dishes": DISHES,
    "plants": list(PLANT_ROOMS),
    "clean": WIPEABLE,
    "bedtime": ["bed"],
    "trash": ["trash bag"],
    "table": ["dining table"],
    "read": ["book"],
    "shower": ["shower"],
}

# Reserved (schema, object) combinations: never in training text, only in held-out text and probes.
HELDOUT: dict[str, frozenset[str]] = {
    "salad": frozenset({"cucumber", "radish", "mango", "pear"}),
    "microwave": frozenset({"noodles", "pizza"}),
    "boil": frozenset({"broccoli"}),
    "fry": frozenset({"zucchini", "sausage"}),
    "oven": frozenset({"eggplant", "cookies"}),
    "soup": frozenset({"celery", "cabbage"}),
    "sandwich": frozenset({"avocado"}),
    "fridge": frozenset({"yogurt"}),
    "cold_drink": frozenset({"juice"}),
    "tv": frozenset({"popcorn"}),
    "laundry": frozenset({"sweater"}),
    "dishes": frozenset({"mug"}),
    "plants": frozenset({"balcony"}),
    "clean": frozenset({"desk"}),
}

# Facts that reveal a schema's combination ("cucumber goes in a salad") are gated like the procedures.
TAG_SCHEMA = {
    "salad": "salad",
    "soup": "soup",
    "sandwich": "sandwich",
    "microwave": "microwave",
    "pot": "boil",
    "pan": "fry",
    "oven": "oven",
    "cold": "fridge",
    "snack": "tv",
    "clothes": "laundry",
}


def is_heldout(schema: str, obj: str) -> bool:
    return obj in HELDOUT.get(schema, ())


def allowed(schema: str, obj: str, split: str) -> bool:
    """May training text (``split="train"``) show ``obj`` within ``schema``? Held-out text may show anything."""
    return split != "train" or not is_heldout(schema, obj)


def heldout_combos() -> list[tuple[str, str]]:
    return sorted((s, o) for s, objs in HELDOUT.items() for o in objs)


# ---------------------------------------------------------------------------------------------------------------
# World state and acts
# ---------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Act:
    """``verb`` in VERB_KINDS; ``obj`` and ``target`` are thing names (``go``: obj is a room, target the purpose)."""

    verb: str
    obj: str = ""
    target: str = ""


VERB_KINDS = (
    "go approach pick put move chop wash peel open close on off wait take_out sit lie serve fill pour ladle "
    "eat drink wipe water fold brush watch read spread shower dry"
).split()

# Machines that only run with their door shut (general knowledge about doors with safety locks).
DOOR_LOCKED_WHILE_RUNNING = frozenset({"microwave", "dishwasher", "washing machine", "dryer"})


def inside_or_on(place: str) -> str:
    """The preposition for being at ``place``: "in the fridge", "on the counter"."""
    thing = THINGS.get(place)
    if thing is None:
        return "in"
    if "inside" in thing.tags or "open" in thing.tags or place in ("basket", "sink"):
        return "in"
    return "on"


class World:
    """Mutable state of a household: the procedures below change it one ``Act`` at a time."""

    __slots__ = ("room", "hand", "loc", "flags", "near", "pose", "explicit", "rooms")

    def __init__(self, room: str, explicit: bool = False):
        self.room = room
        self.hand: str | None = None
        self.loc: dict[str, str] = {}  # thing -> place (a thing name, "hand", "served", "gone")
        self.flags: dict[str, frozenset[str]] = {}
        self.near: str | None = None
        self.pose: tuple[str, str] | None = None  # ("sit", "sofa") / ("lie", "bed")
        self.explicit = explicit  # whether being near things matters (steps "walk to the microwave")
        self.rooms: dict[str, str] = {}  # room of things that moved or are placed unusually

    def copy(self) -> World:
        w = World.__new__(World)
        w.room, w.hand, w.near, w.pose, w.explicit = self.room, self.hand, self.near, self.pose, self.explicit
        w.loc, w.flags, w.rooms = dict(self.loc), dict(self.flags), dict(self.rooms)
        return w

    # -- queries
    def place(self, x: str) -> str:
        return self.loc.get(x, THINGS[x].spot if x in THINGS else "")

    def room_of(self, x: str) -> str:
        if self.loc.get(x) == "hand":
            return self.room
        if x in self.rooms:
            return self.rooms[x]
        spot = self.loc.get(x)
        if spot and spot in THINGS and spot != x:
            return self.room_of(spot)
        return THINGS[x].room if x in THINGS else self.room

    def has(self, x: str, flag: str) -> bool:
        return flag in self.flags.get(x, ())

    def set(self, x: str, flag: str, on: bool = True) -> None:
        cur = self.flags.get(x, frozenset())
        self.flags[x] = cur | {flag} if on else cur - {flag}

    def contents(self, c: str) -> list[str]:
        return [x for x, p in self.loc.items() if p == c]

    def tracked(self) -> list[str]:
        return list(self.loc)

    # -- dynamics
    def apply(self, act: Act) -> None:
        v, o, t = act.verb, act.obj, act.target
        if v == "go":
            self.room, self.near, self.pose = o, None, None
        elif v == "approach":
            self.near, self.pose = o, None
        elif v in ("pick", "take_out"):
            self.hand, self.near, self.pose = o, o, None
            self.loc[o] = "hand"
        elif v == "put":
            self.hand, self.near = None, t
            self.loc[o] = t
            self.rooms[o] = self.room
        elif v == "move":  # transfer a thing from where it lies into/onto t, hands staying as they are
            self.loc[o] = t
            self.rooms[o] = self.room_of(t)
        elif v == "chop":
            self.set(o, "chopped")
        elif v == "wash":
            self.set(o, "washed")
            self.set(o, "dirty", False)
        elif v == "peel":
            self.set(o, "peeled")
        elif v == "open":
            self.set(o, "open")
            self.near = o
        elif v == "close":
            self.set(o, "open", False)
        elif v == "on":
            self.set(o, "on")
            self.near = o
        elif v == "off":
            self.set(o, "on", False)
        elif v == "wait":
            for x in self.contents(o) + [y for c in self.contents(o) for y in self.contents(c)]:
                if o in ("microwave", "oven", "stove", "toaster", "kettle"):
                    self.set(x, "hot")
                elif o in ("washing machine", "dishwasher"):
                    self.set(x, "dirty", False)
                    self.set(x, "washed")
                elif o == "dryer":
                    self.set(x, "dry")
            if o in ("kettle", "stove"):
                self.set(o, "hot")
        elif v in ("sit", "lie"):
            self.pose, self.near = (v, o), o
        elif v == "serve":
            self.hand = None
            self.loc[o] = "served"
            self.set(o, "served")
        elif v == "fill":
            self.set(o, "full")
        elif v in ("pour", "ladle"):  # pour o into t
            self.set(t, "full")
            if o in THINGS and THINGS[o].kind == "container":
                self.set(o, "full", False)
        elif v in ("eat", "drink"):
            self.loc[o] = "gone"
            if self.hand == o:
                self.hand = None
        elif v == "spread":
            self.set(t, "spread")
        elif v == "wipe":
            self.set(o, "dirty", False)
            self.set(o, "clean")
        elif v == "water":
            self.set(o, "watered")
        elif v in ("fold", "dry", "brush", "watch", "read", "shower"):
            self.set(o or "you", v + "_done")


def why_not(w: World, act: Act, plan: Plan | None = None) -> str | None:
    """A reason why ``act`` makes no sense in ``w`` (in plain words), or ``None`` when it is a sensible act.

    Deliberately permissive: only clear mistakes count (repeating what is done, acting on what is not in hand,
    using a closed door, chopping off the board, serving an unfinished dish, taking what the goal does not need).
    """
    v, o, t = act.verb, act.obj, act.target
    needed = plan.needed if plan is not None else frozenset()
    must_chop = plan.must_chop if plan is not None else frozenset()
    food = o in THINGS and THINGS[o].kind in ("food", "drink")
    if v == "go":
        return f"you are already in the {o}" if w.room == o else None
    if v == "approach":
        return f"you are already next to the {o}" if w.near == o else None
    if v == "pick":
        if w.hand == o:
            return f"the {o} {_be(o)} already in your hand"
        place = w.place(o)
        if place in ("served", "gone"):
            return f"the {o} {_be(o)} not here any more"
        if place in THINGS and "open" in THINGS[place].tags and not w.has(place, "open"):
            return f"the {place} is still closed"
        if food and needed and o not in needed:
            return f"the {o} {_be(o)} not needed for this"
        return None
    if v == "take_out":
        if w.place(o) != t:
            return f"the {o} {_be(o)} not in the {t}"
        if "open" in THINGS[t].tags and not w.has(t, "open"):
            return f"the {t} is still closed"
        return None
    if v in ("put", "move"):
        if v == "put" and w.hand != o:
            return f"you are not holding the {o}"
        if w.place(o) == t:
            return f"the {o} {_be(o)} already {inside_or_on(t)} the {t}"
        if t in THINGS and "open" in THINGS[t].tags and not w.has(t, "open"):
            return f"the {t} is still closed"
        if t == "cutting board" and w.has(o, "chopped"):
            return f"the {o} {_be(o)} already chopped"
        if o in must_chop and t != "cutting board" and not w.has(o, "chopped"):
            return f"the {o} {_be(o)} not chopped yet"
        if food and needed and o not in needed:
            return f"the {o} {_be(o)} not needed for this"
        return None
    if v == "chop":
        if w.has(o, "chopped"):
            return f"the {o} {_be(o)} already chopped"
        if w.place(o) != "cutting board":
            return f"the {o} {_be(o)} not on the cutting board"
        if needed and o not in needed:
            return f"the {o} {_be(o)} not needed for this"
        return None
    if v == "wash":
        return f"the {o} {_be(o)} already washed" if w.has(o, "washed") else None
    if v == "peel":
        return f"the {o} {_be(o)} already peeled" if w.has(o, "peeled") else None
    if v == "open":
        return f"the {o} is already open" if w.has(o, "open") else None
    if v == "close":
        return f"the {o} is already closed" if not w.has(o, "open") else None
    if v == "on":
        if w.has(o, "on"):
            return f"the {o} is already on"
        if o in DOOR_LOCKED_WHILE_RUNNING and w.has(o, "open"):
            return f"the door of the {o} is still open"
        if o in ("microwave", "washing machine", "dishwasher", "dryer", "toaster") and not w.contents(o):
            return f"there is nothing in the {o} yet"
        return None
    if v == "off":
        return f"the {o} is already off" if not w.has(o, "on") else None
    if v in ("sit", "lie"):
        return f"you are already on the {o}" if w.pose == (v, o) else None
    if v == "serve":
        if w.hand != o:
            return f"you are not holding the {o}"
        if not w.contents(o) and not w.has(o, "full"):
            return f"the {o} is still empty"
        if not w.has(o, "full") and any(w.place(x) != o for x in needed if THINGS[x].kind == "food"):
            return "the dish is not ready yet"
        return None
    if v == "wait":
        return f"the {o} is not on" if o in THINGS and "power" in THINGS[o].tags and not w.has(o, "on") else None
    if v in ("eat", "drink"):
        return f"the {o} {_be(o)} already gone" if w.place(o) == "gone" else None
    if v == "fill":
        return f"the {o} is already full" if w.has(o, "full") else None
    return None


def _be(x: str) -> str:
    return "are" if x in THINGS and THINGS[x].plural else "is"


# ---------------------------------------------------------------------------------------------------------------
# Procedures
# ---------------------------------------------------------------------------------------------------------------


@dataclass
class Step:
    act: Act
    before: World


@dataclass
class Plan:
    schema: str
    objs: tuple[str, ...]  # the objects of the plan's (schema, object) combinations
    steps: list[Step]
    final: World
    needed: frozenset[str] = frozenset()  # foods the goal needs (others in the scene are distractions)
    extras: tuple[str, ...] = ()  # things in the scene that the goal does not need
    dish: str = ""  # "salad", "soup", "sandwich", ... (what "serve" serves)
    extra: dict = field(default_factory=dict)  # schema details for goal phrases (seat, drink, room, ...)

    @cached_property
    def must_chop(self) -> frozenset[str]:
        """Foods that the dish needs in pieces (they must be chopped before they go into it)."""
        if self.schema not in ("salad", "soup", "sandwich"):
            return frozenset()
        return frozenset(x for x in self.needed if "chop" in THINGS[x].tags)

    @property
    def combos(self) -> set[tuple[str, str]]:
        return {(self.schema, o) for o in self.objs}


Fact = tuple  # ("hand", x|None), ("at", x, place), ("flag", x, flag, bool), ("open", x, bool), ("power", x, bool),
# ("contents", container, (x, ...)), ("room", r), ("kept", x, room), ("near", x, bool), ("unneeded", x)


def relevant_facts(w: World, act: Act, plan: Plan) -> tuple[list[Fact], list[Fact]]:
    """(core, context): true facts of ``w`` that bear on ``act`` (what makes it the right step when it is one,
    or what makes it pointless when it is not), and other true facts of ``w``."""
    v, o, t = act.verb, act.obj, act.target
    hold = w.hand
    core: list[Fact | None] = [("hand", hold)]
    ctx: list[Fact | None] = []

    def at(x: str) -> Fact | None:
        p = w.loc.get(x)
        return ("at", x, p) if p and p not in ("hand", "served", "gone") else None

    def cut(x: str) -> Fact:
        return ("flag", x, "chopped", w.has(x, "chopped"))

    def contents(c: str, empty_ok: bool = False) -> Fact | None:
        inside = tuple(w.contents(c))
        return ("contents", c, inside) if inside or empty_ok else None

    def door(x: str) -> Fact | None:
        return ("open", x, w.has(x, "open")) if x in THINGS and "open" in THINGS[x].tags else None

    tags_o = THINGS[o].tags if o in THINGS else frozenset()
    if v == "go":
        core.append(("room", w.room))
        if t:
            ctx.append(("kept", t, o))
    elif v == "approach":
        core.append(("near", o, w.near == o))
    elif v == "pick":
        core += [at(o), door(w.place(o))]
        if o in plan.must_chop:
            core.append(cut(o))
        if THINGS[o].kind == "container":
            core.append(contents(o))
    elif v == "take_out":
        core += [at(o), door(t)]
    elif v in ("put", "move"):
        if v == "move":
            core.append(at(o))
        if o in plan.must_chop or (v == "move" and "chop" in tags_o and w.has(o, "chopped")):
            core.append(cut(o))
        core.append(door(t))
        ctx.append(contents(t))
    elif v == "chop":
        core += [at(o), cut(o)]
    elif v == "wash":
        core.append(("flag", o, "dirty", True) if w.has(o, "dirty") else ("flag", o, "washed", w.has(o, "washed")))
    elif v == "peel":
        core.append(("flag", o, "peeled", w.has(o, "peeled")))
    elif v in ("open", "close"):
        core += [door(o), contents(o)]
    elif v in ("on", "off"):
        core.append(("power", o, w.has(o, "on")))
        if o in DOOR_LOCKED_WHILE_RUNNING:
            core.append(door(o))
        core.append(contents(o, empty_ok=o in ("microwave", "toaster") or o in DOOR_LOCKED_WHILE_RUNNING))
    elif v == "wait":
        core.append(("power", o, w.has(o, "on")))
        ctx.append(contents(o))
    elif v in ("sit", "lie"):
        core += [at(x) for x in plan.objs if x in THINGS]
        core += [("power", x, "on" in fl) for x, fl in w.flags.items() if x in ("TV", "lamp")]
    elif v == "fill":
        core.append(("flag", o, "full", w.has(o, "full")))
    elif v in ("pour", "ladle"):
        ctx.append(contents(o))
    elif v == "wipe":
        core.append(("flag", o, "dirty", w.has(o, "dirty")))
    elif v == "water":
        core.append(("flag", "watering can", "full", w.has("watering can", "full")))
    if v in ("wait", "off") and o in THINGS and "heat" in THINGS[o].tags:  # is the food done?
        inside = [y for c in w.contents(o) for y in [c, *w.contents(c)] if THINGS.get(y) and THINGS[y].kind == "food"]
        core += [("flag", y, "hot", w.has(y, "hot")) for y in inside]
        core += [contents(c) for c in w.contents(o) if THINGS.get(c) and THINGS[c].kind == "container"]
    if v in ("off", "close"):  # finishing steps: show that the work they end is done
        core += [at(x) for x in plan.objs if x in THINGS]
    if w.explicit and v not in ("go", "approach", "wait"):
        target = t if v in ("put", "take_out") else o
        if target in THINGS:
            near = w.near in (target, w.place(target)) or hold == target
            core.append(("near", target, near))
    core_facts = list(dict.fromkeys(f for f in core if f))
    inside = {x for f in core_facts if f[0] == "contents" for x in f[2]}
    core_facts = [f for f in core_facts if not (f[0] == "at" and f[1] in inside)]
    mentioned = {o, t, hold} | inside
    for x in list(w.loc):
        if x not in mentioned:
            ctx.append(at(x))
            if x in plan.must_chop:
                ctx.append(cut(x))
    for x, fl in w.flags.items():
        if x not in mentioned and x in THINGS:
            if "open" in THINGS[x].tags:
                ctx.append(("open", x, "open" in fl))
            if "power" in THINGS[x].tags:
                ctx.append(("power", x, "on" in fl))
    ctx += [("unneeded", x) for x in plan.extras]
    if v != "go":
        ctx.append(("room", w.room))
    return core_facts, [f for f in dict.fromkeys(ctx) if f and f not in core_facts]


class _Builder:
    def __init__(self, room: str, rng: random.Random, explicit: bool = False):
        self.w = World(room, explicit)
        self.rng = rng
        self.steps: list[Step] = []

    def do(self, verb: str, obj: str = "", target: str = "") -> None:
        act = Act(verb, obj, target)
        self.steps.append(Step(act, self.w.copy()))
        self.w.apply(act)

    def at(self, x: str, place: str) -> None:
        self.w.loc[x] = place

    def reach(self, x: str) -> None:
        """Walk to the room of ``x`` (and, when nearness matters, up to ``x``)."""
        room = self.w.room_of(x)
        if room != self.w.room:
            self.do("go", room, x)
        if self.w.explicit and self.w.near != x:
            self.do("approach", x)

    def get(self, x: str, close: bool | None = None) -> None:
        """Pick ``x`` up, opening (and usually closing) what it is kept in."""
        spot = self.w.place(x)
        if spot in THINGS and "open" in THINGS[spot].tags and not self.w.has(spot, "open"):
            self.reach(spot)
            self.do("open", spot)
            self.do("pick", x)
            if close if close is not None else self.rng.random() < 0.8:
                self.do("close", spot)
        else:
            self.reach(x)
            self.do("pick", x)

    def put(self, x: str, place: str, close: bool = False) -> None:
        self.reach(place)
        if "open" in THINGS[place].tags and not self.w.has(place, "open"):
            self.do("open", place)
        self.do("put", x, place)
        if close:
            self.do("close", place)

    def chop_on_board(self, x: str, into: str | None) -> None:
        self.get(x)
        tags = THINGS[x].tags
        if "wash" in tags and self.rng.random() < 0.25:
            self.do("wash", x)
        if "peel" in tags and self.rng.random() < 0.4:
            self.do("peel", x)
        self.put(x, "cutting board")
        self.do("chop", x)
        if into is not None:
            if self.rng.random() < 0.5:
                self.do("move", x, into)
            else:
                self.do("pick", x)
                self.put(x, into)

    def plan(self, schema: str, objs, **kw) -> Plan:
        return Plan(schema, tuple(objs), self.steps, self.w, **kw)


def _start_room(rng: random.Random, usual: str, p_usual: float = 0.6) -> str:
    return usual if rng.random() < p_usual else rng.choice([r for r in ROOM_NAMES if r != usual])


def _scene_foods(b: _Builder, foods, extras) -> None:
    for x in [*foods, *extras]:
        b.at(x, THINGS[x].spot)


def _salad(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.75), rng, explicit=rng.random() < 0.2)
    _scene_foods(b, objs, extras)
    b.at("cutting board", "counter")
    if rng.random() < 0.3:
        b.at("bowl", "cupboard")
        b.get("bowl")
        b.put("bowl", "counter")
    else:
        b.at("bowl", "counter")
    for x in objs:
        b.chop_on_board(x, "bowl")
    b.get("bowl")
    if rng.random() < 0.7:
        b.do("serve", "bowl")
    else:
        b.put("bowl", "dining table")
    return b.plan("salad", objs, needed=frozenset(objs), extras=tuple(extras), dish="salad")


def _soup(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.8), rng)
    _scene_foods(b, objs, extras)
    b.at("cutting board", "counter")
    b.at("pot", "cupboard")
    b.at("bowl", "counter")
    b.get("pot")
    b.reach("sink")
    b.do("fill", "pot")
    b.put("pot", "stove")
    if rng.random() < 0.5:
        b.do("on", "stove")
    for x in objs:
        b.chop_on_board(x, "pot")
    if not b.w.has("stove", "on"):
        b.do("on", "stove")
    b.do("wait", "stove")
    b.do("off", "stove")
    b.do("ladle", "pot", "bowl")
    b.get("bowl")
    b.do("serve", "bowl")
    return b.plan("soup", objs, needed=frozenset(objs), extras=tuple(extras), dish="soup")


def _sandwich(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.8), rng)
    _scene_foods(b, ["bread", *objs], extras)
    b.at("cutting board", "counter")
    b.at("plate", "cupboard")
    b.get("plate")
    b.put("plate", "counter")
    b.chop_on_board("bread", "plate")
    for x in objs:
        if "chop" in THINGS[x].tags:
            b.chop_on_board(x, "plate")
        else:
            b.get(x)
            b.put(x, "plate")
    b.get("plate")
    if rng.random() < 0.5:
        b.do("serve", "plate")
    else:
        b.put("plate", "kitchen table")
        b.do("eat", "sandwich")
    return b.plan("sandwich", objs, needed=frozenset(["bread", *objs]), extras=tuple(extras), dish="sandwich")


def _microwave(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.5), rng, explicit=rng.random() < 0.3)
    b.at(x, rng.choice(["fridge", "counter", "kitchen table"]) if THINGS[x].spot != "cupboard" else "cupboard")
    b.get(x)
    b.reach("microwave")
    if not b.w.has("microwave", "open"):
        b.do("open", "microwave")
    b.do("put", x, "microwave")
    b.do("close", "microwave")
    b.do("on", "microwave")
    b.do("wait", "microwave")
    if rng.random() < 0.6:
        b.do("open", "microwave")
        b.do("take_out", x, "microwave")
        if rng.random() < 0.5:
            b.put(x, rng.choice(["kitchen table", "counter"]))
            if rng.random() < 0.5:
                b.do("eat" if THINGS[x].kind == "food" else "drink", x)
    return b.plan("microwave", objs)


def _boil(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.8), rng)
    b.at(x, THINGS[x].spot)
    b.at("pot", "cupboard")
    b.get("pot")
    b.reach("sink")
    b.do("fill", "pot")
    b.put("pot", "stove")
    b.do("on", "stove")
    if rng.random() < 0.5:
        b.do("wait", "stove")
    if "chop" in THINGS[x].tags and rng.random() < 0.5:
        b.at("cutting board", "counter")
        b.chop_on_board(x, "pot")
    else:
        b.get(x)
        b.put(x, "pot")
    b.do("wait", "stove")
    b.do("off", "stove")
    b.at("plate", "counter")
    b.do("move", x, "plate")
    if rng.random() < 0.5:
        b.get("plate")
        b.do("serve", "plate")
    return b.plan("boil", objs, needed=frozenset(objs), dish=x)


def _fry(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.8), rng)
    b.at(x, THINGS[x].spot)
    b.at("pan", "cupboard")
    b.get("pan")
    b.put("pan", "stove")
    b.do("on", "stove")
    if rng.random() < 0.6:
        b.at("oil", "cupboard")
        b.get("oil")
        b.do("pour", "oil", "pan")
        b.put("oil", "counter")
    if "chop" in THINGS[x].tags:
        b.at("cutting board", "counter")
        b.chop_on_board(x, "pan")
    else:
        b.get(x)
        b.put(x, "pan")
    b.do("wait", "stove")
    b.do("off", "stove")
    b.at("plate", "counter")
    b.do("move", x, "plate")
    if rng.random() < 0.5:
        b.get("plate")
        b.do("serve", "plate")
    return b.plan("fry", objs, needed=frozenset(objs), dish=x)


def _oven(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.8), rng)
    b.at(x, THINGS[x].spot)
    b.at("tray", "counter")
    if rng.random() < 0.5:
        b.reach("oven")
        b.do("on", "oven")
    b.get(x)
    b.put(x, "tray")
    b.get("tray")
    b.put("tray", "oven")
    b.do("close", "oven")
    if not b.w.has("oven", "on"):
        b.do("on", "oven")
    b.do("wait", "oven")
    b.do("off", "oven")
    b.do("open", "oven")
    b.do("take_out", "tray", "oven")
    b.put("tray", rng.choice(["counter", "kitchen table"]))
    if rng.random() < 0.5:
        b.do("close", "oven")
    return b.plan("oven", objs, needed=frozenset(objs), dish=x)


def _toast(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.8), rng)
    b.at("bread", "counter")
    b.at("plate", "counter")
    b.get("bread")
    b.put("bread", "toaster")
    b.do("on", "toaster")
    b.do("wait", "toaster")
    b.do("take_out", "bread", "toaster")
    b.put("bread", "plate")
    if rng.random() < 0.6:
        b.at("butter", "fridge")
        b.get("butter")
        b.do("spread", "butter", "bread")
        b.put("butter", "fridge", close=True)
    if rng.random() < 0.4:
        b.do("eat", "bread")
    return b.plan("toast", objs, dish="toast")


def _cold_drink(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.5), rng)
    b.at(x, "fridge")
    b.at("glass", "cupboard")
    b.get("glass")
    b.put("glass", "counter")
    b.get(x, close=rng.random() < 0.5)
    b.do("pour", x, "glass")
    b.put(x, "fridge", close=True)
    b.get("glass")
    if rng.random() < 0.6:
        b.do("drink", x)
    return b.plan("cold_drink", objs, dish=x)


def _hot_drink(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.6), rng)
    b.at("kettle", "counter")
    b.at("mug", "cupboard")
    b.get("kettle")
    b.reach("sink")
    b.do("fill", "kettle")
    b.put("kettle", "counter")
    b.do("on", "kettle")
    b.get("mug")
    b.put("mug", "counter")
    item = "tea bag" if x == "tea" else "coffee"
    b.at(item, "cupboard")
    b.get(item)
    b.put(item, "mug")
    b.do("wait", "kettle")
    b.get("kettle")
    b.do("pour", "kettle", "mug")
    b.put("kettle", "counter")
    if rng.random() < 0.4:
        b.at("milk", "fridge")
        b.get("milk")
        b.do("pour", "milk", "mug")
        b.put("milk", "fridge", close=True)
    b.get("mug")
    if rng.random() < 0.5:
        b.do("drink", x)
    return b.plan("hot_drink", objs, dish=x)


def _tv(rng, objs, extras):
    (x,) = objs
    seat = rng.choice(SEATS)
    drink = rng.choice(["milk", "juice", None, None]) if x not in ("milk", "juice") else None
    if drink == "juice" and is_heldout("cold_drink", "juice"):
        drink = "milk"
    b = _Builder(_start_room(rng, "kitchen", 0.5), rng, explicit=rng.random() < 0.2)
    b.at(x, THINGS[x].spot)
    b.get(x)
    b.put(x, "coffee table")
    if drink:
        b.at(drink, "fridge")
        b.get(drink)
        b.put(drink, "coffee table")
    if rng.random() < 0.5:
        b.reach("TV")
        b.do("on", "TV")
        b.reach(seat)
        b.do("sit", seat)
    else:
        b.reach(seat)
        b.do("sit", seat)
        b.do("on", "TV")
    if rng.random() < 0.5:
        b.do("watch", "TV")
    return b.plan("tv", objs, extra={"seat": seat, "drink": drink})


def _fridge(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.5), rng, explicit=rng.random() < 0.2)
    table = rng.choice(["kitchen table", "counter", "dining table"])
    b.at(x, table)
    b.get(x)
    b.reach("fridge")
    b.do("open", "fridge")
    b.do("put", x, "fridge")
    b.do("close", "fridge")
    return b.plan("fridge", objs, extra={"table": table})


def _laundry(rng, objs, extras):
    b = _Builder(_start_room(rng, "bedroom", 0.6), rng)
    for x in objs:
        b.at(x, "floor")
    b.at("laundry basket", "floor")
    b.w.rooms["floor"] = "bedroom"
    for x in objs:
        b.get(x)
        b.do("put", x, "laundry basket")
    b.get("laundry basket")
    b.reach("washing machine")
    b.do("open", "washing machine")
    for x in objs:
        b.do("move", x, "washing machine")
    b.put("laundry basket", "floor")
    b.at("detergent", "shelf")
    b.w.rooms["shelf"] = "laundry room"
    b.get("detergent")
    b.do("put", "detergent", "washing machine")
    b.do("close", "washing machine")
    b.do("on", "washing machine")
    if rng.random() < 0.6:
        b.do("wait", "washing machine")
        b.do("open", "washing machine")
        b.reach("dryer")
        b.do("open", "dryer")
        for x in objs:
            b.do("move", x, "dryer")
        b.do("close", "dryer")
        b.do("on", "dryer")
    return b.plan("laundry", objs)


def _dishes(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.6), rng)
    table = rng.choice(["dining table", "kitchen table", "coffee table"])
    for x in objs:
        b.at(x, table)
        b.w.set(x, "dirty")
    use_dishwasher = rng.random() < 0.35
    for x in objs:
        b.get(x)
        if use_dishwasher:
            b.put(x, "dishwasher")
        else:
            b.reach("sink")
            if not b.w.has("tap", "on"):
                b.do("on", "tap")
            b.do("wash", x)
            b.put(x, "drying rack")
    if use_dishwasher:
        b.do("close", "dishwasher")
        b.do("on", "dishwasher")
    elif rng.random() < 0.8:
        b.do("off", "tap")
    return b.plan("dishes", objs, extra={"table": table, "dishwasher": use_dishwasher})


def _plants(rng, objs, extras):
    (room,) = objs
    b = _Builder(_start_room(rng, "kitchen", 0.4), rng)
    b.at("watering can", "counter")
    b.w.rooms["plant"] = room
    b.get("watering can")
    b.reach("sink")
    b.do("on", "tap")
    b.do("fill", "watering can")
    b.do("off", "tap")
    b.reach("plant")
    b.do("water", "plant")
    return b.plan("plants", objs, extra={"room": room})


def _clean(rng, objs, extras):
    (x,) = objs
    b = _Builder(_start_room(rng, THINGS[x].room, 0.3), rng)
    b.w.set(x, "dirty")
    b.get("sponge")
    if rng.random() < 0.5:
        b.reach("sink")
        b.do("on", "tap")
        b.do("wash", "sponge")
        b.do("off", "tap")
    b.reach(x)
    b.do("wipe", x)
    if rng.random() < 0.5:
        b.put("sponge", "sink")
    return b.plan("clean", objs)


def _bedtime(rng, objs, extras):
    b = _Builder(_start_room(rng, "living room", 0.5), rng)
    b.get("toothbrush")
    b.do("spread", "toothpaste", "toothbrush")
    b.do("brush", "teeth")
    b.w.rooms["cup"] = "bathroom"
    b.put("toothbrush", "cup")
    b.w.set("lamp", "on")
    b.reach("bed")
    if rng.random() < 0.5:
        b.do("lie", "bed")
        b.do("off", "lamp")
    else:
        b.do("off", "lamp")
        b.do("lie", "bed")
    return b.plan("bedtime", objs)


def _trash(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.6), rng)
    b.get("trash bag")
    b.reach("trash can")
    b.do("open", "trash can")
    b.do("put", "trash bag", "trash can")
    b.do("close", "trash can")
    return b.plan("trash", objs)


def _table(rng, objs, extras):
    b = _Builder(_start_room(rng, "kitchen", 0.6), rng)
    items = rng.sample(["plate", "fork", "glass", "spoon", "bowl"], rng.randint(2, 3))
    for x in items:
        b.at(x, "cupboard" if x in ("plate", "glass", "bowl") else "drawer")
    for x in items:
        b.get(x)
        b.put(x, "dining table")
    return b.plan("table", objs, extra={"items": items})


def _read(rng, objs, extras):
    seat = rng.choice(["armchair", "sofa", "bed"])
    b = _Builder(_start_room(rng, "living room", 0.4), rng)
    b.get("book")
    b.reach(seat)
    if seat == "bed":
        b.do("on", "lamp")
    b.do("lie" if seat == "bed" and rng.random() < 0.5 else "sit", seat)
    b.do("read", "book")
    return b.plan("read", objs, extra={"seat": seat})


def _shower(rng, objs, extras):
    b = _Builder(_start_room(rng, "bedroom", 0.6), rng)
    b.reach("shower")
    b.do("on", "shower")
    b.do("shower", "")
    b.do("off", "shower")
    b.get("towel")
    b.do("dry", "")
    return b.plan("shower", objs)


SCHEMAS = {
    "salad": (_salad, (1, 3)),
    "soup": (_soup, (1, 3)),
    "sandwich": (_sandwich, (1, 2)),
    "microwave": (_microwave, (1, 1)),
    "boil": (_boil, (1, 1)),
    "fry": (_fry, (1, 1)),
    "oven": (_oven, (1, 1)),
    "toast": (_toast, (1, 1)),
    "cold_drink": (_cold_drink, (1, 1)),
    "hot_drink": (_hot_drink, (1, 1)),
    "tv": (_tv, (1, 1)),
    "fridge": (_fridge, (1, 1)),
    "laundry": (_laundry, (1, 2)),
    "dishes": (_dishes, (1, 2)),
    "plants": (_plants, (1, 1)),
    "clean": (_clean, (1, 1)),
    "bedtime": (_bedtime, (1, 1)),
    "trash": (_trash, (1, 1)),
    "table": (_table, (1, 1)),
    "read": (_read, (1, 1)),
    "shower": (_shower, (1, 1)),
}
# How often each schema is drawn (kitchen procedures dominate, as in the environments' worlds).
SCHEMA_WEIGHTS = {
    "salad": 6,
    "soup": 3,
    "sandwich": 2,
    "microwave": 5,
    "boil": 2,
    "fry": 2,
    "oven": 2,
    "toast": 1,
    "cold_drink": 1,
    "hot_drink": 1,
    "tv": 4,
    "fridge": 2,
    "laundry": 1,
    "dishes": 2,
    "plants": 1,
    "clean": 1,
    "bedtime": 1,
    "trash": 1,
    "table": 1,
    "read": 1,
    "shower": 1,
}


def _weighted_sample(rng: random.Random, pool: list[str], k: int) -> list[str]:
    pool = list(pool)
    out: list[str] = []
    for _ in range(min(k, len(pool))):
        weights = [THINGS[x].freq if x in THINGS else 1 for x in pool]
        x = rng.choices(pool, weights)[0]
        out.append(x)
        pool.remove(x)
    return out


def make_plan(rng: random.Random, split: str = "train", schema: str | None = None) -> Plan:
    """A random procedure. ``split="train"`` avoids every reserved combination; ``"heldout"`` contains one."""
    if schema is None:
        names = [s for s in SCHEMAS if split == "train" or s in HELDOUT]
        schema = rng.choices(names, [SCHEMA_WEIGHTS[s] for s in names])[0]
    build, (lo, hi) = SCHEMAS[schema]
    k = rng.randint(lo, hi)
    eligible = ELIGIBLE[schema]
    reserved = HELDOUT.get(schema, frozenset())
    if split == "train":
        objs = _weighted_sample(rng, [x for x in eligible if x not in reserved], k)
    else:
        first = rng.choice(sorted(reserved))
        objs = [first, *_weighted_sample(rng, [x for x in eligible if x != first], k - 1)]
        rng.shuffle(objs)
    extras: list[str] = []
    if schema in ("salad", "soup", "sandwich") and rng.random() < 0.5:
        pool = [x for x in ELIGIBLE[schema] if x not in objs and x != "bread" and allowed(schema, x, split)]
        extras = _weighted_sample(rng, pool, rng.randint(1, 2))
    return build(rng, objs, extras)
