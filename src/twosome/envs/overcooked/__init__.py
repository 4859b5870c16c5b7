"""TWOSOME's macro-action Overcooked kitchens (Tomato Salad, Tomato-Lettuce Salad) as gymnasium envs."""

from .env import OvercookedEnv
from .solver import optimal_return
from .tasks import TASKS, TOMATO_LETTUCE_SALAD, TOMATO_SALAD, MacroAction, Rewards, TaskSpec, TaskText

__all__ = [
    "TASKS",
    "TOMATO_LETTUCE_SALAD",
    "TOMATO_SALAD",
    "MacroAction",
    "OvercookedEnv",
    "Rewards",
    "TaskSpec",
    "TaskText",
    "optimal_return",
]
