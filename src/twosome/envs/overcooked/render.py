"""Plain-text frame of a kitchen (``render_mode="ansi"``), for logs and later viewers.

Legend: ``#`` counter, ``.`` floor, ``K`` cutting board, ``D`` delivery, ``A`` agent; foods by initial
(``t`` tomato, ``l`` lettuce, ``o`` onion; upper case once chopped), ``p`` bowl (``P`` when it holds food).
"""

from __future__ import annotations

from .world import CHOPS_NEEDED, World

_STATIC = {"space": ".", "counter": "#", "knife": "K", "delivery": "D"}


def _piece_label(world: World, piece: int) -> str:
    if piece == world.kitchen.plate:
        inside = ", ".join(world.kitchen.foods[f] for f in world.bowl)
        return f"bowl [{inside}]" if inside else "empty bowl"
    return f"{world.kitchen.foods[piece]} ({world.chops[piece]}/{CHOPS_NEEDED} chopped)"


def _piece_char(world: World, piece: int) -> str:
    if piece == world.kitchen.plate:
        return "P" if world.bowl else "p"
    letter = world.kitchen.foods[piece][0]
    return letter.upper() if world.chopped(piece) else letter


def render_ansi(world: World) -> str:
    k = world.kitchen
    rows, cols = k.shape
    grid = [[_STATIC[k.static_tile((x, y))] for y in range(cols)] for x in range(rows)]
    for piece in range(len(k.piece_starts)):
        if piece != world.held and piece not in world.bowl:
            x, y = world.rest[piece]
            grid[x][y] = _piece_char(world, piece)
    grid[world.agent[0]][world.agent[1]] = "A"
    lines = ["".join(row) for row in grid]
    lines.append("hand: " + ("nothing" if world.held is None else _piece_label(world, world.held)))
    for b, piece in enumerate(world.on_board):
        lines.append(f"board {b + 1}: " + ("empty" if piece is None else _piece_label(world, piece)))
    if world.delivered:
        lines.append("delivered: " + _piece_label(world, k.plate))
    return "\n".join(lines) + "\n"
