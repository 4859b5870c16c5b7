"""Turn a resolved Hydra config into the run's pieces: validated settings, agent, environments, trainer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import gymnasium as gym
import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig
from pytorch_lightning.loggers import TensorBoardLogger

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.agents.base import ActorCritic
from twosome.config import GPU_ACCELERATORS, RunSettings, env_kwargs, env_wording
from twosome.console import quiet_lightning_notes
from twosome.lm.loading import load_lm
from twosome.training.csv_logger import ContinuingCSVLogger
from twosome.training.rl_module import RLModule
from twosome.training.vector_env import make_vector_env


def env_spaces(cfg: DictConfig) -> dict[str, int]:
    """Observation size and number of actions of the configured environment (for agents that read vectors)."""
    env = gym.make(cfg.env.id, **env_kwargs(cfg))
    try:
        if env.observation_space.shape is None:  # validate refuses a vector agent here first; a task list may not
            raise ValueError(f"{cfg.env.id} provides no symbolic observation vector (text only)")
        return {"obs_dim": int(env.observation_space.shape[0]), "n_actions": int(env.action_space.n)}
    finally:
        env.close()


def build_agent(
    cfg: DictConfig, run: RunSettings, base: tuple | None = None, adapter_name: str | None = None
) -> ActorCritic:
    """``run``: the settings parsed from ``cfg`` (by ``validate``, or ``run_settings`` for a saved run's config).
    A seed group's member (``training/seed_group.py``) has its own ``adapter_name``; after the first, it is built
    on ``base``, (the previous member's ``group_base()``, the tokenizer): the LM is loaded once for the group."""
    extra = env_spaces(cfg) if run.agent.uses_vectors else {}
    if adapter_name is not None:
        extra["adapter_name"] = adapter_name
    if base is not None:
        extra.update(lm=base[0], tokenizer=base[1])
    elif run.agent.uses_lm:
        m = run.model
        options = {"source_build": m.source_build or "household_llama", "wheel": m.wheel}
        device = "cuda" if cfg.trainer.accelerator in GPU_ACCELERATORS and torch.cuda.is_available() else "cpu"
        lm, tokenizer = load_lm(m.path, m.build, m.dtype, m.source, device=device, **options)
        extra.update(lm=lm, tokenizer=tokenizer)
    # the policy from the DictConfig: instantiate resolves its interpolations and nested _target_s
    return hydra.utils.instantiate(cfg.agent.policy, **extra, _convert_="all")


def env_factory(cfg: DictConfig, run: RunSettings) -> Callable[[int], gym.vector.VectorEnv]:
    invalid = None
    if run.agent.acts_in_text:
        invalid = {"reward": run.agent.invalid_action_reward, "max_in_a_row": run.agent.max_invalid_in_a_row}
    return partial(
        make_vector_env, run.env.id, kwargs=env_kwargs(cfg), invalid_action=invalid, wording=env_wording(cfg)
    )


def build_module(cfg: DictConfig, agent: ActorCritic, run: RunSettings) -> RLModule:
    algorithm = build_algorithm(cfg, run, agent)
    return RLModule(agent, env_factory(cfg, run), run.rollout, run.eval, algorithm, seed=cfg.seed)


def build_algorithm(cfg: DictConfig, run: RunSettings, agent: ActorCritic):
    """The algorithm of ``algo._target_``, given the agent, the ``ppo`` hyperparameters and its own parsed settings;
    one the registry (rl.settings) does not know is instantiated with ``algo``'s keys as its arguments."""
    if run.algo is not None:
        return hydra.utils.get_class(cfg.algo._target_)(
            agent=agent, ppo=run.ppo, settings=run.algo, explore=run.explore
        )
    options = {k: v for k, v in cfg.algo.items() if k != "label"}
    explore = {"explore": run.explore} if run.explore.active else {}  # (an algorithm of one's own may not take it)
    return hydra.utils.instantiate(options, _partial_=True, _convert_="all")(agent=agent, ppo=run.ppo, **explore)


def build_strategy(cfg: DictConfig):
    """``fsdp``: Lightning's ModelParallelStrategy, every process one data-parallel rank (the PPO module shards the
    agent in ``configure_model``); gloo on CPU, NCCL on GPUs."""
    name = cfg.trainer.get("strategy", "auto")
    if name != "fsdp":
        return name
    from pytorch_lightning.strategies import ModelParallelStrategy

    world = int(cfg.trainer.devices) * int(cfg.trainer.get("num_nodes", 1))
    return ModelParallelStrategy(data_parallel_size=world, tensor_parallel_size=1, save_distributed_checkpoint=False)


def build_loggers(cfg: DictConfig, run_dir: Path, tb_purge_step: int | None = None) -> list:
    """The run's metric loggers: metrics.csv (always: the suite's tables, resume and checks read it), then each
    tracker of ``logger`` (conf/logger), built with the run directory as its save_dir unless it names one;
    ``tb_purge_step``: a resumed run drops TensorBoard events logged after its checkpoint."""
    loggers = [ContinuingCSVLogger(save_dir=str(run_dir), name="", version="", flush_logs_every_n_steps=1)]
    for node in (cfg.get("logger") or {}).values():
        if node is None or node is False:  # dropped (logger.<name>=null)
            continue
        kwargs = {} if "save_dir" in node else {"save_dir": str(run_dir)}
        if tb_purge_step is not None and issubclass(hydra.utils.get_class(node._target_), TensorBoardLogger):
            kwargs["purge_step"] = tb_purge_step
        loggers.append(hydra.utils.instantiate(node, **kwargs))
    return loggers


def build_callbacks(cfg: DictConfig) -> list:
    """The callbacks of ``callbacks`` (conf/callbacks), added to the suite's own; a dropped one is not built."""
    built = []
    for name, node in (cfg.get("callbacks") or {}).items():
        if node is None or node is False:  # dropped (callbacks.<name>=null)
            continue
        callback = hydra.utils.instantiate(node)
        if not isinstance(callback, pl.Callback):
            kind = type(callback).__name__
            raise TypeError(f"callbacks.{name} ({node._target_}) built a {kind}, not a Lightning Callback")
        built.append(callback)
    return built


def use_num_threads(cfg: DictConfig) -> None:
    """``trainer.num_threads`` for what follows: training, and the evaluation that is the whole of an
    evaluation-only run (set after the model is built, so building the default model does not depend on it)."""
    if cfg.trainer.get("num_threads"):
        torch.set_num_threads(int(cfg.trainer.num_threads))


def build_trainer(
    cfg: DictConfig,
    run_dir: Path,
    tb_purge_step: int | None = None,
    loggers: list | None = None,
    callbacks: list | None = None,
    *,
    run: RunSettings,
    **overrides,
) -> pl.Trainer:
    """``loggers`` (default: ``build_loggers``) and ``callbacks`` (default: the run's checkpoints in ``run_dir``):
    a seed group gives its own; the callbacks of ``callbacks`` (conf/callbacks) are added to either. ``run``: the
    settings parsed from ``cfg``."""
    from pytorch_lightning.plugins.environments import SLURMEnvironment

    from twosome.training.checkpointing import AtomicCheckpointIO, PeriodicCheckpoint, checkpoint_path
    from twosome.training.stopping import PreemptionCheckpoint

    use_num_threads(cfg)
    quiet_lightning_notes()
    if loggers is None:
        loggers = build_loggers(cfg, run_dir, tb_purge_step)
    ckpt = checkpoint_path(run_dir)
    if callbacks is None:
        checkpoint = run.checkpoint
        callbacks = [PeriodicCheckpoint(ckpt, checkpoint.every_updates)]
        if checkpoint.requeue_signals:
            callbacks.append(PreemptionCheckpoint(ckpt, tuple(checkpoint.requeue_signals)))
    callbacks = [*callbacks, *build_callbacks(cfg)]
    if not sys.stdout.isatty() and overrides.get("enable_progress_bar", True):
        from pytorch_lightning.callbacks import TQDMProgressBar

        # Without a terminal rich draws its bar once, at the end: a log (campaign job, sbatch, CI) would show nothing
        # for a whole run. tqdm writes a line per update as it ends, with the metrics and the time left.
        callbacks.append(TQDMProgressBar())
    plugins = [AtomicCheckpointIO()]
    if SLURMEnvironment.detect():  # requeueing is PreemptionCheckpoint's job: at an update boundary, not mid-step
        plugins.append(SLURMEnvironment(auto_requeue=False))
    kwargs = dict(
        accelerator=cfg.trainer.accelerator,
        devices=cfg.trainer.devices,
        num_nodes=cfg.trainer.get("num_nodes", 1),
        strategy=build_strategy(cfg),
        precision=cfg.trainer.precision,
        max_epochs=1,
        logger=loggers or False,
        callbacks=callbacks,
        plugins=plugins,
        enable_checkpointing=False,  # PeriodicCheckpoint saves at PPO-update boundaries
        enable_model_summary=False,
        use_distributed_sampler=False,  # the "dataloader" is the update schedule: every rank runs every update
        log_every_n_steps=1,
        default_root_dir=str(run_dir),
        num_sanity_val_steps=0,
    )
    kwargs.update(overrides)
    return pl.Trainer(**kwargs)
