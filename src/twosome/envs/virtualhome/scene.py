"""What a household is made of, as plain data: rooms, and things with properties, states and placements.

The vocabulary is VirtualHome's (properties such as ``GRABBABLE`` or ``CAN_OPEN``, states such as ``OPEN`` or
``OFF``), restricted to what TWOSOME's tasks use. A scene lists only the things that can matter to a task: the
objects named by its actions and observations, and the furniture they rest on (being close to a table also
brings the things on it within reach, so supports are part of the semantics, not decoration).
"""

from __future__ import annotations

from dataclasses import dataclass

# Properties (what a thing affords).
GRABBABLE = "GRABBABLE"
CAN_OPEN = "CAN_OPEN"
CONTAINERS = "CONTAINERS"
SURFACES = "SURFACES"
SITTABLE = "SITTABLE"
HAS_SWITCH = "HAS_SWITCH"

# States (what a thing is now). OPEN/CLOSED and ON/OFF come in pairs; SITTING belongs to the agent.
OPEN = "OPEN"
CLOSED = "CLOSED"
ON = "ON"
OFF = "OFF"
SITTING = "SITTING"
PLUGGED_OUT = "PLUGGED_OUT"

AGENT = "agent"  # reserved node name of the (single) character


@dataclass(frozen=True)
class Thing:
    """One object of the scene and where it starts.

    ``on`` is the surface it rests on, ``inside`` the container holding it (besides its room), ``facing`` what it
    faces (a sofa faces the TV: sitting on it makes the agent face the TV too).
    """

    name: str
    room: str
    properties: frozenset[str] = frozenset()
    states: frozenset[str] = frozenset()
    on: str | None = None
    inside: str | None = None
    facing: str | None = None


@dataclass(frozen=True)
class Scene:
    """Rooms (always visible, always reachable: every door of the original house is open), things, and the
    agent's start room."""

    rooms: tuple[str, ...]
    things: tuple[Thing, ...]
    agent_room: str

    def __post_init__(self) -> None:
        names = [*self.rooms, *(t.name for t in self.things)]
        if len(set(names)) != len(names) or AGENT in names:
            raise ValueError(f"scene node names must be unique and not {AGENT!r}: {names}")
        if self.agent_room not in self.rooms:
            raise ValueError(f"agent room {self.agent_room!r} is not one of {self.rooms}")
        known = set(names)
        for t in self.things:
            if t.room not in self.rooms:
                raise ValueError(f"{t.name!r} is in unknown room {t.room!r}")
            for ref in (t.on, t.inside, t.facing):
                if ref is not None and ref not in known:
                    raise ValueError(f"{t.name!r} refers to unknown thing {ref!r}")

    def thing(self, name: str) -> Thing:
        for t in self.things:
            if t.name == name:
                return t
        raise KeyError(name)
