"""GLAM's Mixed BabyAI levels (``BabyAI-MixedTrainLocal-v0`` / ``BabyAI-MixedTestLocal-v0``) on PyPI ``minigrid``.

GLAM (Carta et al., ICML 2023, ``babyai-text/babyai_text/levels/mixed_seq_levels.py``) mixes five goal families in
one 8x8 room with 8 distractors (two rooms joined by a locked door for "open"). The training level never asks for the
held-out objects below; the test level asks only for them. Distractors are unrestricted in both: the split is on what
the *mission* names, checked as a substring of its surface form, exactly as the original does.

One :class:`MixedLocalLevel` is one family; GLAM draws the family once per environment instance (before seeding),
:class:`~twosome.envs.babyai_text.env.BabyAITextEnv` draws it per episode or per instance from its seeded RNG.
The random draws follow the original's order, but the generator is gymnasium's, so a seed does not give the
original's episode.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.roomgrid import RoomGrid
from minigrid.envs.babyai.core.roomgrid_level import RejectSampling, RoomGridLevel
from minigrid.envs.babyai.core.verifier import (
    AfterInstr,
    BeforeInstr,
    GoToInstr,
    ObjDesc,
    OpenInstr,
    PickupInstr,
    PutNextInstr,
)
from minigrid.minigrid_env import MiniGridEnv

FAMILIES: tuple[str, ...] = ("goto", "pickup", "open", "putnext", "pickup_then_goto")
"""GLAM's ``action_kinds``: 'goto', 'pickup', 'open', 'putnext', 'pick up seq go to' (the last is ours renamed)."""

HELD_OUT: tuple[str, ...] = ("yellow box", "red key", "red door", "green ball", "grey door")
"""Colour-noun pairs the training missions never contain and the only ones the test missions contain."""

ROOM_SIZE = 8
NUM_DISTRACTORS = 8

MISSION_OBJECTS = {"goto": 1, "pickup": 1, "open": 1, "putnext": 2, "pickup_then_goto": 2}
"""Objects a family places in the agent's room besides the distractors: the goal's, two for putnext and the
sequence, the locked door's key for open (its door is in the wall)."""

KEPT_CLEAR = 1 + 4
"""Cells of a room no object may take: the agent's and the 4 beside it (minigrid's ``reject_next_to``)."""

AGENT_TRIES = 1000
"""Bound on minigrid's agent placement (its own ``max_tries`` for one cell; its loop over facings has none)."""

MAX_LAYOUTS = 50_000
"""Layouts one reset may draw before giving up. GLAM's densest level (16 distractors, goto) accepts about 1 draw in
2,000 (the rest leave an object unreachable), so 50,000 fail it with probability about e^-25; a draw costs about
0.5 ms, so a setting no layout passes fails after about 25 s of CPU instead of looping forever."""


def max_distractors(family: str, room_size: int = ROOM_SIZE) -> int:
    """The most distractors ``family``'s room can hold: with more, placing them can never finish.

    A room has ``(room_size - 2) ** 2`` free cells inside its walls; objects never take the agent's cell or the 4
    beside it, and the mission's own objects need cells too. So 30 in GLAM's 8x8 room (29 for putnext and the
    sequence). Layouts that dense are legal but almost never leave every object reachable, which the level
    requires: above about 12 each 2 more distractors slow resets tenfold or more, and :data:`MAX_LAYOUTS` ends them.
    """
    return (room_size - 2) ** 2 - KEPT_CLEAR - MISSION_OBJECTS[family]


def check_num_distractors(value, families, room_size: int = ROOM_SIZE) -> int:
    """``value`` as an int if every family's room can hold that many distractors, else a ValueError saying why."""
    family = min(families, key=lambda f: max_distractors(f, room_size))
    bound = max_distractors(family, room_size)
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
        raise ValueError(f"num_distractors must be an integer in 0..{bound} (family {family!r}), got {value!r}")
    if value > bound:
        raise ValueError(
            f"num_distractors={value!r} is more than family {family!r} can hold: valid 0..{bound} (the "
            f"{room_size}x{room_size} room has {(room_size - 2) ** 2} free cells, less {KEPT_CLEAR} kept clear around "
            f"the agent and {MISSION_OBJECTS[family]} for the mission's objects)"
        )
    return int(value)


_NOUNS = ("box", "key", "ball", "door")
ALL_PAIRS: tuple[str, ...] = tuple(f"{c} {n}" for c in COLOR_NAMES for n in _NOUNS)


@dataclass(frozen=True)
class Split:
    """What differs between GLAM's train and test levels: the locked door's colours and which missions pass."""

    name: str
    door_colors: tuple[str, ...]
    may_omit_door_color: bool  # train: "open the door" half the time; test: always "open the red/grey door"
    rejected_pairs: tuple[str, ...]  # a mission whose surface contains one of these is re-sampled

    def accepts(self, mission: str) -> bool:
        return not any(pair in mission for pair in self.rejected_pairs)


TRAIN = Split("train", ("yellow", "green", "blue", "purple"), True, HELD_OUT)
TEST = Split("test", ("red", "grey"), False, tuple(p for p in ALL_PAIRS if p not in HELD_OUT))
SPLITS: dict[str, Split] = {"train": TRAIN, "test": TEST}


def _same_look(a, b) -> bool:
    return a.type == b.type and a.color == b.color


class MixedLocalLevel(RoomGridLevel):
    """One goal family of GLAM's Mixed{Train,Test}Local level.

    Layout per family (as in the original): ``goto``/``pickup`` one 8x8 room, the agent placed first, then 9
    objects; ``putnext``/``pickup_then_goto`` the same with 10 objects; ``open`` two 8x8 rooms side by side (15x8),
    a locked door of the split's colours, its key and 8 distractors in the other room, the agent there too. A
    mission is re-sampled (whole grid) until every object is reachable and the split accepts its wording.
    Horizon (minigrid's ``RoomGridLevel``, same rule as the original): 64 per navigation per room, so 64 for
    goto/pickup, 128 for open (two rooms), putnext and the sequences (two navigations).

    Unlike minigrid's and the original's, a reset gives up after ``max_layouts`` draws (a RuntimeError naming the
    family, ``num_distractors`` and the seed) instead of drawing forever when no layout can pass.
    """

    max_layouts = MAX_LAYOUTS

    def __init__(
        self,
        family: str,
        split: str | Split = "train",
        room_size: int = ROOM_SIZE,
        num_dists: int = NUM_DISTRACTORS,
        max_steps: int | None = None,
        **kwargs,
    ):
        if family not in FAMILIES:
            raise ValueError(f"unknown family {family!r}; known: {list(FAMILIES)}")
        if isinstance(split, str):
            if split not in SPLITS:
                raise ValueError(f"unknown split {split!r}; known: {sorted(SPLITS)}")
            split = SPLITS[split]
        self.family = family
        self.split = split
        self.num_dists = check_num_distractors(num_dists, (family,), room_size)
        self.locked_room = None
        self._seed: int | None = None
        self._layouts = 0
        super().__init__(
            room_size=room_size,
            num_rows=1,
            num_cols=2 if family == "open" else 1,
            max_steps=max_steps,
            **kwargs,
        )

    def reset(self, *, seed: int | None = None, options=None):
        self._seed = seed  # for the error when no layout passes
        return super().reset(seed=seed, options=options)

    # minigrid's version prints every rejection; this one is quiet and re-samples the same way, a bounded number of
    # times (gen_mission counts every draw, whether this loop or its own rejects it).
    def _gen_grid(self, width, height):
        self._layouts = 0
        while True:
            try:
                self.gen_mission()
                self.validate_instrs(self.instrs)
            except (RecursionError, RejectSampling):
                continue
            break
        self.surface = self.instrs.surface(self)
        self.mission = self.surface

    def gen_mission(self):
        build = getattr(self, f"_build_{self.family}")
        while True:
            self._count_layout()
            RoomGrid._gen_grid(self, self.width, self.height)  # fresh walls, rooms, centred agent
            self.locked_room = None
            self.instrs = build()
            # both tests draw nothing at random, so testing the cheaper one first changes no episode
            if self.split.accepts(self.instrs.surface(self)) and self.check_objs_reachable(raise_exc=False):
                return

    def _count_layout(self) -> None:
        if self._layouts >= self.max_layouts:
            raise RuntimeError(
                f"BabyAI-Text level {self.family!r} ({self.split.name} split) found no layout with every object "
                f"reachable and an accepted mission in {self.max_layouts} draws, with num_distractors="
                f"{self.num_dists} (reset seed {self._seed}); GLAM's study used at most 16, which resets in about "
                f"a second"
            )
        self._layouts += 1

    def _objects_around_agent(self) -> list:
        self.place_agent()
        return self.add_distractors(num_distractors=self.num_dists + MISSION_OBJECTS[self.family], all_unique=False)

    def _place_agent_facing_space(self) -> None:
        """minigrid's ``RoomGrid.place_agent`` (same draws) with its loop bounded: in a crowded room every free
        cell may face an object, and minigrid would redraw forever."""
        i, j = self._rand_int(0, self.num_cols), self._rand_int(0, self.num_rows)
        room = self.room_grid[j][i]
        for _ in range(AGENT_TRIES):
            MiniGridEnv.place_agent(self, room.top, room.size, rand_dir=True, max_tries=AGENT_TRIES)
            front = self.grid.get(*self.front_pos)
            if front is None or front.type == "wall":
                return
        raise RejectSampling("no free cell lets the agent face free space or a wall")

    def _pick_not_door(self, objs):
        obj = self._rand_elem(objs)
        while obj.type == "door":
            obj = self._rand_elem(objs)
        return obj

    def _pick_second(self, first, objs):
        """Draw another object; if it looks like ``first`` and ``first`` is unique, redraw until it differs."""
        second = self._rand_elem(objs)
        if _same_look(first, second):
            matches, _ = ObjDesc(first.type, first.color).find_matching_objs(self)
            if len(matches) < 2:
                while _same_look(first, second):
                    second = self._rand_elem(objs)
        return second

    def _build_goto(self):
        obj = self._rand_elem(self._objects_around_agent())
        return GoToInstr(ObjDesc(obj.type, obj.color))

    def _build_pickup(self):
        obj = self._pick_not_door(self._objects_around_agent())
        return PickupInstr(ObjDesc(obj.type, obj.color))

    def _build_putnext(self):
        objs = self._objects_around_agent()
        moved = self._pick_not_door(objs)
        fixed = self._pick_second(moved, objs)
        return PutNextInstr(ObjDesc(moved.type, moved.color), ObjDesc(fixed.type, fixed.color))

    def _build_pickup_then_goto(self):
        objs = self._objects_around_agent()
        taken = self._pick_not_door(objs)
        pickup = PickupInstr(ObjDesc(taken.type, taken.color))
        target = self._pick_second(taken, objs)
        goto = GoToInstr(ObjDesc(target.type, target.color))
        if self._rand_elem(["Before", "After"]) == "Before":
            return BeforeInstr(pickup, goto)  # "pick up A, then go to B"
        return AfterInstr(goto, pickup)  # "go to B after you pick up A"

    def _build_open(self):
        color = self._rand_elem(list(self.split.door_colors))
        self._add_locked_room(color)
        self.connect_all()
        for j in range(self.num_rows):
            for i in range(self.num_cols):
                if self.get_room(i, j) is not self.locked_room:
                    self.add_distractors(i, j, num_distractors=self.num_dists, all_unique=False)
        while True:  # the agent comes last and never starts in the locked room
            self._place_agent_facing_space()
            if self.room_from_pos(*self.agent_pos) is not self.locked_room:
                break
        named = self._rand_elem([None, color]) if self.split.may_omit_door_color else color
        return OpenInstr(ObjDesc("door", named))

    def _add_locked_room(self, color: str) -> None:
        """minigrid's ``LevelGen.add_locked_room`` with the door colour given (GLAM's extension)."""
        while True:
            i = self._rand_int(0, self.num_cols)
            j = self._rand_int(0, self.num_rows)
            door_idx = self._rand_int(0, 4)
            self.locked_room = self.get_room(i, j)
            if self.locked_room.neighbors[door_idx] is None:
                continue
            door, _ = self.add_door(i, j, door_idx, color=color, locked=True)
            break
        while True:
            i = self._rand_int(0, self.num_cols)
            j = self._rand_int(0, self.num_rows)
            if self.get_room(i, j) is self.locked_room:
                continue
            self.add_object(i, j, "key", door.color)
            break
