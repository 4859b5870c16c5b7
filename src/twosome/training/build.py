"""Turn a run's parsed settings (``config.RunSettings``) into its pieces: agent, algorithm, environments, trainer."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

import gymnasium as gym
import hydra
import pytorch_lightning as pl
import torch
from pytorch_lightning.loggers import TensorBoardLogger

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.agents.base import ActorCritic
from twosome.config import GPU_ACCELERATORS, EnvConfig, RunSettings, TrainerSettings
from twosome.console import quiet_lightning_notes
from twosome.lm.loading import load_lm
from twosome.training.csv_logger import ContinuingCSVLogger
from twosome.training.rl_module import RLModule
from twosome.training.vector_env import make_vector_env


def env_spaces(env_config: EnvConfig) -> dict[str, int]:
    """Observation size and number of actions of the configured environment (for agents that read vectors)."""
    env = gym.make(env_config.id, **env_config.kwargs)
    try:
        if env.observation_space.shape is None:  # validate refuses a vector agent here first; a task list may not
            raise ValueError(f"{env_config.id} provides no symbolic observation vector (text only)")
        return {"obs_dim": int(env.observation_space.shape[0]), "n_actions": int(env.action_space.n)}
    finally:
        env.close()


def build_agent(run: RunSettings, base: tuple | None = None, adapter_name: str | None = None) -> ActorCritic:
    """``run``: the settings parsed by ``validate`` (or ``run_settings``, for a saved run's config). A seed group's
    member (``training/seed_group.py``) has its own ``adapter_name``; after the first, it is built on ``base``, (the
    previous member's ``group_base()``, the tokenizer): the LM is loaded once for the group."""
    extra = env_spaces(run.env) if run.agent.uses_vectors else {}
    if adapter_name is not None:
        extra["adapter_name"] = adapter_name
    if base is not None:
        extra.update(lm=base[0], tokenizer=base[1])
    elif run.agent.uses_lm:
        m = run.model
        options = {"source_build": m.source_build or "household_llama", "wheel": m.wheel}
        device = "cuda" if run.trainer.accelerator in GPU_ACCELERATORS and torch.cuda.is_available() else "cpu"
        lm, tokenizer = load_lm(m.path, m.build, m.dtype, m.source, device=device, **options)
        extra.update(lm=lm, tokenizer=tokenizer)
    # the policy's resolved node: instantiate builds its nested _target_s
    return hydra.utils.instantiate(run.agent.policy, **extra, _convert_="all")


def env_factory(run: RunSettings) -> Callable[[int], gym.vector.VectorEnv]:
    invalid = None
    if run.agent.acts_in_text:
        invalid = {"reward": run.agent.invalid_action_reward, "max_in_a_row": run.agent.max_invalid_in_a_row}
    return partial(make_vector_env, run.env.id, kwargs=run.env.kwargs, invalid_action=invalid, wording=run.env.wording)


def build_module(agent: ActorCritic, run: RunSettings) -> RLModule:
    algorithm = build_algorithm(run, agent)
    return RLModule(agent, env_factory(run), run.rollout, run.eval, algorithm, seed=run.seed)


def build_algorithm(run: RunSettings, agent: ActorCritic):
    """The algorithm of ``algo._target_``, given the agent, the ``ppo`` hyperparameters and its own parsed settings;
    one the registry (rl.settings) does not know is instantiated with ``algo``'s keys as its arguments."""
    if run.algo.settings is not None:
        return hydra.utils.get_class(run.algo.target)(
            agent=agent, ppo=run.ppo, settings=run.algo.settings, explore=run.explore
        )
    options = {"_target_": run.algo.target, **run.algo.options}
    explore = {"explore": run.explore} if run.explore.active else {}  # (an algorithm of one's own may not take it)
    return hydra.utils.instantiate(options, _partial_=True, _convert_="all")(agent=agent, ppo=run.ppo, **explore)


def build_strategy(trainer: TrainerSettings):
    """``fsdp``: Lightning's ModelParallelStrategy, every process one data-parallel rank (the PPO module shards the
    agent in ``configure_model``); gloo on CPU, NCCL on GPUs."""
    if trainer.strategy != "fsdp":
        return trainer.strategy
    from pytorch_lightning.strategies import ModelParallelStrategy

    world = int(trainer.devices) * int(trainer.num_nodes)
    return ModelParallelStrategy(data_parallel_size=world, tensor_parallel_size=1, save_distributed_checkpoint=False)


def build_loggers(trainer: TrainerSettings, run_dir: Path, tb_purge_step: int | None = None) -> list:
    """The run's metric loggers: metrics.csv (always: the suite's tables, resume and checks read it), then each
    tracker of ``logger`` (conf/logger), built with the run directory as its save_dir unless it names one;
    ``tb_purge_step``: a resumed run drops TensorBoard events logged after its checkpoint."""
    loggers = [ContinuingCSVLogger(save_dir=str(run_dir), name="", version="", flush_logs_every_n_steps=1)]
    for node in trainer.loggers.values():
        if node is None or node is False:  # dropped (logger.<name>=null)
            continue
        kwargs = {} if "save_dir" in node else {"save_dir": str(run_dir)}
        if tb_purge_step is not None and issubclass(hydra.utils.get_class(node["_target_"]), TensorBoardLogger):
            kwargs["purge_step"] = tb_purge_step
        loggers.append(hydra.utils.instantiate(node, **kwargs))
    return loggers


def build_callbacks(trainer: TrainerSettings) -> list:
    """The callbacks of ``callbacks`` (conf/callbacks), added to the suite's own; a dropped one is not built."""
    built = []
    for name, node in trainer.callbacks.items():
        if node is None or node is False:  # dropped (callbacks.<name>=null)
            continue
        callback = hydra.utils.instantiate(node)
        if not isinstance(callback, pl.Callback):
            kind = type(callback).__name__
            raise TypeError(f"callbacks.{name} ({node['_target_']}) built a {kind}, not a Lightning Callback")
        built.append(callback)
    return built


def use_num_threads(trainer: TrainerSettings) -> None:
    """``trainer.num_threads`` for what follows: training, and the evaluation that is the whole of an
    evaluation-only run (set after the model is built, so building the default model does not depend on it)."""
    if trainer.num_threads:
        torch.set_num_threads(int(trainer.num_threads))


def build_trainer(
    run: RunSettings,
    run_dir: Path,
    tb_purge_step: int | None = None,
    loggers: list | None = None,
    callbacks: list | None = None,
    **overrides,
) -> pl.Trainer:
    """``loggers`` (default: ``build_loggers``) and ``callbacks`` (default: the run's checkpoints in ``run_dir``):
    a seed group gives its own; the callbacks of ``callbacks`` (conf/callbacks) are added to either."""
    from pytorch_lightning.plugins.environments import SLURMEnvironment

    from twosome.training.checkpointing import AtomicCheckpointIO, PeriodicCheckpoint, checkpoint_path
    from twosome.training.stopping import PreemptionCheckpoint

    trainer = run.trainer
    use_num_threads(trainer)
    quiet_lightning_notes()
    if loggers is None:
        loggers = build_loggers(trainer, run_dir, tb_purge_step)
    ckpt = checkpoint_path(run_dir)
    if callbacks is None:
        checkpoint = run.checkpoint
        callbacks = [PeriodicCheckpoint(ckpt, checkpoint.every_updates)]
        if checkpoint.requeue_signals:
            callbacks.append(PreemptionCheckpoint(ckpt, tuple(checkpoint.requeue_signals)))
    callbacks = [*callbacks, *build_callbacks(trainer)]
    if not sys.stdout.isatty() and overrides.get("enable_progress_bar", True):
        from pytorch_lightning.callbacks import TQDMProgressBar

        # Without a terminal rich draws its bar once, at the end: a log (campaign job, sbatch, CI) would show nothing
        # for a whole run. tqdm writes a line per update as it ends, with the metrics and the time left.
        callbacks.append(TQDMProgressBar())
    plugins = [AtomicCheckpointIO()]
    if SLURMEnvironment.detect():  # requeueing is PreemptionCheckpoint's job: at an update boundary, not mid-step
        plugins.append(SLURMEnvironment(auto_requeue=False))
    kwargs = dict(
        accelerator=trainer.accelerator,
        devices=trainer.devices,
        num_nodes=trainer.num_nodes,
        strategy=build_strategy(trainer),
        precision=trainer.precision,
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
