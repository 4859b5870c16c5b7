"""Plain-text card of the household (``render_mode="ansi"``), for logs: what the agent sees, not the prompt."""

from __future__ import annotations

from .scene import AGENT, SITTING
from .tasks import TaskSpec
from .world import CLOSE, INSIDE, ON_TOP, World


def _label(world: World, node: str) -> str:
    states = sorted(world.states.get(node, ()))
    return f"{node} ({', '.join(s.lower() for s in states)})" if states else node


def render_card(world: World, task: TaskSpec, step: int) -> str:
    seen = world.visible()
    room = world.agent_room
    things = [t.name for t in task.scene.things if t.name in seen and not world.holds(t.name)]
    placed = []
    for name in things:
        where = [f"on {s}" for s in world.targets(name, ON_TOP) if s in seen]
        where += [f"in {b}" for b in world.targets(name, INSIDE) if b in seen and b not in world.rooms]
        placed.append(_label(world, name) + (f" [{', '.join(where)}]" if where else ""))
    close = [n for n in world.targets(AGENT, CLOSE) if n in seen]
    posture = "sitting" if SITTING in world.states[AGENT] else "standing"
    lines = [
        f"step {step}/{task.horizon} | {task.env_id} | agent in the {room}, {posture}",
        "holding: " + (", ".join(world.held()) or "nothing"),
        "close to: " + (", ".join(close) or "nothing"),
        "sees: " + ("; ".join(placed) or "nothing"),
    ]
    return "\n".join(lines) + "\n"
