"""The observation vector, as the original macro environment returns it (``_get_macro_vector_obs``).

Per entity, in order foods, plate, boards, delivery, agent: its ``(x, y)`` in raw grid units (not divided by
the grid size), plus for a food its chop count (0..3); an entity outside the view window reads ``(0, 0)`` (and
chop count 0). Then the 7-dim one-hot of the recipe. Tomato Salad: 3 + 2 + 2 + 2 + 2 + 7 = 18 dims;
Tomato-Lettuce Salad: 9 + 2 + 4 + 2 + 2 + 7 = 26 dims.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .tasks import RECIPES
from .world import Kitchen, Pos, World


@dataclass(frozen=True)
class Decoded:
    positions: tuple[Pos, ...]  # per entity; (0, 0) when out of view
    chops: tuple[int, ...]  # per food


def vector_size(kitchen: Kitchen) -> int:
    n_entities = len(kitchen.entity_starts)
    return 2 * n_entities + len(kitchen.foods) + len(RECIPES)


def encode(world: World) -> np.ndarray:
    foods = len(world.kitchen.foods)
    values: list[float] = []
    for entity in range(len(world.kitchen.entity_starts)):
        pos = world.entity_pos(entity)
        seen = world.in_view(pos)
        values += list(pos) if seen else [0, 0]
        if entity < foods:
            values.append(world.chops[entity] if seen else 0)
    values += [float(r == world.task.recipe) for r in RECIPES]
    return np.asarray(values, dtype=np.float32)


def decode(obs: np.ndarray, kitchen: Kitchen) -> Decoded:
    values = [int(round(float(v))) for v in np.asarray(obs).reshape(-1)]
    if len(values) != vector_size(kitchen):
        raise ValueError(f"observation has {len(values)} values, expected {vector_size(kitchen)}")
    positions, chops, i = [], [], 0
    for entity in range(len(kitchen.entity_starts)):
        positions.append((values[i], values[i + 1]))
        i += 2
        if entity < len(kitchen.foods):
            chops.append(values[i])
            i += 1
    return Decoded(tuple(positions), tuple(chops))
