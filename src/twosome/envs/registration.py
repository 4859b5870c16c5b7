"""Registering environment ids with gymnasium, idempotently: importing ``twosome.envs`` twice must not warn."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium as gym


def register_envs(entry_point: str, tasks: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Register every id of ``tasks`` (id -> the env's kwargs) at ``entry_point`` (``"module:Class"``).

    Ids already registered are left as they are (gymnasium would warn and override), so calling it again, or
    reloading the package, changes nothing. Returns the ids, registered now or before.
    """
    for env_id, kwargs in tasks.items():
        if env_id not in gym.registry:
            gym.register(id=env_id, entry_point=entry_point, kwargs=dict(kwargs))
    return list(tasks)
