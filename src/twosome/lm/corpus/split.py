"""The held-out split: which objects each schema (procedure kind) may use, and the (schema, object) combinations
reserved for held-out text and probes, e.g. a salad with cucumber or noodles heated in the microwave.

Training text never shows a reserved object inside its schema (neither as a procedure nor as a fact such as
"cucumber goes in a salad"), though it shows the object elsewhere (cucumber in sandwiches, facts about chopping it),
so held-out perplexity and the probes measure whether procedural knowledge generalises to objects known from other
contexts.
"""

from __future__ import annotations

from twosome.lm.corpus.things import CLOTHES, DISHES, PLANT_ROOMS, WIPEABLE, with_tag

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
