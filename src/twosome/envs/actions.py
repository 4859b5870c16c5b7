"""The one check every environment applies to an action index before acting on it."""

from __future__ import annotations

import numpy as np


def check_action(action, n: int, what: str = "actions") -> int:
    """``action`` as an int in ``[0, n)``; a ValueError naming the value and the valid range otherwise."""
    value = action.item() if isinstance(action, np.ndarray) and action.ndim == 0 else action
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        kind = type(action).__name__
        raise ValueError(f"invalid action {action!r} of type {kind}: expected an integer in [0, {n - 1}]")
    if not 0 <= value < n:
        raise ValueError(f"invalid action {value}: expected an integer in [0, {n - 1}] ({n} {what})")
    return int(value)
