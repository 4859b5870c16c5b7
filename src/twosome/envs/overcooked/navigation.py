"""A* path finding on the agent's remembered map, reproducing the original's pick among equally short
paths."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import lru_cache

from .world import STAY, Pos, World, manhattan

# Neighbour expansion order of the original search and the primitive action of each step.
_EXPANSION: tuple[tuple[Pos, int], ...] = (((0, 1), 0), ((0, -1), 2), ((1, 0), 1), ((-1, 0), 3))


@dataclass
class _Node:
    pos: Pos
    g: int
    f: int
    first_action: int | None

    def __lt__(self, other: _Node) -> bool:
        # The original orders its heap with a non-strict comparison of f (with one agent its second key,
        # "path crosses another agent", is always 0); the same comparison makes ties, hence paths, come out
        # identically.
        return self.f <= other.f


def next_step(world: World, target: Pos) -> int:
    """First primitive action of a shortest path that ends by bumping into ``target``; STAY if unreachable.

    The agent walks on its belief map: floor tiles not covered by a remembered item, plus its own tile.
    """
    floor = world.kitchen.floor
    blocked = frozenset(p for p in world.memory[:-1] if p in floor)  # the last entity is the agent itself
    return _search(floor, blocked, world.agent, target)


@lru_cache(maxsize=65536)
def _search(floor: frozenset[Pos], blocked: frozenset[Pos], start: Pos, target: Pos) -> int:
    free = (floor - blocked) | {start}
    heap = [_Node(start, 0, manhattan(start, target), None)]
    seen = {start}
    while heap:
        node = heapq.heappop(heap)
        for (dx, dy), action in _EXPANSION:
            nxt = (node.pos[0] + dx, node.pos[1] + dy)
            if nxt in seen:
                continue
            first = action if node.first_action is None else node.first_action
            if nxt in free:
                g = node.g + 1
                heapq.heappush(heap, _Node(nxt, g, g + manhattan(nxt, target), first))
                seen.add(nxt)
            if nxt == target:
                return first
    return STAY
