"""The registered BabyAI-Text ids and their env kwargs (plain data: registering them imports no minigrid)."""

from __future__ import annotations

from typing import Any

ENTRY_POINT = "twosome.envs.babyai_text.env:BabyAITextEnv"

_FAMILY_IDS = {
    "GoTo": "goto",
    "PickUp": "pickup",
    "Open": "open",
    "PutNext": "putnext",
    "PickUpThenGoTo": "pickup_then_goto",
}

_VARIANT_IDS = {
    "NewNouns": "new_nouns",
    "SynonymAdjectives": "synonym_adjectives",
    "InventedNouns": "invented_nouns",
    "InventedAdjectives": "invented_adjectives",
    "InventedWords": "invented_words",
    "SynonymActions": "synonym_actions",
    "French": "french",
    "FrenchFull": "french_full",
}


# GLAM's robustness study on the GoTo level: fewer or more distractor objects, and its 3/6/9-action sets.
_ROBUSTNESS_IDS = {
    **{f"Distractors{n}": {"num_distractors": n} for n in (0, 4, 16)},
    "Navigation3": {"action_space": "navigation_3"},
    "Useless6": {"action_space": "useless_6"},
    "Useless9": {"action_space": "useless_9"},
}


def _tasks() -> dict[str, dict[str, Any]]:
    tasks: dict[str, dict[str, Any]] = {}
    for split, word in (("train", "MixedTrain"), ("test", "MixedTest")):
        tasks[f"twosome/BabyAI-{word}-v0"] = {"split": split}
        for suffix, variant in _VARIANT_IDS.items():
            tasks[f"twosome/BabyAI-{word}-{suffix}-v0"] = {"split": split, "variant": variant}
    for name, family in _FAMILY_IDS.items():  # one goal family of the training level
        tasks[f"twosome/BabyAI-{name}-v0"] = {"split": "train", "families": (family,)}
    goto = {"split": "train", "families": ("goto",)}  # a GoTo agent's language and robustness tests
    for suffix, variant in _VARIANT_IDS.items():
        tasks[f"twosome/BabyAI-GoTo-{suffix}-v0"] = goto | {"variant": variant}
    for suffix, kwargs in _ROBUSTNESS_IDS.items():
        tasks[f"twosome/BabyAI-GoTo-{suffix}-v0"] = goto | kwargs
    return tasks


TASKS: dict[str, dict[str, Any]] = _tasks()
"""id -> ``BabyAITextEnv`` kwargs: Mixed train/test, each in every variant, the five training families, and GoTo in
every variant and in the robustness settings."""
