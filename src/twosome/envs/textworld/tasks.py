"""The registered TextWorld ids and their env kwargs (plain data: registering them imports no TextWorld).

One id per split of games; the difficulty (recipe, take, go, skills) and the number of games are env kwargs, so a
training run and its unseen-game evaluation name the same difficulty with different splits."""

from __future__ import annotations

from typing import Any

ENTRY_POINT = "twosome.envs.textworld.env:TextWorldCookingEnv"

TASKS: dict[str, dict[str, Any]] = {
    "twosome/TextWorld-Cooking-v0": {"split": "train"},
    "twosome/TextWorld-CookingValid-v0": {"split": "valid"},
    "twosome/TextWorld-CookingTest-v0": {"split": "test"},
}
