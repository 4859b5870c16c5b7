"""Exact optimum of a task by exhaustive search over macro actions (a reference line for learning curves).

The return counts every primitive step: ``sum over decisions of gamma**(primitive steps before it) *
macro reward``, a macro reward being itself discounted inside the macro; this is the primitive-step discounted
return that the original logs as ``episodic_return``. The macro-action graph of all states reachable from the
reset state is built once (the dynamics are deterministic), then solved by backward dynamic programming over
(state, primitive steps used), since the horizon makes the best choice depend on the time left.

:func:`solution` keeps the graph (with the index of every state's key) and the value table, cached per
(task, gamma, view radius, horizon): the environment's ``optimal_actions`` reads the Q-values of its current
(state, steps used) from them at every decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np

from .macros import run_macro
from .tasks import TASKS, TaskSpec
from .world import World


@dataclass(frozen=True)
class MacroGraph:
    """Edge ``e`` leads from state ``src[e]`` by action ``action[e]`` to ``dst[e]`` (-1 after a success)."""

    src: np.ndarray
    action: np.ndarray
    dst: np.ndarray
    reward: np.ndarray
    steps: np.ndarray
    success: np.ndarray
    n_states: int


def build_graph(task: TaskSpec, gamma: float, view_radius: int = 2) -> MacroGraph:
    return explore(task, gamma, view_radius)[0]


def explore(task: TaskSpec, gamma: float, view_radius: int = 2) -> tuple[MacroGraph, dict[tuple, int]]:
    """The macro-action graph of every state reachable from the reset state, and each state's number by its
    ``World.key()``. The edges of state ``s`` are ``s * A .. s * A + A - 1``, in action order (``A`` macro actions)."""
    start = World(task, view_radius)
    index = {start.key(): 0}
    worlds = [start]
    rows, i = [], 0
    while i < len(worlds):  # breadth-first: the list grows while we walk it
        for action, macro in enumerate(task.macro_actions):
            world = worlds[i].clone()
            result = run_macro(world, macro, gamma)
            dst = -1
            if not result.success:
                key = world.key()
                if key not in index:
                    index[key] = len(worlds)
                    worlds.append(world)
                dst = index[key]
            rows.append((i, action, dst, result.reward, result.steps, result.success))
        i += 1
    src, act, dst, reward, steps, success = zip(*rows, strict=True)
    graph = MacroGraph(
        src=np.array(src),
        action=np.array(act),
        dst=np.array(dst),
        reward=np.array(reward),
        steps=np.array(steps),
        success=np.array(success),
        n_states=len(worlds),
    )
    return graph, index


def solve_values(graph: MacroGraph, horizon: int, gamma: float) -> np.ndarray:
    """``value[u, s]``: the best return from state ``s`` when ``u`` primitive steps are already used; an episode
    ends after the macro action during which the step count reaches the horizon, so rows ``u >= horizon`` are never
    needed (they stay 0)."""
    value = np.zeros((horizon + 1, graph.n_states))
    discount = gamma ** graph.steps.astype(float)
    for used in range(horizon - 1, -1, -1):
        best = np.full(graph.n_states, -np.inf)
        np.maximum.at(best, graph.src, _q_values(graph, value, discount, horizon, used))
        value[used] = best
    return value


def _q_values(
    graph: MacroGraph, value: np.ndarray, discount: np.ndarray, horizon: int, used: int, edges=slice(None)
) -> np.ndarray:
    """Q of ``edges`` (all by default) when ``used`` primitive steps are already used."""
    later = used + graph.steps[edges]
    goes_on = ~graph.success[edges] & (later < horizon)
    tail = np.where(goes_on, value[np.minimum(later, horizon), np.maximum(graph.dst[edges], 0)], 0.0)
    return graph.reward[edges] + discount[edges] * tail


def solve_graph(graph: MacroGraph, horizon: int, gamma: float) -> tuple[float, list[int], int]:
    value = solve_values(graph, horizon, gamma)
    discount = gamma ** graph.steps.astype(float)

    def q_values(used: int) -> np.ndarray:
        return _q_values(graph, value, discount, horizon, used)

    plan, state, used = [], 0, 0
    while True:
        q = q_values(used)
        mine = np.flatnonzero(graph.src == state)
        edge = mine[np.argmax(q[mine] >= value[used, state] - 1e-12)]  # ties go to the lowest action index
        plan.append(int(graph.action[edge]))
        used += int(graph.steps[edge])
        if graph.success[edge] or used >= horizon:
            break
        state = int(graph.dst[edge])
    return float(value[0, 0]), plan, used


@cache
def _solve(env_id: str, gamma: float) -> tuple[float, tuple[int, ...], int]:
    if env_id not in TASKS:
        raise ValueError(f"unknown environment id {env_id!r}; known: {sorted(TASKS)}")
    task = TASKS[env_id]
    best, plan, steps = solve_graph(build_graph(task, gamma), task.horizon, gamma)
    return best, tuple(plan), steps


def optimal_return(env_id: str, gamma: float = 0.99) -> tuple[float, list[int], int]:
    """Best discounted return from the reset state, the macro actions achieving it, their primitive steps."""
    best, plan, steps = _solve(env_id, float(gamma))
    return best, list(plan), steps


RELATIVE_TIE = 1e-9
"""A Q-value within ``RELATIVE_TIE * max(1, |best|)`` of the best one ties with it (both are optimal)."""


@dataclass(frozen=True, eq=False)
class Solution:
    """The solved task: the graph from the reset state, each state's number by ``World.key()``, the value table."""

    graph: MacroGraph
    index: dict[tuple, int]
    value: np.ndarray  # (horizon + 1, n_states)
    discount: np.ndarray  # gamma ** steps, per edge
    horizon: int
    n_actions: int

    def q_values(self, state: int, used: int) -> np.ndarray:
        """Q of every macro action (in action order) at ``state`` with ``used`` primitive steps already used."""
        edges = slice(state * self.n_actions, (state + 1) * self.n_actions)
        return _q_values(self.graph, self.value, self.discount, self.horizon, used, edges)

    def best_actions(self, key: tuple, used: int) -> tuple[int, ...]:
        """The macro actions whose Q-value is the best one (ties within :data:`RELATIVE_TIE`), in action order, at
        the state of ``key`` with ``used`` primitive steps used; () for a state not in the graph or an ended
        episode (``used >= horizon``)."""
        state = self.index.get(key)
        if state is None or not 0 <= used < self.horizon:
            return ()
        q = self.q_values(state, used)
        best = q.max()
        return tuple(int(a) for a in np.flatnonzero(q >= best - RELATIVE_TIE * max(1.0, abs(best))))


@cache
def _explored(task: TaskSpec, gamma: float, view_radius: int) -> tuple[MacroGraph, dict[tuple, int]]:
    return explore(task, gamma, view_radius)


@lru_cache(maxsize=16)
def solution(task: TaskSpec, gamma: float, view_radius: int = 2, horizon: int | None = None) -> Solution:
    """The solved task (graph, state index, value table), built once per (task, gamma, view radius, horizon);
    ``horizon`` None: the task's."""
    horizon = task.horizon if horizon is None else int(horizon)
    gamma = float(gamma)
    graph, index = _explored(task, gamma, int(view_radius))
    n_actions = len(task.macro_actions)
    expected = np.repeat(np.arange(graph.n_states), n_actions), np.tile(np.arange(n_actions), graph.n_states)
    if not (np.array_equal(graph.src, expected[0]) and np.array_equal(graph.action, expected[1])):
        raise RuntimeError("the macro graph's edges are not laid out state by state in action order")
    value = solve_values(graph, horizon, gamma)
    discount = gamma ** graph.steps.astype(float)
    return Solution(graph, index, value, discount, horizon, n_actions)
