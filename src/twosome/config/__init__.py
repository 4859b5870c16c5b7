"""What the configuration needs before anything heavy is imported: the typed schema (``schema``: dataclasses Hydra
checks, registered in its ConfigStore as ``train_schema``), the checks types cannot express (``checks``: ``validate``),
a run's config as later commands read it (``run_config``), a tool's config composed like a run's (``compose``) and
the OmegaConf resolvers conf/ uses (``resolvers``), registered on import of the ``twosome`` package. An algorithm's
own settings are beside it (twosome.rl.settings). No torch, Lightning or transformers here: `src/run.py --help` and
config errors must stay fast (tests/test_config.py checks the imports)."""

from __future__ import annotations

from twosome.checked import ConfigError, settings
from twosome.config.checks import ValidateBeforeWriting, budget_note, env_kwargs, env_wording, validate
from twosome.config.compose import compose_run_config, run_tool
from twosome.config.resolvers import GPU_ACCELERATORS, register_resolvers
from twosome.config.run_config import check_run_dir, check_same_run, config_changes, load_run_config
from twosome.config.schema import (
    DTYPES,
    NORMALIZATIONS,
    SCORER_MODES,
    AgentConfig,
    AlgorithmChoice,
    CheckpointConfig,
    EnvConfig,
    EvalConfig,
    RolloutConfig,
    RunSettings,
    TrainerSettings,
    register_schema,
    run_settings,
)
from twosome.rl.settings import PPOConfig

__all__ = [
    "DTYPES",
    "GPU_ACCELERATORS",
    "NORMALIZATIONS",
    "SCORER_MODES",
    "AgentConfig",
    "AlgorithmChoice",
    "CheckpointConfig",
    "ConfigError",
    "EnvConfig",
    "EvalConfig",
    "PPOConfig",
    "RolloutConfig",
    "RunSettings",
    "TrainerSettings",
    "ValidateBeforeWriting",
    "budget_note",
    "check_run_dir",
    "check_same_run",
    "compose_run_config",
    "config_changes",
    "env_kwargs",
    "env_wording",
    "load_run_config",
    "run_settings",
    "run_tool",
    "settings",
    "validate",
]

register_resolvers()
register_schema()
