"""Text environments. Importing this package registers their gymnasium ids; it knows nothing of models.

What an environment must show (prompt, actions, action mask, step fields; an optional vector) is in ``contract``.
"""

from .babyai_text.tasks import ENTRY_POINT as _BABYAI_ENTRY_POINT
from .babyai_text.tasks import TASKS as _BABYAI_TASKS
from .overcooked.tasks import TASKS as _OVERCOOKED_TASKS
from .registration import register_envs
from .textworld.tasks import ENTRY_POINT as _TEXTWORLD_ENTRY_POINT
from .textworld.tasks import TASKS as _TEXTWORLD_TASKS
from .virtualhome.tasks import TASKS as _VIRTUALHOME_TASKS

register_envs("twosome.envs.overcooked.env:OvercookedEnv", {i: {"task": i} for i in _OVERCOOKED_TASKS})
register_envs("twosome.envs.virtualhome.env:VirtualHomeEnv", {i: {"task": i} for i in _VIRTUALHOME_TASKS})
register_envs(_BABYAI_ENTRY_POINT, _BABYAI_TASKS)
register_envs(_TEXTWORLD_ENTRY_POINT, _TEXTWORLD_TASKS)
