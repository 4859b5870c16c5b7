"""Generated pretraining corpus of general household and cooking English, and held-out knowledge probes.

The text renders the knowledge base of :mod:`twosome.lm.knowledge` (things with properties, and procedures
computed step by step on a small world state) in many styles: how-to lists, prose instructions, stories in the
first, second and third person, state-by-state walk-throughs, "next step" questions and answers, contrasts that
say why a tempting step is wrong ("the tomato is already in your hand"), dialogues, object facts, lists, room
descriptions and a little grid navigation. Every "next step" sentence states the state it depends on (what is in
hand, what is chopped, what is open or switched on, where things are), phrased in varied ways, so that a model
learns to condition on the state rather than on the position in a recipe.

It is never an environment transcript: no observation prompt is copied, no simulator rule (capacities, step
counts, rewards, failures) is stated, and phrases characteristic of the environments' prompts are avoided (a guard
drops any document that would contain one). What the simulators do exactly is left for RL to learn.

Held-out split: see :mod:`twosome.lm.knowledge` (``HELDOUT``). ``documents(split="train")`` never shows a reserved
(schema, object) combination; ``documents(split="heldout")`` shows only procedures and schema facts that contain
one, rendered with the same templates, so held-out perplexity measures generalisation to new combinations.
``knowledge_probes`` asks multiple-choice questions about the reserved combinations only.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

from twosome.lm import knowledge as kb
from twosome.lm.knowledge import THINGS, Act, Plan, World, why_not

# ---------------------------------------------------------------------------------------------------------------
# Public word lists (the tokenizer trainer and the scoring benchmark use them)
# ---------------------------------------------------------------------------------------------------------------

ROOMS = list(kb.ROOM_NAMES)
FOODS = list(kb.FOOD_NAMES)
TOOLS = [t.name for t in THINGS.values() if t.kind in ("container", "surface", "appliance") or t.name == "knife"]
FURNITURE = [t.name for t in THINGS.values() if t.kind == "furniture"] + ["TV", "lamp"]
VERBS = [
    "pick up",
    "take",
    "grab",
    "get",
    "put",
    "place",
    "walk to",
    "go to",
    "open",
    "close",
    "turn on",
    "turn off",
    "switch on",
    "chop",
    "cut",
    "slice",
    "dice",
    "wash",
    "rinse",
    "peel",
    "serve",
    "cook",
    "heat up",
    "boil",
    "fry",
    "bake",
    "pour",
    "fill",
    "sit on",
    "lie on",
    "carry",
    "hold",
    "wipe",
    "water",
    "drop",
    "toggle",
]
ADJ = [
    "fresh",
    "chopped",
    "unchopped",
    "whole",
    "sliced",
    "clean",
    "dirty",
    "empty",
    "full",
    "hot",
    "cold",
    "warm",
    "small",
    "large",
    "red",
    "green",
    "open",
    "closed",
]

# ---------------------------------------------------------------------------------------------------------------
# Words
# ---------------------------------------------------------------------------------------------------------------

_IRREGULAR = {  # base: (past, third person, -ing)
    "put": ("put", "puts", "putting"),
    "cut": ("cut", "cuts", "cutting"),
    "set": ("set", "sets", "setting"),
    "let": ("let", "lets", "letting"),
    "shut": ("shut", "shuts", "shutting"),
    "wet": ("wet", "wets", "wetting"),
    "take": ("took", "takes", "taking"),
    "get": ("got", "gets", "getting"),
    "go": ("went", "goes", "going"),
    "sit": ("sat", "sits", "sitting"),
    "lie": ("lay", "lies", "lying"),
    "lay": ("laid", "lays", "laying"),
    "bring": ("brought", "brings", "bringing"),
    "eat": ("ate", "eats", "eating"),
    "drink": ("drank", "drinks", "drinking"),
    "give": ("gave", "gives", "giving"),
    "make": ("made", "makes", "making"),
    "have": ("had", "has", "having"),
    "do": ("did", "does", "doing"),
    "read": ("read", "reads", "reading"),
    "spread": ("spread", "spreads", "spreading"),
    "hold": ("held", "holds", "holding"),
    "light": ("lit", "lights", "lighting"),
    "slide": ("slid", "slides", "sliding"),
    "chop": ("chopped", "chops", "chopping"),
    "grab": ("grabbed", "grabs", "grabbing"),
    "drop": ("dropped", "drops", "dropping"),
    "step": ("stepped", "steps", "stepping"),
    "scrub": ("scrubbed", "scrubs", "scrubbing"),
    "transfer": ("transferred", "transfers", "transferring"),
    "find": ("found", "finds", "finding"),
    "leave": ("left", "leaves", "leaving"),
    "see": ("saw", "sees", "seeing"),
    "squeeze": ("squeezed", "squeezes", "squeezing"),
}


def conj(phrase: str, form: str) -> str:
    """Conjugate the verb that starts ``phrase``: form is "base", "past", "s" (third person) or "ing"."""
    if form == "base":
        return phrase
    head, _, rest = phrase.partition(" ")
    if head in _IRREGULAR:
        word = _IRREGULAR[head][("past", "s", "ing").index(form)]
    elif form == "past":
        word = head + "d" if head.endswith("e") else head[:-1] + "ied" if _cons_y(head) else head + "ed"
    elif form == "s":
        word = (
            head[:-1] + "ies" if _cons_y(head) else head + "es" if head.endswith(("sh", "ch", "s", "x")) else head + "s"
        )
    else:
        word = head[:-1] + "ing" if head.endswith("e") and not head.endswith("ee") else head + "ing"
    return f"{word} {rest}" if rest else word


def _cons_y(word: str) -> bool:
    return word.endswith("y") and len(word) > 1 and word[-2] not in "aeiou"


def _an(phrase: str) -> str:
    return ("an " if phrase[:1] in "aeiou" else "a ") + phrase


def a(x: str, adj: str = "") -> str:
    """Indefinite noun phrase: "a tomato", "an onion", "some rice", "some chips", "a chopped carrot"."""
    phrase = f"{adj} {x}" if adj else x
    th = THINGS.get(x)
    if th is not None and (th.mass or th.plural):
        return "some " + phrase
    return _an(phrase)


def be(x: str, past: bool = False) -> str:
    plural = x in THINGS and THINGS[x].plural
    return ("were" if plural else "was") if past else ("are" if plural else "is")


def it(x: str) -> str:
    return "them" if x in THINGS and THINGS[x].plural else "it"


def join(words: list[str] | tuple[str, ...]) -> str:
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _room_prep(room: str) -> str:
    return f"on the {room}" if room == "balcony" else f"in the {room}"


_NAMES = [
    ("Anna", "she"),
    ("Tom", "he"),
    ("Mia", "she"),
    ("Sam", "he"),
    ("Lena", "she"),
    ("Ben", "he"),
    ("Maria", "she"),
    ("Omar", "he"),
    ("Yuki", "she"),
    ("Leo", "he"),
    ("Sara", "she"),
    ("Noah", "he"),
    ("Emma", "she"),
    ("Ravi", "he"),
    ("Lucy", "she"),
    ("Jack", "he"),
    ("Nina", "she"),
    ("Paul", "he"),
    ("Zoe", "she"),
    ("Ken", "he"),
]

# Grammatical person and tense of state clauses.
_PERSON = {
    ("you", False): {"S": "you", "be": "are", "have": "have", "poss": "your", "me": "you", "hold": "hold", "do": "do"},
    ("I", False): {"S": "I", "be": "am", "have": "have", "poss": "my", "me": "me", "hold": "hold", "do": "do"},
    ("she", False): {"S": "she", "be": "is", "have": "has", "poss": "her", "me": "her", "hold": "holds", "do": "does"},
    ("he", False): {"S": "he", "be": "is", "have": "has", "poss": "his", "me": "him", "hold": "holds", "do": "does"},
    ("you", True): {"S": "you", "be": "were", "have": "had", "poss": "your", "me": "you", "hold": "held", "do": "did"},
    ("I", True): {"S": "I", "be": "was", "have": "had", "poss": "my", "me": "me", "hold": "held", "do": "did"},
    ("she", True): {"S": "she", "be": "was", "have": "had", "poss": "her", "me": "her", "hold": "held", "do": "did"},
    ("he", True): {"S": "he", "be": "was", "have": "had", "poss": "his", "me": "him", "hold": "held", "do": "did"},
}

# ---------------------------------------------------------------------------------------------------------------
# State clauses
# ---------------------------------------------------------------------------------------------------------------

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
                    suffix = rng.choice([f" with {names} in it", f" with {names} {kb.inside_or_on(x)} it"])
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
            return rng.choice(_AT_IN if kb.inside_or_on(place) == "in" else _AT_ON).format(**fields)
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
            fields["prep"] = kb.inside_or_on(y)
            return rng.choice(_CONTENTS).format(**fields)
        if kind == "unneeded":
            thing(fact[1], adj=False)
            return rng.choice(_UNNEEDED).format(**fields)
        raise ValueError(fact)

    def state(self, w: World, act: Act, n_context: int | None = None) -> list[str]:
        """Clauses describing what makes ``act`` the right step in ``w`` (plus some other true facts)."""
        core, ctx = kb.relevant_facts(w, act, self.plan)
        rng = self.rng
        k = rng.choice([0, 0, 1, 1, 2]) if n_context is None else n_context
        facts = core + rng.sample(ctx, min(k, len(ctx)))
        if rng.random() < 0.5:
            rng.shuffle(facts)
        return [self.clause(f, w) for f in facts]

    def key_clause(self, w: World, act: Act) -> str:
        """One clause with the most telling fact for ``act`` (not the hands, when something else matters)."""
        core, _ = kb.relevant_facts(w, act, self.plan)
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


# ---------------------------------------------------------------------------------------------------------------
# Acts and goals
# ---------------------------------------------------------------------------------------------------------------


def act_variants(act: Act, plan: Plan | None, w: World | None = None) -> list[str]:
    """Ways to say ``act`` as an imperative; the first one is the canonical wording."""
    v, o, t = act.verb, act.obj, act.target
    th = THINGS.get(o)
    O, T = f"the {o}", f"the {t}"
    food = th is not None and th.kind in ("food", "drink")
    if v == "go":
        return [f"walk to the {o}", f"go to the {o}", f"head to the {o}", f"move to the {o}", f"go into the {o}"]
    if v == "approach":
        return [f"walk to {O}", f"go over to {O}", f"step up to {O}", f"move next to {O}"]
    if v == "pick":
        if th is not None and th.kind == "container":
            return [f"take {O}", f"pick up {O}", f"grab {O}", f"get {O}"]
        return [f"pick up {O}", f"grab {O}", f"take {O}", f"get {O}", f"pick {O} up"]
    if v == "put":
        prep = kb.inside_or_on(t)
        out = [f"put {O} {prep} {T}", f"place {O} {prep} {T}"]
        if prep == "on":
            out += [f"set {O} on {T}", f"put {O} down on {T}", f"lay {O} on {T}"]
        else:
            out += [f"put {O} into {T}", f"place {O} inside {T}"]
        if food and t in ("bowl", "pot", "pan", "plate"):
            out.append(f"add {O} to {T}")
        if o == "egg" and t in ("pan", "pot"):
            out.append(f"crack {O} into {T}")
        if o in ("detergent", "tea bag", "coffee"):
            out = [f"put {a(o)} in {T}", f"add {a(o)} to {T}", f"put {O} in {T}"]
        return out
    if v == "move":
        chopped = w is not None and w.has(o, "chopped") and th is not None and "chop" in th.tags
        adj = ("sliced " if "slice" in th.tags else "chopped ") if chopped else ""
        prep = kb.inside_or_on(t)
        into = "into" if prep == "in" else "onto"
        return [
            f"put the {adj}{o} {prep} {T}",
            f"move the {adj}{o} {into} {T}",
            f"transfer the {adj}{o} to {T}",
            f"slide the {adj}{o} {into} {T}",
        ]
    if v == "chop":
        if th is not None and "slice" in th.tags:
            return [f"slice {O}", f"cut {O} into slices", f"cut {O}", f"slice {O} with the knife"]
        return [
            f"chop {O}",
            f"cut {O}",
            f"chop up {O}",
            f"dice {O}",
            f"cut {O} into pieces",
            f"chop {O} with the knife",
        ]
    if v == "wash":
        if food:
            return [f"wash {O}", f"rinse {O}", f"wash {O} in the sink", f"rinse {O} under the tap"]
        if o == "sponge":
            return ["rinse the sponge", "wet the sponge", "rinse the sponge under the tap"]
        return [f"wash {O}", f"scrub {O}", f"wash {O} with the sponge", f"clean {O} in the sink"]
    if v == "peel":
        return [f"peel {O}", f"take the skin off {O}", f"peel {O} with the knife"]
    if v in ("open", "close"):
        door = th is not None and (th.kind == "appliance" or o in ("cupboard", "wardrobe", "cabinet"))
        if v == "open":
            return [f"open {O}"] + ([f"open the door of {O}", f"open {O} door"] if door else [f"lift the lid of {O}"])
        return [f"close {O}", f"shut {O}"] + ([f"close the door of {O}", f"close {O} door"] if door else [])
    if v == "on":
        out = [f"turn on {O}", f"switch on {O}", f"turn {O} on"]
        if o in ("microwave", "washing machine", "dishwasher", "dryer", "oven"):
            out.append(f"start {O}")
        if o == "toaster":
            out.append("push down the lever of the toaster")
        if o == "tap":
            out.append("let the water run")
        return out
    if v == "off":
        return [f"turn off {O}", f"switch off {O}", f"turn {O} off"]
    if v == "wait":
        return {
            "microwave": ["wait for the microwave to finish", "wait until the microwave beeps", "wait a minute"],
            "stove": ["wait for it to cook", "let it cook for a while", "wait a few minutes"],
            "kettle": ["wait for the water to boil", "wait until the kettle boils", "let the water boil"],
            "oven": ["wait until it is baked", "let it bake for a while", "wait for the oven to finish"],
            "toaster": ["wait for the toast to pop up", "wait until the bread is toasted"],
        }.get(o, [f"wait for {O} to finish", f"let {O} run", "wait a while"])
    if v == "take_out":
        return [f"take {O} out of {T}", f"remove {O} from {T}", f"get {O} out of {T}"]
    if v == "sit":
        out = [f"sit on {O}", f"sit down on {O}", f"take a seat on {O}"]
        return out + [f"sit in {O}"] if o == "armchair" else out
    if v == "lie":
        return [f"lie on {O}", f"lie down on {O}", f"get into {O}"]
    if v == "serve":
        dish = plan.dish if plan is not None and plan.dish else "dish"
        return [f"serve the {dish}", "serve the dish", f"bring the {dish} to the table", f"deliver the {dish}"]
    if v == "fill":
        return [f"fill {O} with water", f"fill {O} at the sink", f"put water in {O}", f"fill {O} from the tap"]
    if v == "pour":
        if o == "kettle":
            return [f"pour the hot water into {T}", f"pour the water from the kettle into {T}"]
        if o == "oil":
            return [f"pour some oil into {T}", f"put a little oil in {T}"]
        return [f"pour {O} into {T}", f"pour some {o} into {T}", f"fill {T} with {o}"]
    if v == "ladle":
        return [
            f"pour the soup into {T}",
            f"ladle the soup into {T}",
            f"fill {T} with soup",
            f"spoon the soup into {T}",
        ]
    if v == "eat":
        return [f"eat {O}", f"enjoy {O}", f"eat {O} slowly"]
    if v == "drink":
        return [f"drink {O}", f"drink the {o} slowly", f"enjoy {O}"]
    if v == "wipe":
        return [f"wipe {O}", f"wipe {O} with the sponge", f"clean {O}", f"wipe down {O}"]
    if v == "water":
        return ["water the plant", "give the plant some water", "pour water on the plant"]
    if v == "spread":
        if o == "toothpaste":
            return ["put toothpaste on the toothbrush", "squeeze some toothpaste onto the toothbrush"]
        return [f"spread {O} on {T}", f"spread some {o} on {T}", f"butter {T}"]
    if v == "brush":
        return ["brush your teeth", "brush your teeth well"]
    if v == "watch":
        return ["watch TV", "watch a show on the TV", "enjoy a show on TV"]
    if v == "read":
        return [f"read {O}", f"read a few pages of {O}", f"open {O} and read"]
    if v == "shower":
        return ["take a shower", "wash yourself in the shower"]
    if v == "dry":
        return ["dry yourself with the towel", "dry off with the towel"]
    if v == "fold":
        return [f"fold {O}"]
    raise ValueError(act)


def goal_phrases(plan: Plan) -> list[str]:
    """Infinitive phrases naming the goal of ``plan`` ("make a tomato salad", "heat up the pancake")."""
    s, objs, x = plan.schema, plan.objs, plan.objs[0]
    X = join(objs)
    ax = a(x)
    if s == "salad":
        return [
            f"make a {X} salad",
            f"make a salad with chopped {X}",
            f"prepare a salad of chopped {X}",
            f"serve a bowl of chopped {X}",
            f"make a fresh salad out of {X}",
        ]
    if s == "soup":
        return [f"make a {X} soup", f"cook a soup with {X}", f"make soup from {X}", f"cook a pot of {X} soup"]
    if s == "sandwich":
        return [f"make a {X} sandwich", f"make a sandwich with {X}", f"prepare a {X} sandwich"]
    if s == "microwave":
        return [
            f"heat up the {x}",
            f"heat the {x} in the microwave",
            f"warm up the {x}",
            f"warm the {x} in the microwave",
            f"make the {x} hot",
        ]
    if s == "boil":
        return [f"cook the {x}", f"boil the {x}", f"cook the {x} in a pot of water", f"make boiled {x}"]
    if s == "fry":
        return [f"fry the {x}", f"cook the {x} in a pan", f"make fried {x}"]
    if s == "oven":
        return [f"bake the {x}", f"cook the {x} in the oven", f"warm the {x} in the oven"]
    if s == "toast":
        return ["make toast", "toast some bread", "make a slice of toast"]
    if s == "cold_drink":
        return [f"pour a glass of {x}", f"have a glass of cold {x}", f"get a glass of {x}"]
    if s == "hot_drink":
        return [f"make a cup of {x}", f"make a mug of hot {x}", f"make some {x}"]
    if s == "tv":
        seat = plan.extra.get("seat", "sofa")
        drink = plan.extra.get("drink")
        if drink:
            return [f"watch TV with {ax} and some {drink}", f"relax in front of the TV with {ax} and some {drink}"]
        return [
            f"watch TV with {ax}",
            f"watch TV while eating {ax}",
            f"relax on the {seat} with {ax} and the TV on",
            f"have {ax} in front of the TV",
        ]
    if s == "fridge":
        return [f"put the {x} in the fridge", f"put the {x} away in the fridge", f"keep the {x} cold in the fridge"]
    if s == "laundry":
        return [f"wash the {X}", f"wash the dirty {X}", f"clean the {X} in the washing machine", "do the laundry"]
    if s == "dishes":
        how = "in the dishwasher" if plan.extra.get("dishwasher") else "by hand"
        return [f"wash the dirty {X}", f"clean the {X} {how}", f"wash the {X} {how}", "do the dishes"]
    if s == "plants":
        rp = _room_prep(x)
        return [f"water the plant {rp}", f"give the plant {rp} some water", f"water the {x} plant"]
    if s == "clean":
        return [f"clean the {x}", f"wipe the {x}", f"wipe down the dirty {x}"]
    if s == "bedtime":
        return ["get ready for bed", "go to bed", "go to sleep"]
    if s == "trash":
        return ["take out the trash", "throw away the trash", "empty the kitchen trash"]
    if s == "table":
        return ["set the table", "set the dining table", "lay the table for dinner"]
    if s == "read":
        return ["read a book", f"read a book on the {plan.extra.get('seat', 'sofa')}", "sit down with a good book"]
    if s == "shower":
        return ["take a shower", "have a shower"]
    raise ValueError(s)


# ---------------------------------------------------------------------------------------------------------------
# Plan documents
# ---------------------------------------------------------------------------------------------------------------

_FIRSTS = ["first", "to begin,", "to start,"]
_THENS = ["then", "next", "after that", "now", "once that is done,", "after this"]


def _adv(i: int, rng: random.Random) -> str:
    return rng.choice(["first", "first"]) if i == 0 else rng.choice(["now", "next", "now"])


def doc_howto(plan: Plan, rng: random.Random) -> str:
    say = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    title = rng.choice([f"How to {goal}", f"How to {goal}:", f"{cap(goal)} in {len(plan.steps)} steps", cap(goal)])
    lines = [title]
    if plan.schema in ("salad", "soup", "sandwich") and rng.random() < 0.6:
        needs = [a(x) for x in sorted(plan.needed)] + ["a knife", "a cutting board"]
        needs += {"salad": ["a bowl"], "soup": ["a pot", "a bowl"], "sandwich": ["a plate"]}[plan.schema]
        lines.append(rng.choice(["You need: ", "You will need ", "Ingredients and tools: "]) + join(needs) + ".")
    numbered = rng.random() < 0.7
    for i, step in enumerate(plan.steps):
        text = cap(say.act(step.act, step.before))
        if rng.random() < 0.12:
            clauses = say.state(step.before, step.act, 0)[:2]
            text += rng.choice([", because ", " since "]) + join(clauses)
        lines.append(f"{i + 1}. {text}." if numbered else f"- {text}.")
    if rng.random() < 0.4:
        lines.append(rng.choice(["That's it.", "Enjoy!", "Done.", "Now you are finished."]))
    return "\n".join(lines)


def doc_prose(plan: Plan, rng: random.Random) -> str:
    say = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    parts: list[str] = []
    n = len(plan.steps)
    ordinal = rng.random() < 0.15
    for i, step in enumerate(plan.steps):
        act = say.act(step.act, step.before)
        if ordinal and i < 3:
            parts.append(f"The {('first', 'second', 'third')[i]} step is to {act}.")
        elif i == 0:
            parts.append(f"To {goal}, {rng.choice(_FIRSTS)} {act}.")
        elif i == n - 1:
            parts.append(f"{rng.choice(['Finally', 'Last', 'In the end'])}, {act}.")
        elif rng.random() < 0.25:
            clause = say.key_clause(step.before, step.act)
            parts.append(f"{cap(rng.choice(['when', 'once', 'as soon as']))} {clause}, {act}.")
        else:
            parts.append(cap(f"{rng.choice(_THENS)} {act}."))
    return " ".join(parts)


def doc_story(plan: Plan, rng: random.Random) -> str:
    name, pron = rng.choice(_NAMES)
    person = rng.choice(["third", "third", "first", "second"])
    past = person != "second" and rng.random() < 0.8
    if person == "third":
        subj, say = name, _Say(plan, rng, pron, past)
    elif person == "first":
        subj, say = "I", _Say(plan, rng, "I", past)
    else:
        subj, say = "you", _Say(plan, rng, "you", False)
    form = "past" if past else ("s" if person == "third" else "base")
    goal = rng.choice(goal_phrases(plan))
    want = {"past": "wanted", "s": "wants", "base": "want"}[form]
    opener = {
        "third": [f"{name} {want} to {goal}.", f"One evening, {name} {want} to {goal}.", f"{name} was hungry."],
        "first": [f"I {want} to {goal}.", f"Yesterday I {want} to {goal}.", f"This morning I decided to {goal}."],
        "second": [f"You want to {goal}.", f"Imagine you want to {goal}."],
    }[person]
    sents = [rng.choice(opener[:2]) if plan.schema not in ("salad", "soup", "sandwich") else rng.choice(opener)]
    if sents[0].endswith("was hungry."):
        sents.append(f"{cap(pron)} decided to {goal}.")
    cur = subj
    for i, step in enumerate(plan.steps):
        act = say.act(step.act, step.before, form=form)
        if rng.random() < 0.2:
            clause = say.key_clause(step.before, step.act)
            sents.append(cap(f"{clause}, so {say.p['S']} {act}."))
        elif i and rng.random() < 0.5:
            then = rng.choice(_THENS).replace(" is done", " was done" if past else " is done")
            sents.append(cap(f"{then} {say.p['S'] if rng.random() < 0.8 else cur} {act}."))
        else:
            sents.append(cap(f"{cur} {act}."))
        cur = say.p["S"] if person != "second" else "you"
    if rng.random() < 0.5:
        end = (
            {
                "third": [f"{cap(pron)} was happy.", "It was a good evening.", f"{name} smiled."],
                "first": ["I was happy.", "It worked well.", "That was easy."],
            }.get(person, [])
            if past
            else {
                "third": [f"{cap(pron)} is happy.", f"{name} smiles."],
                "first": ["I am happy.", "That was easy."],
                "second": ["You are done.", "Well done."],
            }[person]
        )
        sents.append(rng.choice(end))
    return " ".join(sents)


def doc_trace(plan: Plan, rng: random.Random) -> str:
    """Walk through the plan stating the relevant state before each step."""
    say = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    sents = [rng.choice([f"You want to {goal}.", f"Your task is to {goal}.", f"Goal: {goal}.", f"Let's {goal}."])]
    for i, step in enumerate(plan.steps):
        clauses = say.state(step.before, step.act, rng.choice([0, 0, 1]))
        if rng.random() < 0.3 and len(clauses) > 1:
            clauses = clauses[:1] if clauses[0].startswith(("your hands", "you are holding")) else clauses
        act = say.act(step.act, step.before)
        cond = clauses_text(clauses, rng, sentences=False)
        r = rng.random()
        if r < 0.35:
            sents.append(cap(f"{cond}, so {_adv(i, rng)} {act}."))
        elif r < 0.55:
            sents.append(cap(f"{cond}.") + " " + cap(f"{_adv(i, rng)} {act}."))
        elif r < 0.7:
            sents.append(cap(f"since {cond}, {_adv(i, rng)} {act}."))
        elif r < 0.85:
            sents.append(cap(f"{cond}.") + f" The next step is to {act}.")
        else:
            sents.append(cap(f"{cond}.") + f" You should {_adv(i, rng)} {act}.")
    if rng.random() < 0.5:
        sents.append(rng.choice(["Now the task is done.", "That is all.", "And you are finished."]))
    return " ".join(sents)


def _next_step_item(plan: Plan, i: int, rng: random.Random) -> str:
    say = _Say(plan, rng)
    step = plan.steps[i]
    w, act_ = step.before, step.act
    goal = rng.choice(goal_phrases(plan))
    clauses = say.state(w, act_)
    act = say.act(act_, w)
    cond = clauses_text(clauses, rng, sentences=False)
    Cond = clauses_text(clauses, rng)
    adv = _adv(i, rng)
    hold = w.hand
    templates: list[Callable[[], str]] = [
        lambda: f"If {cond}, the next step is to {act}.",
        lambda: f"If {cond}, you should {adv} {act}.",
        lambda: f"When {cond}, {act}.",
        lambda: f"Since {cond}, {adv} {act}.",
        lambda: f"{Cond} To {goal}, you should {adv} {act}.",
        lambda: f"{Cond} What should you do next to {goal}? {cap(act)}.",
        lambda: f"You want to {goal}. {Cond} Next you should {act}.",
        lambda: f"Goal: {goal}. State: {cond}. Next action: {act}.",
        lambda: f"Q: {Cond} You want to {goal}. What is the next step?\nA: The next step is to {act}.",
        lambda: f"Because {cond}, the next thing to do is {conj(act, 'ing')}.",
        lambda: f"{Cond} The next step is to {act}.",
        lambda: f"Task: {goal}. {Cond} You should {adv} {act}.",
        lambda: f"{cap(cond)}, so {act} next.",
    ]
    if hold is not None:
        np_ = say.np(hold, w)
        templates.append(lambda: f"With {np_} in hand, {act}.")
        templates.append(lambda: f"If you are holding {np_}, the next step is to {act}.")
    elif i == 0:
        templates.append(lambda: f"When your hands are empty and you want to {goal}, first {act}.")
    if act_.verb in ("chop", "move", "pick") and w.has(act_.obj, "chopped"):
        templates.append(lambda: f"Once the {act_.obj} {be(act_.obj)} chopped, {act}.")
    if act_.verb in ("open", "put") and (act_.target or act_.obj) in THINGS:
        y = act_.obj if act_.verb == "open" else act_.target
        if "open" in THINGS[y].tags and not w.has(y, "open"):
            templates.append(lambda: f"Since the {y} is closed, {adv} {act}.")
    text = rng.choice(templates)()
    return cap(text)


def doc_next_steps(plans: list[Plan], rng: random.Random) -> str:
    items = []
    for plan in plans:
        for i in rng.sample(range(len(plan.steps)), min(len(plan.steps), rng.randint(1, 3))):
            items.append(_next_step_item(plan, i, rng))
    return ("\n\n" if rng.random() < 0.5 else " ").join(items)


def _wrong_acts(plan: Plan, w: World, gold: Act) -> list[tuple[Act, str]]:
    """Acts of the plan (and picking up unneeded things) that make no sense in ``w``, each with the reason."""
    cands = [s.act for s in plan.steps] + [Act("pick", x) for x in plan.extras]
    out, seen = [], {gold}
    for act in cands:
        if act in seen:
            continue
        seen.add(act)
        reason = why_not(w, act, plan)
        if reason is not None:
            out.append((act, reason))
    return out


def doc_contrast(plan: Plan, rng: random.Random) -> str:
    say = _Say(plan, rng)
    i = rng.randrange(len(plan.steps))
    step = plan.steps[i]
    wrong = _wrong_acts(plan, step.before, step.act)
    # Prefer mistakes about what was just done (repeating a step) and those close in time.
    wrong.sort(
        key=lambda aw: abs([s.act for s in plan.steps].index(aw[0]) - i) if aw[0] in [s.act for s in plan.steps] else 0
    )
    wrong = wrong[: rng.randint(1, 3)]
    goal = rng.choice(goal_phrases(plan))
    cond = clauses_text(say.state(step.before, step.act, rng.choice([0, 1])), rng)
    act = say.act(step.act, step.before)
    sents = [rng.choice([f"You want to {goal}.", f"You are trying to {goal}.", f"Suppose you want to {goal}."]), cond]
    for bad, reason in wrong:
        b = say.act(bad, step.before)
        sents.append(
            rng.choice(
                [
                    f"There is no need to {b}, because {reason}.",
                    f"Do not {b}: {reason}.",
                    f"It makes no sense to {b} now, since {reason}.",
                    f"You might think of {conj(b, 'ing')}, but {reason}.",
                    f"{cap(b)}? No, {reason}.",
                ]
            )
        )
    sents.append(
        rng.choice([f"Instead, {act}.", f"The right step is to {act}.", f"What you should do is {act}.", f"So {act}."])
    )
    return " ".join(cap(s) for s in sents if s)


def doc_dialogue(plan: Plan, rng: random.Random) -> str:
    (n1, _), (n2, _) = rng.sample(_NAMES, 2)
    me = _Say(plan, rng, "I")
    you = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    lines = [f"{n1}: I want to {goal}. What should I do first?"]
    steps = plan.steps
    start = 0
    if len(steps) > 6 and rng.random() < 0.5:
        start = rng.randrange(len(steps) - 4)
        lines = [
            f"{n1}: I am trying to {goal}. "
            + cap(clauses_text(me.state(steps[start].before, steps[start].act), rng))
            + " What now?"
        ]
    end = min(len(steps), start + rng.randint(3, 7))
    for i in range(start, end):
        step = steps[i]
        act = you.act(step.act, step.before)
        lines.append(f"{n2}: {cap(rng.choice(['', 'now ', 'next, ', 'okay, ']) + act)}." if i else f"{n2}: {cap(act)}.")
        if i + 1 < end:
            nxt = steps[i + 1]
            clause = me.key_clause(nxt.before, nxt.act)
            ask = rng.choice(["What now?", "What next?", "And then?"])
            lines.append(f"{n1}: {rng.choice(['Done. ', 'Okay. ', ''])}{cap(clause)}. {ask}")
    if end == len(steps) and rng.random() < 0.5:
        lines.append(f"{n1}: Thanks!")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------------------------
# Knowledge documents (facts about things, rooms, lists, questions)
# ---------------------------------------------------------------------------------------------------------------

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
        pool = [x for x in kb.ELIGIBLE[schema] if kb.is_heldout(schema, x) == (split == "heldout")]
        if schema in ("salad", "soup", "sandwich"):
            pool = [x for x in pool if "chop" in THINGS[x].tags]
        if not pool:
            continue
        x = rng.choice(pool)
        sents.append(_fill(query, x) + " " + answer + ".")
        combos.add((schema, x))
    return " ".join(sents), combos


def _gated(schema: str, x: str, split: str) -> bool:
    return kb.allowed(schema, x, split)


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
        where = f"{kb.inside_or_on(th.spot)} the {th.spot}" if th.spot else ""
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
            schema = kb.TAG_SCHEMA.get(tag)
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
            foods = [f for f in kb.ELIGIBLE["microwave"] if _gated("microwave", f, split)]
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
        where = f"{kb.inside_or_on(th.spot)} the {th.spot} " if th.spot else ""
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
    s = [cap(rng.choice([f"the {room} is where people {kb.ROOM_USE[room]}.", f"people {kb.ROOM_USE[room]} {rp}."]))]
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
        ("Things you can chop on a cutting board", kb.with_tag("chop"), None),
        ("Vegetables that go in a salad", pool("salad", kb.ELIGIBLE["salad"]), "salad"),
        ("Foods you can heat in a microwave", pool("microwave", kb.ELIGIBLE["microwave"]), "microwave"),
        ("Foods that are kept in the fridge", pool("fridge", kb.ELIGIBLE["fridge"]), "fridge"),
        ("Snacks to eat while watching TV", pool("tv", kb.ELIGIBLE["tv"]), "tv"),
        ("Things you can sit on", kb.with_tag("sit"), None),
        ("Things that you switch on and off", kb.with_tag("power"), None),
        ("Things with a door", [x for x in kb.with_tag("open") if x not in ("trash can", "drawer")], None),
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
            x = rng.choice(kb.with_tag("chop"))
            qas.append((f"Where do you chop {a(x)}?", "On a cutting board, with a knife."))
        elif k == 1:
            x = rng.choice([t.name for t in THINGS.values() if t.kind in ("furniture", "appliance")])
            qas.append((f"Which room is the {x} usually in?", f"The {THINGS[x].room}."))
        elif k == 2:
            qas.append(("What do you sit on to watch TV?", rng.choice(["The sofa.", "A sofa or an armchair."])))
        elif k == 3:
            x = rng.choice([f for f in kb.ELIGIBLE["microwave"] if _gated("microwave", f, split)])
            combos.add(("microwave", x))
            qas.append(
                (
                    f"How do you heat up the {x} in the microwave?",
                    f"Open the microwave, put the {x} inside, close it and turn it on.",
                )
            )
        elif k == 4:
            x = rng.choice([f for f in kb.ELIGIBLE["salad"] if _gated("salad", f, split)])
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
            x = rng.choice(kb.with_tag("chop"))
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
        c, o = rng.choice(kb.COLOURS), rng.choice(kb.NAV_OBJECTS)
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
            d = rng.choice(kb.COLOURS)
            sents.append(
                f"The {d} door is closed. To go through it, first open it: toggle the door. A locked door needs a key."
            )
        elif k == 5:
            c2, o2 = rng.choice(kb.COLOURS), rng.choice(kb.NAV_OBJECTS)
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


# ---------------------------------------------------------------------------------------------------------------
# Documents
# ---------------------------------------------------------------------------------------------------------------

# Phrases characteristic of the environments' prompts: a document containing one is dropped (a guard; the
# templates above are written so that this never happens, which tests check).
_FORBIDDEN_PHRASES = (
    "fixed cutting board",
    "don't have anything in hand",
    "currently you",
    "currently, you",
    "on the different tables",
    "not grabbing anything",
    "only containing",
    "serve the dish of",
    "your next step is to",
    "not close to you",
    "there are four rooms",
    "you notice",
    "is not opend",
)
_FORBIDDEN_CARRYING = re.compile(r"carrying (?:a|an|the) (?:[a-z]+ ){1,3}in hand")
# Exact sentence shapes of the environments (the generic phrasings around them are allowed).
_FORBIDDEN_SHAPES = re.compile(
    r"in front of the (?:first |second )?cutting board without anything in hand\.|"
    r"carrying a bowl containing (?:a )?chopped [a-z]+(?: and [a-z]+)?\.|"
    r"(?:^|[.!?]\s+)(?:a|an) (?:bowl containing (?:a )?)?(?:chopped |unchopped )?[a-z]+(?: and [a-z]+)? is on the "
    r"(?:first |second )?cutting board\."
)


def _forbidden(text: str) -> bool:
    low = text.lower()
    if any(p in low for p in _FORBIDDEN_PHRASES):
        return True
    return _FORBIDDEN_CARRYING.search(low) is not None or _FORBIDDEN_SHAPES.search(low) is not None


# ---------------------------------------------------------------------------------------------------------------
# Decisive kitchen steps: chop what lies whole on the board, take the bowl, put food in it, serve the dish
# ---------------------------------------------------------------------------------------------------------------

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
    foods = [x for x in _CHOPPABLE if all(kb.allowed(s, x, split) for s in ("salad", "soup", "sandwich"))]
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


_PLAN_DOCS = {
    "howto": (doc_howto, 9),
    "prose": (doc_prose, 8),
    "story": (doc_story, 10),
    "trace": (doc_trace, 16),
    "contrast": (doc_contrast, 8),
    "dialogue": (doc_dialogue, 5),
}
_OTHER_DOCS = {"decisive": 14, "next": 18, "schema_facts": 5, "facts": 8, "room": 3, "lists": 3, "qa": 4, "nav": 3}


def _generate(n_words: int, seed: int, split: str, log: list | None = None) -> Iterator[tuple[str, set]]:
    """(document, the (schema, object) combinations it shows) until about ``n_words`` words. With ``log``, the
    decisive kitchen steps of the documents ((kind, food) pairs, see ``doc_decisive``) are appended to it."""
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
    rng = random.Random(f"twosome-corpus:{split}:{seed}")
    kinds = list(_PLAN_DOCS) + list(_OTHER_DOCS)
    if split == "heldout":
        kinds = list(_PLAN_DOCS) + ["next", "schema_facts"]
    weights = [_PLAN_DOCS[k][1] if k in _PLAN_DOCS else _OTHER_DOCS[k] for k in kinds]
    words = 0
    while words < n_words:
        kind = rng.choices(kinds, weights)[0]
        combos: set = set()
        if kind in _PLAN_DOCS:
            plan = kb.make_plan(rng, split)
            text, combos = _PLAN_DOCS[kind][0](plan, rng), plan.combos
        elif kind == "next":
            plans = [kb.make_plan(rng, split) for _ in range(rng.randint(1, 3))]
            text = doc_next_steps(plans, rng)
            combos = set().union(*(p.combos for p in plans))
        elif kind == "decisive":
            recs: list = []
            text, combos = doc_decisive(rng, split, recs)
        elif kind == "schema_facts":
            text, combos = doc_schema_facts(rng, split)
        elif kind == "facts":
            text, combos = doc_thing_facts(rng, split)
        elif kind == "room":
            text = doc_room(rng, split)
        elif kind == "lists":
            text, combos = doc_lists(rng, split)
        elif kind == "qa":
            text, combos = doc_qa(rng, split)
        else:
            text = doc_nav(rng)
        if not text or _forbidden(text):
            continue
        if kind == "decisive" and log is not None:
            log.extend(recs)
        words += len(text.split())
        yield text, combos


def documents(n_words: int, seed: int = 0, split: str = "train") -> Iterator[str]:
    """Yield documents (each a paragraph or a few, plain English) until about ``n_words`` words.

    ``split="train"`` never shows a reserved (schema, object) combination of ``knowledge.HELDOUT``;
    ``split="heldout"`` shows only procedures and facts that contain one. Deterministic in (``seed``, ``split``).
    """
    for text, _ in _generate(n_words, seed, split):
        yield text


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_ENUMERATOR = re.compile(r"[\d.\-]+")


def sentences(n: int, seed: int = 0) -> Iterator[str]:
    """Yield ``n`` short sentences of training text (for tokenizer training), deterministic in ``seed``."""
    count = 0
    while True:
        for doc in documents(50_000, seed=seed):
            for s in _SENT_SPLIT.split(doc):
                s = s.strip()
                if s and not _ENUMERATOR.fullmatch(s):
                    yield s
                    count += 1
                    if count >= n:
                        return
        seed += 1_000_003


# ---------------------------------------------------------------------------------------------------------------
# Knowledge probes
# ---------------------------------------------------------------------------------------------------------------


def _probe_next_step(rng: random.Random) -> dict | None:
    plan = kb.make_plan(rng, "heldout")
    i = rng.randrange(len(plan.steps))
    step = plan.steps[i]
    w = step.before

    def canon(act: Act) -> str:
        return act_variants(act, plan, w)[0]

    gold = canon(step.act)
    # Wrong choices: acts of the procedure that make no sense now; none may read like an act that does.
    cands = [s.act for s in plan.steps] + [Act("pick", x) for x in plan.extras]
    sensible = {canon(act) for act in cands if why_not(w, act, plan) is None}
    wrong: dict[str, Act] = {}
    for act, _ in _wrong_acts(plan, w, step.act):
        text = canon(act)
        if text != gold and text not in sensible:
            wrong.setdefault(text, act)
    if len(wrong) < 3:
        return None
    texts = list(wrong)
    rng.shuffle(texts)
    texts.sort(key=lambda x: abs(len(x.split()) - len(gold.split())))
    chosen = texts[:3]
    # The query states the facts that make the right step right and the wrong ones wrong.
    facts = list(kb.relevant_facts(w, step.act, plan)[0])
    for text in chosen:
        facts += kb.relevant_facts(w, wrong[text], plan)[0]
    facts = list(dict.fromkeys(facts))
    inside = {x for f in facts if f[0] == "contents" for x in f[2]}
    facts = [f for f in facts if not (f[0] == "at" and f[1] in inside)]
    say = _Say(plan, rng)
    clauses = [say.clause(f, w) for f in facts]
    goal = rng.choice(goal_phrases(plan))
    cond = clauses_text(clauses, rng, sentences=False)
    Cond = clauses_text(clauses, rng)
    adv = _adv(i, rng)
    query = rng.choice(
        [
            f"{Cond} To {goal}, you should {adv}",
            f"You want to {goal}. {Cond} Next you should",
            f"You want to {goal}. If {cond}, the next step is to",
            f"Task: {goal}. {Cond} You should {adv}",
        ]
    )
    choices = [gold, *chosen]
    rng.shuffle(choices)
    return {"query": cap(query), "choices": choices, "gold": choices.index(gold)}


def _probe_schema_fact(rng: random.Random) -> dict | None:
    schema, query, answer, wrong_pool = rng.choice(SCHEMA_FACTS)
    pool = sorted(kb.HELDOUT.get(schema, ()))
    if schema in ("salad", "soup", "sandwich"):
        pool = [x for x in pool if "chop" in THINGS[x].tags]
    if not pool:
        return None
    x = rng.choice(pool)
    wrong = rng.sample([w for w in wrong_pool if w != answer], 3)
    choices = [answer, *wrong]
    rng.shuffle(choices)
    return {"query": _fill(query, x), "choices": choices, "gold": choices.index(answer)}


def knowledge_probes(seed: int = 0, n: int = 200) -> list[dict]:
    """Multiple-choice questions about the reserved (held-out) combinations, lm-eval-harness style.

    Each probe is ``{"query": str, "choices": [str, ...], "gold": int}``: score each choice by
    ``log P(choice | query)``, the two joined by lm-eval's one-space target delimiter. About two thirds are
    state-conditioned next steps of held-out procedures (the wrong choices are steps of the same procedure that
    make no sense in the stated state: already done, not yet possible, or not needed); the rest are schema facts
    ("To keep the yogurt cold, you put it in the" -> "fridge"). Exactly one choice is right by the knowledge base.
    """
    rng = random.Random(f"twosome-probes:{seed}")
    probes: list[dict] = []
    seen: set[str] = set()
    tries = 0
    while len(probes) < n:
        tries += 1
        if tries > 200 * n:
            raise RuntimeError("could not generate enough distinct probes")
        probe = _probe_next_step(rng) if rng.random() < 0.67 else _probe_schema_fact(rng)
        if probe is None or probe["query"] in seen or _forbidden(probe["query"]):
            continue
        seen.add(probe["query"])
        probes.append(probe)
    return probes
