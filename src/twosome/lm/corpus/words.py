"""English morphology and shared vocabulary for the templates: the public word lists (rooms, foods, tools,
furniture, verbs, adjectives; the tokenizer trainer and the scoring benchmark use them), verb conjugation, articles,
agreement, and the names and grammatical persons of the stories.
"""

from __future__ import annotations

from twosome.lm.corpus.things import FOOD_NAMES, ROOM_NAMES, THINGS

# Public word lists (the tokenizer trainer and the scoring benchmark use them).
ROOMS = list(ROOM_NAMES)
FOODS = list(FOOD_NAMES)
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
