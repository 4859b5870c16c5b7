"""The state a procedure changes and the reasoning on it: ``World`` (room, what is in hand, where things are,
their flags: chopped, open, on, ...), ``Act`` and ``World.apply``; ``Plan`` (a procedure's steps, each with the state
it was taken in); ``why_not`` (why an act makes no sense in a state, or ``None``) and ``relevant_facts`` (the facts
of a state that bear on an act), which every state-conditioned sentence of the corpus is built from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from twosome.lm.corpus.things import THINGS


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
