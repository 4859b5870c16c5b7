"""Procedures built step by step on a ``World`` (make a salad, heat food in the microwave, watch TV with a
snack, do the laundry, ...), so every step comes with the state it was taken in. ``make_plan`` draws one, from the
training or the held-out side of the split.
"""

from __future__ import annotations

import random

from twosome.lm.corpus.split import ELIGIBLE, HELDOUT, allowed, is_heldout
from twosome.lm.corpus.things import ROOM_NAMES, SEATS, THINGS
from twosome.lm.corpus.world import Act, Plan, Step, World


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

    def add(self, x: str, into: str, chop: bool) -> None:
        """Put ``x`` into ``into``, chopped on the board on the way when ``chop``."""
        if chop:
            self.chop_on_board(x, into)
        else:
            self.get(x)
            self.put(x, into)

    def plan(self, schema: str, objs, **kw) -> Plan:
        return Plan(schema, tuple(objs), self.steps, self.w, **kw)


def _start_room(rng: random.Random, usual: str, p_usual: float = 0.6) -> str:
    return usual if rng.random() < p_usual else rng.choice([r for r in ROOM_NAMES if r != usual])


def _scene_foods(b: _Builder, foods, extras) -> None:
    for x in [*foods, *extras]:
        b.at(x, THINGS[x].spot)


def _cook_on_stove_and_plate(b: _Builder, x: str, vessel: str, chop: bool) -> None:
    """The end of a boiled or fried dish: ``x`` into ``vessel`` on the stove, cooked, then on a plate, maybe served."""
    if chop:
        b.at("cutting board", "counter")
    b.add(x, vessel, chop)
    b.do("wait", "stove")
    b.do("off", "stove")
    b.at("plate", "counter")
    b.do("move", x, "plate")
    if b.rng.random() < 0.5:
        b.get("plate")
        b.do("serve", "plate")


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
        b.add(x, "plate", chop="chop" in THINGS[x].tags)
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
    _cook_on_stove_and_plate(b, x, "pot", chop="chop" in THINGS[x].tags and rng.random() < 0.5)
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
    _cook_on_stove_and_plate(b, x, "pan", chop="chop" in THINGS[x].tags)
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
