"""The household engine: a graph of typed edges between named nodes, changed by VirtualHome's action rules.

It reproduces the parts of VirtualHome's evolving-graph simulator that TWOSOME's tasks exercise, rule for rule,
including its quirks, because they shape what an agent sees and can do:

* Walking resets every ``CLOSE``/``FACING`` edge of the agent, then makes it close to the target, the target's
  containers and supports, and (for an openable target) everything inside it, closed or not.
* Held objects travel with the agent but are filed ``INSIDE`` the room the agent walked *from*. Walking "to" a
  held object therefore walks to that room (the original does this too).
* Closeness is loose: the agent is close to X if it is close to X, or close to something close to X, or close
  to the surface X rests on.
* Sitting adds ``agent ON seat`` and makes the agent face what the seat faces; standing up only clears the
  ``SITTING`` state, the edges stay until a walk removes ``FACING`` (``ON`` stays for good).
* Opening a container or switching a device needs a free hand; there are two hands (right first).

Every action either applies in full and returns True, or leaves the world untouched and returns False (the
original's "action failed"). Visibility (:meth:`World.visible`) is the agent's room, minus what sits in a
closed container, plus what the agent holds; the environment refuses actions naming unseen things.
"""

from __future__ import annotations

from collections.abc import Iterable

from .scene import (
    AGENT,
    CAN_OPEN,
    CLOSED,
    GRABBABLE,
    HAS_SWITCH,
    OFF,
    ON,
    OPEN,
    PLUGGED_OUT,
    SITTABLE,
    SITTING,
    Scene,
)

# Edge relations.
INSIDE = "INSIDE"
ON_TOP = "ON"  # "a ON b": a rests on b (also the agent on its seat)
CLOSE = "CLOSE"
FACING = "FACING"
HOLDS_RH = "HOLDS_RH"
HOLDS_LH = "HOLDS_LH"
HANDS = (HOLDS_RH, HOLDS_LH)  # the free-hand search order of the original

Edge = tuple[str, str, str]  # (from, relation, to)
VERBS = frozenset({"walk", "grab", "open", "close", "put_in", "put_on", "switch_on", "switch_off", "sit", "stand_up"})


class World:
    """Mutable state of one scene: ``edges`` (a set of directed triples) and per-node ``states``."""

    def __init__(self, scene: Scene):
        self.scene = scene
        self.rooms = frozenset(scene.rooms)
        self.properties = {t.name: t.properties for t in scene.things}
        self.states: dict[str, set[str]] = {t.name: set(t.states) for t in scene.things}
        self.states[AGENT] = set()
        self.edges: set[Edge] = {(AGENT, INSIDE, scene.agent_room)}
        for t in scene.things:
            self.edges.add((t.name, INSIDE, t.room))
            if t.inside is not None:
                self.edges.add((t.name, INSIDE, t.inside))
            if t.on is not None:
                self.edges.add((t.name, ON_TOP, t.on))
            if t.facing is not None:
                self.edges.add((t.name, FACING, t.facing))

    # ----- queries -------------------------------------------------------------------------------------------
    def targets(self, node: str, relation: str) -> list[str]:
        return sorted(b for a, r, b in self.edges if a == node and r == relation)

    def sources(self, node: str, relation: str) -> list[str]:
        return sorted(a for a, r, b in self.edges if b == node and r == relation)

    def has(self, a: str, relation: str, b: str) -> bool:
        return (a, relation, b) in self.edges

    def room_of(self, node: str) -> str | None:
        """The room a node belongs to: itself for a room, else its room edge, else its container's room."""
        if node in self.rooms:
            return node
        seen = {node}
        parents = self.targets(node, INSIDE)
        while parents:
            rooms = [p for p in parents if p in self.rooms]
            if rooms:
                return rooms[0]
            nxt = parents[0]
            if nxt in seen:
                return None
            seen.add(nxt)
            parents = self.targets(nxt, INSIDE)
        return None

    @property
    def agent_room(self) -> str:
        return self.targets(AGENT, INSIDE)[0]

    def held(self) -> list[str]:
        """Held objects, right hand first."""
        return [b for hand in HANDS for b in self.targets(AGENT, hand)]

    def holds(self, node: str) -> bool:
        return any(self.has(AGENT, hand, node) for hand in HANDS)

    def free_hand(self) -> str | None:
        for hand in HANDS:
            if not self.targets(AGENT, hand):
                return hand
        return None

    def is_close(self, node: str) -> bool:
        """Loose closeness, as the original's precondition checks use it."""
        if self.has(AGENT, CLOSE, node):
            return True
        return any(self.has(c, CLOSE, node) or self.has(node, ON_TOP, c) for c in self.targets(AGENT, CLOSE))

    def _in_closed_container(self, node: str) -> bool:
        return any(CLOSED in self.states.get(p, ()) for p in self.targets(node, INSIDE) if p not in self.rooms)

    def visible(self) -> frozenset[str]:
        """What the agent observes: every room, what it holds, and the contents of its room (recursively) that
        are not inside a container that is not open."""
        parents: dict[str, list[str]] = {}  # one pass over the edges: this runs on every step
        children: dict[str, list[str]] = {}
        held: set[str] = set()
        for a, r, b in self.edges:
            if r == INSIDE:
                parents.setdefault(a, []).append(b)
                children.setdefault(b, []).append(a)
            elif a == AGENT and r in HANDS:
                held.add(b)
        found: set[str] = set()
        frontier = [p for p in parents[AGENT] if p in self.rooms]
        while frontier:
            inner = [a for place in frontier for a in children.get(place, ()) if a not in found]
            found.update(inner)
            frontier = inner

        def hidden(node: str) -> bool:
            box = next((p for p in sorted(parents[node]) if p not in self.rooms), None)
            return box is not None and OPEN not in self.states.get(box, ())

        return frozenset({n for n in found if not hidden(n)} | self.rooms | held)

    def key(self) -> tuple[frozenset[Edge], frozenset[tuple[str, frozenset[str]]]]:
        """Hashable snapshot (for search and tests)."""
        return frozenset(self.edges), frozenset((n, frozenset(s)) for n, s in self.states.items())

    def copy(self) -> World:
        """Independent copy (cheap: the scene is shared, edges and states are copied)."""
        other = object.__new__(World)
        other.scene, other.rooms, other.properties = self.scene, self.rooms, self.properties
        other.edges = set(self.edges)
        other.states = {n: set(s) for n, s in self.states.items()}
        return other

    def act(self, verb: str, args: tuple[str, ...] = ()) -> bool:
        """Run one action as the original environment does: refused (False) if it names a node the agent does
        not observe, otherwise applied by the verb's rule (True if it took effect)."""
        if verb not in VERBS:
            raise ValueError(f"unknown verb {verb!r}; known: {sorted(VERBS)}")
        seen = self.visible()
        return all(arg in seen for arg in args) and getattr(self, verb)(*args)

    # ----- edits ---------------------------------------------------------------------------------------------
    def _link(self, a: str, relation: str, b: str, both_ways: bool = False) -> None:
        self.edges.add((a, relation, b))
        if both_ways:
            self.edges.add((b, relation, a))

    def _drop(self, node: str, relations: Iterable[str], both_ways: bool = True) -> None:
        relations = set(relations)
        self.edges = {
            (a, r, b) for a, r, b in self.edges if not (r in relations and (a == node or (both_ways and b == node)))
        }

    def _near(self, node: str) -> None:
        self._link(AGENT, CLOSE, node, both_ways=True)

    # ----- actions (True: applied; False: failed, nothing changed) --------------------------------------------
    def walk(self, target: str) -> bool:
        if SITTING in self.states[AGENT]:
            return False
        destination = self.room_of(target)
        if destination is None:
            return False
        start = self.agent_room
        held = self.held()
        self._drop(AGENT, (INSIDE, CLOSE, FACING))
        self._link(AGENT, INSIDE, destination)
        if target not in self.rooms:
            for box in self.targets(target, INSIDE):
                if box not in self.rooms:
                    self._near(box)
            self._near(target)
        for item in held:
            self._drop(item, (INSIDE, CLOSE, FACING))
        for item in held:
            self._near(item)
            self._link(item, INSIDE, start)  # filed in the room walked from, as in the original
        if CAN_OPEN in self.properties.get(target, ()):
            for content in self.sources(target, INSIDE):
                self._near(content)
        for support in self.targets(target, ON_TOP):
            self._near(support)
        return True

    def grab(self, item: str) -> bool:
        hand = self.free_hand()
        if (
            GRABBABLE not in self.properties.get(item, ())
            or self.holds(item)
            or not self.is_close(item)
            or self._in_closed_container(item)
            or hand is None
        ):
            return False
        support = next(
            (n for relation in (ON_TOP, INSIDE, CLOSE) for n in self.targets(item, relation) if n not in self.rooms),
            None,
        )
        room = self.agent_room
        self._drop(item, (ON_TOP, INSIDE, CLOSE, *HANDS))
        self._near(item)
        self._link(AGENT, hand, item)
        self._link(item, INSIDE, room)
        if support is not None:
            self._near(support)
        return True

    def open(self, box: str) -> bool:
        return self._set_open(box, True)

    def close(self, box: str) -> bool:
        return self._set_open(box, False)

    def _set_open(self, box: str, opening: bool) -> bool:
        states = self.states.get(box, set())
        if (
            CAN_OPEN not in self.properties.get(box, ())
            or not self.is_close(box)
            or (opening and self.free_hand() is None)
            or (CLOSED if opening else OPEN) not in states
            or (opening and ON in states)
        ):
            return False
        states.discard(CLOSED if opening else OPEN)
        states.add(OPEN if opening else CLOSED)
        return True

    def put_in(self, item: str, box: str) -> bool:
        return self._put(item, box, INSIDE)

    def put_on(self, item: str, surface: str) -> bool:
        return self._put(item, surface, ON_TOP)

    def _put(self, item: str, destination: str, relation: str) -> bool:
        if not self.holds(item) or not self.is_close(destination):
            return False
        dest_states = self.states.get(destination, set())
        if relation == INSIDE and CAN_OPEN in self.properties.get(destination, ()) and OPEN not in dest_states:
            return False
        self.edges -= {(AGENT, hand, item) for hand in HANDS}
        self._near(destination)
        self._link(item, CLOSE, destination, both_ways=True)
        self._link(item, relation, destination)  # the room edge stays: the item keeps its old room
        return True

    def switch_on(self, device: str) -> bool:
        return self._switch(device, True)

    def switch_off(self, device: str) -> bool:
        return self._switch(device, False)

    def _switch(self, device: str, turning_on: bool) -> bool:
        states = self.states.get(device, set())
        if (
            HAS_SWITCH not in self.properties.get(device, ())
            or not self.is_close(device)
            or self.free_hand() is None
            or (OFF if turning_on else ON) not in states
            or (turning_on and PLUGGED_OUT in states)
        ):
            return False
        states.discard(OFF if turning_on else ON)
        states.add(ON if turning_on else OFF)
        return True

    def sit(self, seat: str) -> bool:
        if not self.is_close(seat) or SITTING in self.states[AGENT] or SITTABLE not in self.properties.get(seat, ()):
            return False
        self.states[AGENT].add(SITTING)
        self._link(AGENT, ON_TOP, seat)
        for sight in self.targets(seat, FACING):
            self._link(AGENT, FACING, sight)
        return True

    def stand_up(self) -> bool:
        if SITTING not in self.states[AGENT]:
            return False
        self.states[AGENT].discard(SITTING)  # edges stay, as in the original
        return True
