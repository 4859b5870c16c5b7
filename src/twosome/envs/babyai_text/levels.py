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

FAMILIES: tuple[str, ...] = ("goto", "pickup", "open", "putnext", "pickup_then_goto")
"""GLAM's ``action_kinds``: 'goto', 'pickup', 'open', 'putnext', 'pick up seq go to' (the last is ours renamed)."""

HELD_OUT: tuple[str, ...] = ("yellow box", "red key", "red door", "green ball", "grey door")
"""Colour-noun pairs the training missions never contain and the only ones the test missions contain."""

ROOM_SIZE = 8
NUM_DISTRACTORS = 8

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
    """

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
        self.num_dists = num_dists
        self.locked_room = None
        super().__init__(
            room_size=room_size,
            num_rows=1,
            num_cols=2 if family == "open" else 1,
            max_steps=max_steps,
            **kwargs,
        )

    # minigrid's version prints every rejection; this one is quiet and re-samples the same way.
    def _gen_grid(self, width, height):
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
            RoomGrid._gen_grid(self, self.width, self.height)  # fresh walls, rooms, centred agent
            self.locked_room = None
            self.instrs = build()
            # both tests draw nothing at random, so testing the cheaper one first changes no episode
            if self.split.accepts(self.instrs.surface(self)) and self.check_objs_reachable(raise_exc=False):
                return

    def _objects_around_agent(self, extra: int) -> list:
        self.place_agent()
        return self.add_distractors(num_distractors=self.num_dists + extra, all_unique=False)

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
        obj = self._rand_elem(self._objects_around_agent(1))
        return GoToInstr(ObjDesc(obj.type, obj.color))

    def _build_pickup(self):
        obj = self._pick_not_door(self._objects_around_agent(1))
        return PickupInstr(ObjDesc(obj.type, obj.color))

    def _build_putnext(self):
        objs = self._objects_around_agent(2)
        moved = self._pick_not_door(objs)
        fixed = self._pick_second(moved, objs)
        return PutNextInstr(ObjDesc(moved.type, moved.color), ObjDesc(fixed.type, fixed.color))

    def _build_pickup_then_goto(self):
        objs = self._objects_around_agent(2)
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
            self.place_agent()
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
