"""State clauses: a ``World`` rendered as varied English clauses ("you are holding the tomato", "the microwave
is shut"), in any person and tense (``_Say``), so that every "next step" sentence can state the state it depends
on.
"""

from __future__ import annotations

import random
import re

from twosome.lm.corpus.acts import act_variants
from twosome.lm.corpus.things import THINGS
from twosome.lm.corpus.words import _PERSON, _room_prep, a, be, cap, conj, join
from twosome.lm.corpus.world import Act, Plan, World, inside_or_on, relevant_facts

_HAND_FULL = [
    "{S} {be} holding {x}",
    "{S} {have} {x} in {poss} hand",
    "{S} {be} carrying {x}",
    "{x} {is} in {poss} hand",
    "{S} {hold} {x}",
    "{S} {have} {x} in hand",
    "{S} {be} holding {x} in {poss} hands",
    "{S} {be} currently holding {x}",
]
_HAND_EMPTY = [
    "{poss} hands {are} empty",
    "{S} {be} not holding anything",
    "{S} {have} nothing in {poss} hands",
    "{S} {hold} nothing",
    "{S} {be} empty-handed",
    "nothing {is} in {poss} hands",
    "{S} {be} not carrying anything",
    "{S} {have} nothing in hand",
]
_CHOPPED = [
    "{x} {is} chopped",
    "{x} {is} already chopped",
    "{x} {has} been chopped",
    "{x} {is} cut into pieces",
    "{x} {is} diced",
    "{S} {have} already chopped {x}",
]
_WHOLE = [
    "{x} {is} still whole",
    "{x} {is} not chopped yet",
    "{x} {has} not been chopped yet",
    "{x} {is} uncut",
    "{x} {is} unchopped",
    "{S} {have} not chopped {x} yet",
]
_SLICED = ["{x} {is} sliced", "{x} {is} already sliced", "{x} {is} cut into slices", "{x} {has} been sliced"]
_UNSLICED = ["{x} {is} not sliced yet", "{x} {is} still in one piece", "{x} {has} not been sliced", "{x} {is} uncut"]
_AT_ON = [
    "{x} {is} on {y}",
    "{x} {is} lying on {y}",
    "{x} {is} sitting on {y}",
    "there {is} {ax} on {y}",
    "{y} {yhas} {x} on it",
]
_AT_IN = ["{x} {is} in {y}", "{x} {is} inside {y}", "there {is} {ax} in {y}", "{y} {yhas} {x} in it"]
_OPEN = ["{y} {yis} open", "{y} {yis} already open", "{y} {yis} standing open", "{y} {yis} wide open"]
_CLOSED = ["{y} {yis} closed", "{y} {yis} shut", "{y} {yis} not open yet", "{y} {yis} still closed"]
_DOOR_OPEN = ["the door of {y} {yis} open"]
_DOOR_CLOSED = ["the door of {y} {yis} closed", "the door of {y} {yis} shut"]
_POWER_ON = ["{y} {yis} on", "{y} {yis} already on", "{y} {yis} switched on", "{y} {yis} turned on"]
_POWER_OFF = ["{y} {yis} off", "{y} {yis} switched off", "{y} {yis} not on yet", "{y} {yis} turned off"]
_ROOM = ["{S} {be} in the {r}", "{S} {be} standing in the {r}", "{S} {be} now in the {r}"]
_ROOM_OUT = ["{S} {be} on the {r}", "{S} {be} standing on the {r}", "{S} {be} out on the {r}"]
_KEPT = ["{x} {is} kept {rp}", "{x} {is} {rp}", "{S} can find {x} {rp}"]
_NEAR = [
    "{S} {be} next to {y}",
    "{S} {be} standing by {y}",
    "{y} {yis} right next to {me}",
    "{y} {yis} within reach",
    "{S} {be} standing in front of {y}",
    "{S} {be} at {y}",
]
_FAR = [
    "{y} {yis} far from {me}",
    "{y} {yis} across the room",
    "{y} {yis} out of reach",
    "{S} {be} not near {y}",
    "{S} {be} some distance away from {y}",
]
_CONTENTS = [
    "{y} {yhas} {xs} {prep} it",
    "{y} {yis} holding {xs}",
    "{xs} {xsis} {prep} {y}",
    "{xs} {xsis} already {prep} {y}",
]
_EMPTY_C = ["{y} {yis} empty", "{y} {yis} still empty", "there {is} nothing in {y}", "nothing {is} in {y} yet"]
_UNNEEDED = [
    "{x} {is} not part of the recipe",
    "the recipe {does} not need {x}",
    "{x} {is} not needed",
    "{S} {do} not need {x}",
]
_FLAG = {
    ("washed", True): ["{x} {is} washed", "{x} {is} clean now", "{x} {has} been washed"],
    ("washed", False): ["{x} {is} not washed yet", "{x} {has} not been washed", "{x} {is} unwashed"],
    ("peeled", True): ["{x} {is} peeled", "{x} {has} been peeled"],
    ("peeled", False): ["{x} {is} not peeled yet", "{x} still {has} its skin on", "{x} {is} unpeeled"],
    ("hot", True): ["{x} {is} hot now", "{x} {is} warm", "{x} {is} heated"],
    ("hot", False): ["{x} {is} still cold", "{x} {is} not warm yet"],
    ("full", True): ["{x} {is} full of water", "{x} {is} filled with water", "there {is} water in {x}"],
    ("full", False): ["{x} {is} empty", "{x} {has} no water in it", "there {is} no water in {x}"],
    ("dirty", True): ["{x} {is} dirty", "{x} {is} not clean", "{x} {is} still dirty"],
    ("dirty", False): ["{x} {is} clean", "{x} {is} not dirty"],
}


class _Say:
    """Renders facts and acts of one plan for one document (person, tense, randomness)."""

    def __init__(self, plan: Plan | None, rng: random.Random, person: str = "you", past: bool = False):
        self.plan, self.rng, self.past = plan, rng, past
        self.p = _PERSON[(person, past)]
        self.person = person

    # -- noun phrases
    def np(self, x: str, w: World | None, definite: bool = True, adj: bool = True) -> str:
        rng = self.rng
        th = THINGS.get(x)
        if th is None or w is None:
            return f"the {x}" if definite else a(x)
        word = ""
        suffix = ""
        if adj and th.kind in ("food", "drink") and "chop" in th.tags:
            sliced = "slice" in th.tags
            must = self.plan is not None and x in self.plan.must_chop  # then the adjective carries the state
            if w.has(x, "chopped"):
                word = rng.choice(["sliced"] if sliced else ["chopped", "chopped", "diced"]) if must else ""
                word = word or rng.choice(["sliced", ""] if sliced else ["chopped", ""])
            elif must:
                word = rng.choice(["whole", "unsliced"] if sliced else ["whole", "unchopped", "uncut"])
        if adj and not word and w.has(x, "hot") and rng.random() < 0.6:
            word = "hot"
        if adj and not word and w.has(x, "dirty") and rng.random() < 0.7:
            word = "dirty"
        if th.kind == "container" and adj:
            inside = [y for y in w.contents(x) if y in THINGS]
            if inside:
                names = join([self._inner(y, w) for y in inside])
                if all(n.startswith(("chopped", "sliced")) for n in names.split(" and ")):
                    holds = "held" if self.past else "holds"
                    suffix = rng.choice([f" with {names} in it", f" of {names}", f" that {holds} {names}"])
                else:
                    suffix = rng.choice([f" with {names} in it", f" with {names} {inside_or_on(x)} it"])
            elif w.has(x, "full"):
                suffix = rng.choice([" full of water", " filled with water"]) if x in ("pot", "kettle") else ""
            elif rng.random() < 0.5 and x in ("bowl", "plate", "pot", "pan", "glass", "mug", "cup"):
                word = "empty"
        phrase = f"{word} {x}" if word else x
        if definite:
            return f"the {phrase}{suffix}"
        return (a(x, word) if word else a(x)) + suffix

    def _inner(self, y: str, w: World) -> str:
        if w.has(y, "chopped") and "chop" in THINGS[y].tags:
            return ("sliced " if "slice" in THINGS[y].tags else "chopped ") + y
        return "the " + y

    # -- clauses
    def clause(self, fact: tuple, w: World) -> str:
        rng, p = self.rng, self.p
        kind = fact[0]
        fields = dict(p)
        past = self.past
        fields["is"] = "was" if past else "is"
        fields["are"] = "were" if past else "are"
        fields["has"] = "had" if past else "has"
        fields["does"] = "did" if past else "does"

        def thing(x: str, key: str = "x", adj: bool | None = None) -> None:
            adj = key == "x" if adj is None else adj
            fields[key] = self.np(x, w, adj=adj)
            if key == "x":
                fields["is"] = be(x, past)
                fields["has"] = "had" if past else ("have" if THINGS.get(x) and THINGS[x].plural else "has")
                fields["ax"] = self.np(x, w, definite=False, adj=adj)
            else:
                fields["yis"] = be(x, past)
                fields["yhas"] = "had" if past else "has"
                fields["ycontains"] = "contained" if past else "contains"

        if kind == "hand":
            if fact[1] is None:
                return rng.choice(_HAND_EMPTY).format(**fields)
            x = fact[1]
            thing(x)
            fields["x"] = self.np(x, w, definite=rng.random() < 0.6)
            pool = [_HAND_FULL[i] for i in (0, 2, 4)] if fields["x"].endswith(" it") else _HAND_FULL
            return rng.choice(pool).format(**fields)
        if kind == "at":
            _, x, place = fact
            thing(x, adj=THINGS[x].kind != "container")
            thing(place, "y", adj=False)
            return rng.choice(_AT_IN if inside_or_on(place) == "in" else _AT_ON).format(**fields)
        if kind == "flag":
            _, x, flag, val = fact
            if flag == "chopped":
                thing(x, adj=False)
                sliced = "slice" in THINGS[x].tags
                pool = (_SLICED if val else _UNSLICED) if sliced else (_CHOPPED if val else _WHOLE)
                return rng.choice(pool).format(**fields)
            thing(x, adj=False)
            return rng.choice(_FLAG[(flag, val)]).format(**fields)
        if kind == "open":
            _, y, val = fact
            thing(y, "y")
            pool = _OPEN if val else _CLOSED
            if THINGS[y].kind == "appliance" or y in ("cupboard", "wardrobe", "cabinet"):
                pool = pool + (_DOOR_OPEN if val else _DOOR_CLOSED)
            return rng.choice(pool).format(**fields)
        if kind == "power":
            _, y, val = fact
            thing(y, "y")
            return rng.choice(_POWER_ON if val else _POWER_OFF).format(**fields)
        if kind == "room":
            fields["r"] = fact[1]
            return rng.choice(_ROOM_OUT if fact[1] == "balcony" else _ROOM).format(**fields)
        if kind == "kept":
            _, x, room = fact
            thing(x, adj=False)
            fields["rp"] = _room_prep(room)
            return rng.choice(_KEPT[:2] if past else _KEPT).format(**fields)
        if kind == "near":
            _, y, val = fact
            thing(y, "y", adj=False)
            return rng.choice(_NEAR if val else _FAR).format(**fields)
        if kind == "contents":
            _, y, inside = fact
            thing(y, "y", adj=False)
            if not inside:
                return rng.choice(_EMPTY_C).format(**fields)
            names = [self._inner(z, w) for z in inside]
            fields["xs"] = join(names)
            if names[0].startswith(("chopped", "sliced")) and rng.random() < 0.6:
                fields["xs"] = "the " + fields["xs"]
            fields["xsis"] = ("were" if past else "are") if len(names) > 1 else be(inside[0], past)
            fields["prep"] = inside_or_on(y)
            return rng.choice(_CONTENTS).format(**fields)
        if kind == "unneeded":
            thing(fact[1], adj=False)
            return rng.choice(_UNNEEDED).format(**fields)
        raise ValueError(fact)

    def state(self, w: World, act: Act, n_context: int | None = None) -> list[str]:
        """Clauses describing what makes ``act`` the right step in ``w`` (plus some other true facts)."""
        core, ctx = relevant_facts(w, act, self.plan)
        rng = self.rng
        k = rng.choice([0, 0, 1, 1, 2]) if n_context is None else n_context
        facts = core + rng.sample(ctx, min(k, len(ctx)))
        if rng.random() < 0.5:
            rng.shuffle(facts)
        return [self.clause(f, w) for f in facts]

    def key_clause(self, w: World, act: Act) -> str:
        """One clause with the most telling fact for ``act`` (not the hands, when something else matters)."""
        core, _ = relevant_facts(w, act, self.plan)
        pick = core[1:] if len(core) > 1 and self.rng.random() < 0.8 else core
        return self.clause(self.rng.choice(pick), w).replace(" already", "").replace(" now in", " in")

    # -- acts
    def act(self, act: Act, w: World | None, canon: bool = False, form: str = "base") -> str:
        variants = act_variants(act, self.plan, w)
        text = variants[0] if canon or self.rng.random() < 0.45 else self.rng.choice(variants)
        if self.person != "you":
            text = text.replace("yourself", "myself" if self.person == "I" else self.p["me"] + "self")
            text = re.sub(r"\byour\b", self.p["poss"], text)
        return conj(text, form)


def clauses_text(clauses: list[str], rng: random.Random, sentences: bool | None = None) -> str:
    """Join clauses into one clause list ("a, b and c", no final period) or, with ``sentences`` (random when
    ``None``), into sentences: one joined sentence or one per clause, capitalised and with periods."""
    if not clauses:
        return ""
    if sentences is None:
        sentences = True
    if not sentences:
        return join(clauses)
    if rng.random() < 0.4:
        return " ".join(cap(c) + "." for c in clauses)
    return cap(join(clauses)) + "."
