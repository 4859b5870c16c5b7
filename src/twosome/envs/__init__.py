"""Text environments. Importing this package registers their gymnasium ids; it knows nothing of models."""

import gymnasium as gym

from .babyai_text.tasks import ENTRY_POINT as _BABYAI_ENTRY_POINT
from .babyai_text.tasks import TASKS as _BABYAI_TASKS
from .overcooked.tasks import TASKS as _OVERCOOKED_TASKS
from .virtualhome.tasks import TASKS as _VIRTUALHOME_TASKS

for _env_id in _OVERCOOKED_TASKS:
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point="twosome.envs.overcooked.env:OvercookedEnv",
            kwargs={"task": _env_id},
        )

for _env_id in _VIRTUALHOME_TASKS:
    if _env_id not in gym.registry:
        gym.register(
            id=_env_id,
            entry_point="twosome.envs.virtualhome.env:VirtualHomeEnv",
            kwargs={"task": _env_id},
        )

for _env_id, _kwargs in _BABYAI_TASKS.items():
    if _env_id not in gym.registry:
        gym.register(id=_env_id, entry_point=_BABYAI_ENTRY_POINT, kwargs=dict(_kwargs))
