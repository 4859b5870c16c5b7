"""Kitchen map, items and primitive dynamics (one agent), with the agent's partial-view memory.

Primitive actions move the agent one tile; moving into a non-floor tile interacts with it (pick up, put down,
chop, deliver), exactly as in the original simulator (``Overcooked_V3/V4.step``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache, cached_property

from .tasks import (
    DISH_ORDER,
    FOOD_ORDER,
    FOOD_TILES,
    TILE_AGENT,
    TILE_BOARD,
    TILE_DELIVERY,
    TILE_FLOOR,
    TILE_PLATE,
    TaskSpec,
)

Pos = tuple[int, int]

# Primitive actions, numbered as in the original: right, down, left, up (as (dx, dy)), then stay.
MOVES: tuple[Pos, ...] = ((0, 1), (1, 0), (0, -1), (-1, 0))
STAY = 4
CHOPS_NEEDED = 3  # primitive chops that turn a food into a chopped food


@dataclass(frozen=True)
class Kitchen:
    """Static facts derived from a task's layout.

    Pieces are the movable items (foods, then the plate); entities are everything the observation vector
    lists, in its order: pieces, boards, delivery, agent.
    """

    shape: Pos
    floor: frozenset[Pos]
    boards: tuple[Pos, ...]
    delivery: Pos
    agent_start: Pos
    foods: tuple[str, ...]
    piece_starts: tuple[Pos, ...]

    @cached_property
    def plate(self) -> int:
        """Piece index of the plate (the bowl in prompts)."""
        return len(self.foods)

    @cached_property
    def piece_names(self) -> tuple[str, ...]:
        return (*self.foods, "plate")

    @cached_property
    def entity_starts(self) -> tuple[Pos, ...]:
        return (*self.piece_starts, *self.boards, self.delivery, self.agent_start)

    def board_at(self, pos: Pos) -> int | None:
        return self.boards.index(pos) if pos in self.boards else None

    def static_tile(self, pos: Pos) -> str:
        """'space', 'knife', 'delivery' or 'counter' (original names) for the fixed part of the map."""
        if pos in self.floor:
            return "space"
        if pos in self.boards:
            return "knife"
        if pos == self.delivery:
            return "delivery"
        return "counter"


@cache
def kitchen_of(task: TaskSpec) -> Kitchen:
    found: dict[str, list[Pos]] = {}
    floor = set()
    for x, row in enumerate(task.layout):
        if len(row) != len(task.layout[0]):
            raise ValueError(f"{task.env_id}: layout rows must have equal length")
        for y, tile in enumerate(row):
            found.setdefault(tile, []).append((x, y))
            if tile in (TILE_FLOOR, TILE_AGENT):
                floor.add((x, y))
    foods = tuple(f for f in FOOD_ORDER if any(FOOD_TILES.get(t) == f for t in found))
    for tile, name in [(TILE_AGENT, "agent"), (TILE_PLATE, "plate"), (TILE_DELIVERY, "delivery")] + [
        (t, n) for t, n in FOOD_TILES.items() if n in foods
    ]:
        if len(found.get(tile, [])) != 1:
            raise ValueError(f"{task.env_id}: layout needs exactly one {name!r} tile ({tile!r})")
    food_tile = {name: tile for tile, name in FOOD_TILES.items()}
    return Kitchen(
        shape=(len(task.layout), len(task.layout[0])),
        floor=frozenset(floor),
        boards=tuple(found.get(TILE_BOARD, [])),
        delivery=found[TILE_DELIVERY][0],
        agent_start=found[TILE_AGENT][0],
        foods=foods,
        piece_starts=tuple(found[food_tile[f]][0] for f in foods) + (found[TILE_PLATE][0],),
    )


def manhattan(a: Pos, b: Pos) -> int:
    return abs(a[0] - b[0]) + abs(a[1] - b[1])


class World:
    """Mutable state of one kitchen. Cheap to clone and hashable through :meth:`key` (used by the solver)."""

    def __init__(self, task: TaskSpec, view_radius: int = 2):
        self.task = task
        self.kitchen = k = kitchen_of(task)
        self.view_radius = view_radius
        self.agent: Pos = k.agent_start
        self.held: int | None = None  # piece in hand
        self.rest: list[Pos] = list(k.piece_starts)  # where each piece lies when neither held nor in the bowl
        self.chops: list[int] = [0] * len(k.foods)
        self.bowl: list[int] = []  # foods in the plate, in the order they went in
        self.on_board: list[int | None] = [None] * len(k.boards)
        # Pieces lying on plain counters: the original keeps these as item codes in its tile map, and the
        # agent interacts with a tile by that code.
        self.marks: dict[Pos, int] = {p: i for i, p in enumerate(k.piece_starts)}
        self.delivered = False
        # Last known position of every entity; the macro controller navigates on it, as the original does.
        self.memory: list[Pos] = list(k.entity_starts)
        # Chops counted by the "chop" macro; like the original it persists between macro actions.
        self.chop_streak = 0
        self.update_memory()

    # ----------------------------------------------------------------------------------------- queries
    def clone(self) -> World:
        twin = copy.copy(self)  # shares the immutable task and kitchen
        twin.rest, twin.chops, twin.bowl = list(self.rest), list(self.chops), list(self.bowl)
        twin.on_board, twin.marks, twin.memory = list(self.on_board), dict(self.marks), list(self.memory)
        return twin

    def key(self) -> tuple:
        return (
            self.agent,
            self.held,
            tuple(self.rest),
            tuple(self.chops),
            tuple(self.bowl),
            tuple(self.on_board),
            tuple(sorted(self.marks.items())),
            self.delivered,
            tuple(self.memory),
            self.chop_streak,
        )

    def piece_pos(self, piece: int) -> Pos:
        if piece == self.held:
            return self.agent
        if piece in self.bowl:
            return self.piece_pos(self.kitchen.plate)
        return self.rest[piece]

    def piece_positions(self) -> list[Pos]:
        positions = list(self.rest)
        if self.held is not None:
            positions[self.held] = self.agent
        for food in self.bowl:
            positions[food] = positions[self.kitchen.plate]
        return positions

    def entity_pos(self, entity: int) -> Pos:
        k = self.kitchen
        if entity < len(k.piece_starts):
            return self.piece_pos(entity)
        if entity == len(k.entity_starts) - 1:
            return self.agent
        return k.entity_starts[entity]  # boards and delivery never move

    def is_food(self, piece: int | None) -> bool:
        return piece is not None and piece < len(self.kitchen.foods)

    def chopped(self, food: int) -> bool:
        return self.chops[food] >= CHOPS_NEEDED

    def in_view(self, pos: Pos) -> bool:
        """The agent sees a (2r+1)x(2r+1) window around itself; radius 0 means full view (as the original)."""
        r = self.view_radius
        return r == 0 or (abs(pos[0] - self.agent[0]) <= r and abs(pos[1] - self.agent[1]) <= r)

    def tile_name(self, pos: Pos) -> str:
        """What the agent bumps into at ``pos``: the agent, a piece lying on a counter, or the fixed tile."""
        if pos == self.agent:
            return "agent"
        if pos in self.marks:
            return self.kitchen.piece_names[self.marks[pos]]
        return self.kitchen.static_tile(pos)

    def dish_name(self) -> str:
        names = {self.kitchen.foods[f] for f in self.bowl}
        return "-".join(n for n in DISH_ORDER if n in names) + " salad"

    # -------------------------------------------------------------------------------------- dynamics
    def step(self, action: int) -> tuple[float, bool]:
        """One primitive action; returns (reward, correct delivery happened)."""
        reward, success = self.task.rewards.step, False
        if action != STAY:
            dx, dy = MOVES[action]
            target = (self.agent[0] + dx, self.agent[1] + dy)
            if self.tile_name(target) == "space":
                self.agent = target
            else:
                r, success = self._interact(target)
                reward += r
        self.update_memory()
        return reward, success

    def _interact(self, target: Pos) -> tuple[float, bool]:
        name = self.tile_name(target)
        board = self.kitchen.board_at(target)
        if self.held is None:
            if target in self.marks:  # pick up a piece lying on a counter
                self.held = self.marks.pop(target)
            elif board is not None and self.on_board[board] is not None:
                piece = self.on_board[board]
                if not self.is_food(piece) or self.chopped(piece):
                    self.on_board[board] = None
                    self.held = piece
                else:
                    return self._chop(piece), False
            return 0.0, False
        held, plate = self.held, self.kitchen.plate
        if name == "counter":
            self.marks[target] = held
            self._put(held, target)
        elif name == "plate":
            if self.is_food(held) and self.chopped(held):
                self._put(held, target)
                self.bowl.append(held)
        elif board is not None:
            on_board = self.on_board[board]
            if on_board is None:
                self.on_board[board] = held
                self._put(held, target)
            elif self.is_food(on_board) and held == plate:
                if self.chopped(on_board):
                    self.on_board[board] = None
                    self.bowl.append(on_board)
            elif on_board == plate and self.is_food(held):
                if self.chopped(held):
                    self.on_board[board] = None
                    self.held = plate
                    self.bowl.append(held)
        elif name == "delivery":
            return self._deliver()
        elif name in self.kitchen.foods:
            food = self.marks[target]
            if self.chopped(food) and held == plate:
                del self.marks[target]
                self.bowl.append(food)
        return 0.0, False

    def _put(self, piece: int, pos: Pos) -> None:
        self.rest[piece] = pos
        self.held = None

    def _chop(self, food: int) -> float:
        self.chops[food] += 1
        if self.chopped(food) and self.kitchen.foods[food] in self.task.required:
            return self.task.rewards.subtask
        return 0.0

    def _deliver(self) -> tuple[float, bool]:
        held, plate, rewards = self.held, self.kitchen.plate, self.task.rewards
        if held == plate and self.bowl and self.dish_name() == self.task.recipe:
            self._put(plate, self.kitchen.delivery)
            self.delivered = True
            return rewards.correct_delivery, True
        # Anything else is a wrong delivery: what was carried (bowl and contents) returns to its start,
        # unchopped.
        returned = [held] + (self.bowl if held == plate else [])
        self.held = None
        if held == plate:
            self.bowl = []
        for piece in returned:
            start = self.kitchen.piece_starts[piece]
            self.rest[piece] = start
            self.marks[start] = piece
            if self.is_food(piece):
                self.chops[piece] = 0
        return rewards.wrong_delivery, False

    def update_memory(self) -> None:
        """Refresh remembered positions after a primitive step, with the original's rule: a visible entity is
        remembered where it is; an invisible one whose remembered spot is in view (so visibly no longer there)
        is assumed back at its start; otherwise the old memory stays. Boards and the delivery never move and
        the agent always sees itself, so only the pieces need the rule."""
        r, (ax, ay) = self.view_radius, self.agent
        memory = self.memory
        for piece, (pos, start) in enumerate(zip(self.piece_positions(), self.kitchen.piece_starts, strict=True)):
            if r == 0 or (abs(pos[0] - ax) <= r and abs(pos[1] - ay) <= r):
                memory[piece] = pos
            elif abs(memory[piece][0] - ax) <= r and abs(memory[piece][1] - ay) <= r:
                memory[piece] = start
        memory[-1] = self.agent
