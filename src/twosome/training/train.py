"""One training run: validate, build, fit, save the adapter and heads, write the summary."""

from __future__ import annotations

import json
import logging
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from twosome.training.build import build_agent, build_module, build_trainer, validate

log = logging.getLogger(__name__)

# Noise that says nothing about this run: the frozen LM is in eval mode on purpose (no dropout in scoring), and the
# run directory is created before Lightning's loggers see it.
for _message in (
    ".*module\\(s\\) in eval mode.*",
    ".*exists and is not empty.*",
    ".*LeafSpec.*",
    ".*is_gradient_checkpointing.*",
):
    warnings.filterwarnings("ignore", message=_message)


def run_dir_of(cfg: DictConfig) -> Path:
    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(cfg.paths.runs_dir) / cfg.run_name


def train(cfg: DictConfig, run_dir: Path | None = None, **trainer_overrides) -> dict:
    validate(cfg)
    run_dir = Path(run_dir) if run_dir is not None else run_dir_of(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.yaml").write_text(OmegaConf.to_yaml(cfg, resolve=True))
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    start = time.time()
    agent = build_agent(cfg)
    module = build_module(cfg, agent)
    if cfg.agent.get("train", True):
        trainer = build_trainer(cfg, run_dir, **trainer_overrides)
        trainer.fit(module)
        agent.save(run_dir)
    else:  # evaluation-only agents (random, zero-shot): the final evaluation is the whole run
        module.run_evaluation()
    # The normalization the policy really uses ("-" for agents that read no action likelihoods, e.g. PPO).
    norm = OmegaConf.select(cfg, "agent.policy.norm", default="-")
    summary = {
        "run_name": cfg.run_name,
        "agent": cfg.agent.name,
        "env_id": cfg.env.id,
        "norm": norm,
        "model": cfg.model.name,
        "seed": cfg.seed,
        "env_steps": module.collector.env_steps if module.collector else 0,
        "updates": module.ppo.num_updates if module.collector else 0,
        "wall_seconds": round(time.time() - start, 1),
        **module.final_eval,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2))
    print(f"Results in {run_dir}")
    print(
        f"Summary: {cfg.agent.name} on {cfg.env.id} ({norm} norm, seed {cfg.seed}): "
        f"eval return {summary.get('eval/episodic_return', float('nan')):.3f}, "
        f"success rate {summary.get('eval/success_rate', float('nan')):.2f} "
        f"after {summary['env_steps']} env steps in {summary['wall_seconds']:.0f}s"
    )
    return summary
