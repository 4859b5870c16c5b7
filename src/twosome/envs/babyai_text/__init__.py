"""GLAM's BabyAI-Text (Mixed train/test levels, text descriptions, prompt, generalization variants) as gymnasium envs.

The heavy names (they import minigrid, about a second) load on first use, so registering the ids stays cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from .tasks import ENTRY_POINT, TASKS

_LAZY = {
    "BabyAITextEnv": "env",
    "OBS_SIZE": "env",
    "REWARD_SCALE": "env",
    "encode_mission": "env",
    "FAMILIES": "levels",
    "HELD_OUT": "levels",
    "MixedLocalLevel": "levels",
    "ENGLISH": "text",
    "FRENCH": "text",
    "Lexicon": "text",
    "build_prompt": "text",
    "describe": "text",
    "ACTIONS": "variants",
    "VARIANTS": "variants",
    "Variant": "variants",
}

__all__ = ["ENTRY_POINT", "TASKS", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
