"""A run's config.yaml as later commands read it, and a new command's config compared with it before the run
resumes. No torch here."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from twosome.checked import ConfigError
from twosome.rl.settings import ExplorationConfig
from twosome.run_dir import RunDir

CALIBRATED_AGENTS = ("twosome.agents.twosome.TwosomeAgent",)  # take agent.policy.calibration


def load_run_config(path: Path) -> DictConfig:
    """A run's resolved config.yaml, as ``with_omitted_defaults`` reads it."""
    return with_omitted_defaults(OmegaConf.load(path))


def with_omitted_defaults(cfg: DictConfig) -> DictConfig:
    """``cfg`` with the keys an environment's YAML may omit read as their defaults (``env.wording``, which
    EXTENDING's recipe for an environment does not list). Applied to a run's config and to a new command's before
    they are compared (``check_run_dir``): a config that omits such a key is the same run as one that spells out the
    default."""
    if "env" in cfg and "wording" not in cfg.env:
        cfg.env.wording = "canonical"
    # settings added after runs were written: a run without them ran with them off
    if "ppo" in cfg and "explore" not in cfg:
        cfg.explore = asdict(ExplorationConfig())
    policy = OmegaConf.select(cfg, "agent.policy")
    if policy is not None and policy.get("_target_") in CALIBRATED_AGENTS and "calibration" not in policy:
        policy.calibration = "none"
    return cfg


# Settings that may change between a run and its resumption without changing its results. model.lora_layers is only
# agent.policy.lora_layers's default, and that key is compared; agent.run_label and algo.label only compose run_name,
# which is compared (a run's name once held its algorithm's mark in agent.run_label).
RESUMABLE_CHANGES = (
    "checkpoint.",
    "trainer.num_threads",
    "logger.",
    "callbacks.",
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
    if cfg.checkpoint.resume and RunDir(run_dir).has_previous_run():
        check_same_run(OmegaConf.to_container(cfg, resolve=True), run_dir)


def check_same_run(config: dict, run_dir: Path) -> None:
    """Refuse to resume the previous run in ``run_dir`` if it ran another config than ``config`` (resolved, as
    ``RunSettings.record`` holds it)."""
    old = OmegaConf.to_container(load_run_config(RunDir(run_dir).config))
    new = with_omitted_defaults(OmegaConf.create(config))
    changes = config_changes(old, OmegaConf.to_container(new))
    if changes:
        raise ConfigError(
            f"{run_dir} holds a run of a different config ({'; '.join(changes)}). To keep it, give this run "
            "its own directory (run_name=... or hydra.run.dir=...); to overwrite it, checkpoint.resume=false"
        )
