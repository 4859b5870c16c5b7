"""Exact optimum of a task by exhaustive search over macro actions (a reference line for learning curves).

The return counts every primitive step: ``sum over decisions of gamma**(primitive steps before it) *
macro reward``, a macro reward being itself discounted inside the macro; this is the primitive-step discounted
return that the original logs as ``episodic_return``. The macro-action graph of all states reachable from the
reset state is built once (the dynamics are deterministic), then solved by backward dynamic programming over
(state, primitive steps used), since the horizon makes the best choice depend on the time left.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

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
    return MacroGraph(
        src=np.array(src),
        action=np.array(act),
        dst=np.array(dst),
        reward=np.array(reward),
        steps=np.array(steps),
        success=np.array(success),
        n_states=len(worlds),
    )


def solve_graph(graph: MacroGraph, horizon: int, gamma: float) -> tuple[float, list[int], int]:
    # value[u, s]: best return from state s when u primitive steps are already used; an episode ends after the
    # macro action during which the step count reaches the horizon, so rows u >= horizon are never needed.
    value = np.zeros((horizon + 1, graph.n_states))
    discount = gamma ** graph.steps.astype(float)

    def q_values(used: int) -> np.ndarray:
        later = used + graph.steps
        goes_on = ~graph.success & (later < horizon)
        tail = np.where(goes_on, value[np.minimum(later, horizon), np.maximum(graph.dst, 0)], 0.0)
        return graph.reward + discount * tail

    for used in range(horizon - 1, -1, -1):
        best = np.full(graph.n_states, -np.inf)
        np.maximum.at(best, graph.src, q_values(used))
        value[used] = best

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
