"""TWOSOME's symbolic VirtualHome (Food Preparation, Entertainment, unseen variants) as gymnasium envs."""

from .env import VirtualHomeEnv
from .observation import Feature, holds_goal, read_features
from .prompts import ContainerWords, WatchWords, describe
from .scene import Scene, Thing
from .tasks import (
    APPLE_PIE,
    CHEESE,
    ENTERTAINMENT,
    FOOD_PREPARATION,
    HAMBURGER,
    LAUNDRY,
    LAUNDRY_NATURAL,
    PIZZA,
    TASKS,
    WASHING_PLATE,
    WASHING_PLATE_NATURAL,
    ActionSpec,
    TaskSpec,
    container_task,
)
from .world import World

__all__ = [
    "APPLE_PIE",
    "CHEESE",
    "ENTERTAINMENT",
    "FOOD_PREPARATION",
    "HAMBURGER",
    "LAUNDRY",
    "LAUNDRY_NATURAL",
    "PIZZA",
    "TASKS",
    "WASHING_PLATE",
    "WASHING_PLATE_NATURAL",
    "ActionSpec",
    "ContainerWords",
    "Feature",
    "Scene",
    "TaskSpec",
    "Thing",
    "VirtualHomeEnv",
    "WatchWords",
    "World",
    "container_task",
    "describe",
    "holds_goal",
    "read_features",
]
