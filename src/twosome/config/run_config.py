"""A run's config.yaml as later commands read it: keys added since it was written read as their defaults, and a
new command's config compared with it before the run resumes. No torch here."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from twosome.checked import ConfigError
from twosome.config.schema import AgentConfig, EvalConfig, RolloutConfig
from twosome.run_dir import RunDir

# The keys that moved from ``ppo`` to ``rollout`` (a run saved before reads them there: load_run_config).
ROLLOUT_KEYS = tuple(f.name for f in fields(RolloutConfig))
MOVED = {f"ppo.{k}": f"rollout.{k}" for k in ROLLOUT_KEYS}


def moved_keys_note(overrides: list[str]) -> str | None:
    """A command line of before the rollout group (``ppo.total_env_steps=...``) gets the new spelling, not Hydra's
    "Key not in PPOConfig"."""
    moved = [o.split("=", 1)[0] for o in overrides if o.split("=", 1)[0].lstrip("+~") in MOVED]
    if not moved:
        return None
    new = [MOVED[k.lstrip("+~")] for k in moved]
    return f"{', '.join(moved)}: moved to {', '.join(new)} (the rollout's shape is its own group, apart from PPO's)"


TWOSOME_AGENT = "twosome.agents.twosome.TwosomeAgent"


def load_run_config(path: Path) -> DictConfig:
    """A run's resolved config.yaml, with the agent's meta keys and evaluation keys a run written before they were
    declared lacks read as their defaults (so such a run still resumes and evaluates)."""
    return with_defaults_of_later_keys(OmegaConf.load(path))


def with_defaults_of_later_keys(cfg: DictConfig) -> DictConfig:
    """``cfg`` with the keys added since a run was written read as their defaults. Applied to a new command's config
    too before comparing it with a run's (``check_run_dir``): a config that omits such a key (an environment's
    YAML without ``wording``) is the same run as one that spells out the default."""
    if "ppo" in cfg and "rollout" not in cfg:  # runs from before the rollout group kept its keys in ppo
        cfg.rollout = {k: cfg.ppo.pop(k) for k in ROLLOUT_KEYS if k in cfg.ppo}
    if "agent" in cfg:
        if "untrained_twin" not in cfg.agent:  # runs from before the key: the agents that had a twin then
            cfg.agent.untrained_twin = cfg.agent.get("name") in ("twosome", "glam")
        cfg.agent = OmegaConf.merge(OmegaConf.structured(AgentConfig), cfg.agent)
    if "eval" in cfg:  # evaluation keys added later (final_sampled_episodes) read as their defaults
        cfg.eval = OmegaConf.merge(OmegaConf.structured(EvalConfig), cfg.eval)
    policy = OmegaConf.select(cfg, "agent.policy")
    if policy is not None and policy.get("_target_") == TWOSOME_AGENT and "critic" not in policy:
        policy.critic = True  # runs from before agent.policy.critic all built one
    if "env" in cfg and "wording" not in cfg.env:  # runs from before env.wording were in the original's words
        cfg.env.wording = "canonical"
    return cfg


# Settings that may change between a run and its resumption without changing its results. model.lora_layers is only
# agent.policy.lora_layers's default, and that key is compared; agent.run_label and algo.label only compose run_name,
# which is compared (a run's name once held its algorithm's mark in agent.run_label).
RESUMABLE_CHANGES = (
    "checkpoint.",
    "trainer.num_threads",
    "logger.",
    "model.lora_layers",
    "agent.run_label",
    "algo.label",
)


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def config_changes(old: dict, new: dict) -> list[str]:
    """Keys whose values differ between two resolved configs, ignoring settings a resume may change."""
    a, b = _flat(old), _flat(new)
    keys = sorted(set(a) | set(b))
    return [
        f"{k}: {a.get(k, '<absent>')!r} -> {b.get(k, '<absent>')!r}"
        for k in keys
        if a.get(k) != b.get(k) and not k.startswith(RESUMABLE_CHANGES)
    ]


def check_run_dir(cfg: DictConfig, run_dir: Path) -> None:
    """Refuse to resume a run directory that holds a run of another config (before anything is written)."""
    if not (cfg.checkpoint.resume and RunDir(run_dir).has_previous_run()):
        return
    old = OmegaConf.to_container(load_run_config(RunDir(run_dir).config))
    new = with_defaults_of_later_keys(OmegaConf.create(OmegaConf.to_container(cfg, resolve=True)))
    changes = config_changes(old, OmegaConf.to_container(new))
    if changes:
        raise ConfigError(
            f"{run_dir} holds a run of a different config ({'; '.join(changes)}). To keep it, give this run "
            "its own directory (run_name=... or hydra.run.dir=...); to overwrite it, checkpoint.resume=false"
        )
