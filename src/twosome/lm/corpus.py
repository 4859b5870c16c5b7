"""A small generated corpus of household and kitchen English, used to train the default tokenizer.

It is general text about rooms, objects and cooking, never an environment transcript: the environments'
prompts are built by the environments, and a model must learn how the simulator behaves through RL.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

ROOMS = ["kitchen", "bathroom", "bedroom", "living room", "dining room", "hallway"]
FOODS = [
    "tomato",
    "lettuce",
    "onion",
    "potato",
    "carrot",
    "cucumber",
    "pancake",
    "apple",
    "bread",
    "egg",
    "cheese",
    "chips",
    "milk",
    "rice",
    "pasta",
    "soup",
    "salad",
    "banana",
    "pepper",
    "mushroom",
]
TOOLS = [
    "cutting board",
    "knife",
    "bowl",
    "plate",
    "pan",
    "pot",
    "microwave",
    "oven",
    "stove",
    "fridge",
    "sink",
    "table",
    "counter",
    "cup",
    "spoon",
    "fork",
]
FURNITURE = ["sofa", "tv", "coffee table", "bed", "desk", "chair", "lamp", "shelf", "cabinet", "window"]
VERBS = [
    "pick up",
    "take",
    "grab",
    "put",
    "place",
    "walk to",
    "go to",
    "open",
    "close",
    "turn on",
    "turn off",
    "chop",
    "cut",
    "slice",
    "wash",
    "serve",
    "cook",
    "heat up",
    "sit on",
    "stand up from",
    "carry",
    "hold",
]
ADJ = ["fresh", "chopped", "sliced", "clean", "empty", "full", "hot", "cold", "small", "large", "red", "green"]

TEMPLATES = [
    "You {verb} the {food}.",
    "There is a {tool} in the {room}.",
    "The {food} is on the {tool}.",
    "To make a {food} salad, you need a {adj} {food} and a {tool}.",
    "First {verb} the {food}, then {verb2} the {tool}.",
    "She walked to the {room} and saw a {furn}.",
    "Currently you are holding a {adj} {food} in your hand.",
    "Put the {adj} {food} in the {tool} before you serve the dish.",
    "In the {room} there is a {furn} next to the {furn2}.",
    "How do you {verb} a {food}? You {verb2} it on the {tool}.",
    "The {tool} is not close to you, so you walk to the {tool} first.",
    "He wanted to {verb} the {furn} in the {room}.",
    "A bowl containing {adj} {food} and {food2} is on the {tool}.",
    "You notice a {food} and a {food2} on the different tables.",
]


def sentences(n: int, seed: int = 0) -> Iterator[str]:
    """Yield ``n`` templated household sentences, deterministic in ``seed``."""
    rng = random.Random(seed)
    for _ in range(n):
        template = rng.choice(TEMPLATES)
        yield template.format(
            verb=rng.choice(VERBS),
            verb2=rng.choice(VERBS),
            food=rng.choice(FOODS),
            food2=rng.choice(FOODS),
            tool=rng.choice(TOOLS),
            room=rng.choice(ROOMS),
            furn=rng.choice(FURNITURE),
            furn2=rng.choice(FURNITURE),
            adj=rng.choice(ADJ),
        )
