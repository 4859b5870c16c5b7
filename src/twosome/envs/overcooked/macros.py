"""Macro-action controller: turns one macro action into primitive steps until it is done.

The stopping rules follow the original (``_computeLowLevelActions`` / ``_checkMacroActionDone``); the notable
ones: walking to an item ends by bumping into it (pick up / put down / combine), except that with empty hands
"go to a board" and "deliver" stop next to it; "chop" chops at most three times, and takes one idle step when
there is nothing to chop; a macro whose target is already in hand takes one idle step.
"""

from __future__ import annotations

from dataclasses import dataclass

from .navigation import next_step
from .tasks import MacroAction
from .world import MOVES, STAY, Pos, World, manhattan

# Safety net against a controller bug looping forever; no macro in these maps comes near it.
MAX_MACRO_STEPS = 1000


@dataclass(frozen=True)
class MacroResult:
    reward: float  # sum_k gamma^k r_k over the primitive steps
    steps: int
    success: bool


def run_macro(world: World, macro: MacroAction, gamma: float) -> MacroResult:
    reward, discount, steps, success = 0.0, 1.0, 0, False
    done = False
    while not done and not success:
        action, done = _choose(world, macro)
        r, success = world.step(action)
        reward += discount * r
        discount *= gamma
        steps += 1
        if not done:
            done = _finished_after_step(world, macro)
        if steps > MAX_MACRO_STEPS:
            raise RuntimeError(f"macro action {macro} did not finish within {MAX_MACRO_STEPS} steps")
    return MacroResult(reward, steps, success)


def _target_entity(world: World, macro: MacroAction) -> int:
    k = world.kitchen
    if macro.kind == "get":
        return k.piece_names.index(macro.arg)
    if macro.kind == "board":
        return len(k.piece_starts) + int(macro.arg)
    return len(k.piece_starts) + len(k.boards)  # deliver: the delivery counter


def _unchopped_on_board(world: World, pos: Pos) -> bool:
    board = world.kitchen.board_at(pos)
    if board is None:
        return False
    piece = world.on_board[board]
    return world.is_food(piece) and not world.chopped(piece)


def _choose(world: World, macro: MacroAction) -> tuple[int, bool]:
    """Primitive action for this step, and whether the macro ends with it."""
    if macro.kind == "chop":
        for action, (dx, dy) in enumerate(MOVES):
            if _unchopped_on_board(world, (world.agent[0] + dx, world.agent[1] + dy)):
                world.chop_streak += 1
                if world.chop_streak >= 3:
                    world.chop_streak = 0
                    return action, True
                return action, False
        return STAY, True

    entity = _target_entity(world, macro)
    target = world.memory[entity]
    plate = world.kitchen.plate
    getting_food = macro.kind == "get" and entity != plate
    if getting_food and world.in_view(target) and world.piece_pos(plate) == target:
        return STAY, True  # the food is (seen) in the bowl: nothing to fetch
    if target == world.agent:
        return STAY, True  # already in hand
    action = next_step(world, target)
    done = action == STAY
    if manhattan(world.agent, target) == 1:
        done = True
        held = world.held
        if macro.kind == "get" and entity == plate and world.is_food(held):
            if world.chopped(held):
                done = False  # put the food in the bowl first, then pick the bowl up
            else:
                action = STAY
        if macro.kind == "board" and held is None:
            action = STAY
        if getting_food and _unchopped_on_board(world, target):
            action = STAY
        if macro.kind == "get" and target != world.piece_pos(entity):
            action = STAY
    return action, done


def _finished_after_step(world: World, macro: MacroAction) -> bool:
    entity = _target_entity(world, macro)
    target = world.memory[entity]
    adjacent = manhattan(world.agent, target) == 1
    done = False
    if macro.kind in ("board", "deliver") and world.held is None:
        done = adjacent
    elif macro.kind == "get" and entity != world.kitchen.plate:
        # Next to a board holding this (unchopped) food: stop there, picking it up would chop it instead.
        on_board = world.kitchen.board_at(target) is not None and world.piece_pos(entity) == target
        done = adjacent and on_board and not world.chopped(entity)
    if macro.kind == "get" and target != world.piece_pos(entity):
        done = True
    return done
