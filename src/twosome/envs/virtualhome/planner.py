"""Shortest plans to a task's goal: the oracle behind ``VirtualHomeEnv.optimal_actions``.

The dynamics are deterministic, so the fewest decisions from a state to the goal is a shortest path in the graph of
states (``World.key()``) joined by the actions each state's mask offers (the ones the policy may choose, as the
tests' and ``evaluation/exact_success.py``'s searches use), a step whose next state holds the goal being the last.
A :class:`Planner` explores breadth-first everything reachable from a state it has not seen, once, then computes the
distances of the new states backwards from the goal (a multi-source shortest-path search on the reversed edges), and
keeps both per state key: a later call at a known state reads its actions and their successors' distances.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from collections.abc import Hashable
from functools import cache

from .observation import holds_goal, read_features
from .prompts import describe
from .tasks import TaskSpec
from .world import World

GOAL = None
"""The successor of a move whose step reaches the goal (the episode ends there)."""


class Planner:
    """Distances to the goal (in decisions) of the states of one task, memoized by state key (see the module)."""

    def __init__(self, task: TaskSpec):
        self.task = task
        self.moves: dict[Hashable, tuple[tuple[int, Hashable | None], ...]] = {}  # key -> (valid action, next key)
        self.distance: dict[Hashable, float] = {}  # key -> fewest decisions to the goal (inf: unreachable)

    def valid_actions(self, world: World) -> tuple[int, ...]:
        """The actions the mask offers in ``world`` (the environment's ``action_mask``)."""
        return tuple(describe(read_features(world, self.task.features), self.task.words)[1])

    def best_actions(self, world: World, steps_left: float = math.inf) -> tuple[int, ...]:
        """The valid actions of ``world`` that begin a shortest plan to the goal, in index order; () when the goal
        cannot be reached within ``steps_left`` decisions. ``world`` is never changed."""
        key = world.key()
        if key not in self.moves:
            self._explore(world.copy(), key)
        best = self.distance[key]
        if best > steps_left:  # also an unreachable goal (inf)
            return ()
        return tuple(a for a, nxt in self.moves[key] if self._through(nxt) == best)

    def steps_to_goal(self, world: World) -> float:
        """The fewest decisions from ``world`` to the goal (inf when no plan reaches it)."""
        key = world.key()
        if key not in self.moves:
            self._explore(world.copy(), key)
        return self.distance[key]

    def _through(self, nxt: Hashable | None) -> float:
        return 1.0 if nxt is GOAL else 1.0 + self.distance[nxt]

    def _explore(self, start: World, start_key: Hashable) -> None:
        """Add every state reachable from ``start`` that is not known yet, with its moves and distance. Known states
        keep theirs: everything reachable from a known state is known, so no new state shortens their plans."""
        task = self.task
        new, queue, queued = [], deque([(start, start_key)]), {start_key}
        while queue:
            world, key = queue.popleft()
            new.append(key)
            moves = []
            for a in self.valid_actions(world):
                spec = task.actions[a]
                nxt = world.copy()
                nxt.act(spec.verb, spec.args)
                if holds_goal(read_features(nxt, task.features), task.goal):
                    moves.append((a, GOAL))
                    continue
                nxt_key = nxt.key()
                moves.append((a, nxt_key))
                if nxt_key not in self.moves and nxt_key not in queued:
                    queued.add(nxt_key)
                    queue.append((nxt, nxt_key))
            self.moves[key] = tuple(moves)
        # Backwards from the goal and from the known states: the distance of a new state is 1 + the least distance
        # of its successors (Dijkstra with unit edges, seeded by the moves whose end is already known).
        fresh = set(new)
        before: dict[Hashable, list[Hashable]] = {}
        heap: list[tuple[float, int, Hashable]] = []
        order = {key: i for i, key in enumerate(new)}  # a tie-break that never compares keys
        for key in new:
            for _, nxt in self.moves[key]:
                if nxt is not GOAL and nxt in fresh:
                    before.setdefault(nxt, []).append(key)
                else:
                    heapq.heappush(heap, (self._through(nxt), order[key], key))
        settled: dict[Hashable, float] = {}
        while heap:
            d, _, key = heapq.heappop(heap)
            if key in settled:
                continue
            settled[key] = d
            self.distance[key] = d  # read by _through for the states before it
            for prev in before.get(key, ()):
                if prev not in settled:
                    heapq.heappush(heap, (d + 1.0, order[prev], prev))
        for key in new:
            self.distance.setdefault(key, math.inf)


@cache
def planner(task: TaskSpec) -> Planner:
    """The planner of ``task``, one per process: its memo grows with the states asked about."""
    return Planner(task)
