"""The run as a LightningModule (manual optimization): it composes an agent, an algorithm, the environments and
the run's state. Each training step collects a rollout and hands it to the algorithm's update; checkpoints,
evaluation and logging happen here, so that the algorithm reads top to bottom (``rl/ppo.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytorch_lightning as pl
import torch
from tqdm.auto import tqdm

from twosome.agents import capabilities
from twosome.agents.base import ActorCritic
from twosome.config import EvalConfig, RolloutConfig
from twosome.parallel import collectives as dist
from twosome.parallel.fsdp import shard
from twosome.rl.algorithm import Algorithm, NonFiniteLossError, UpdateContext
from twosome.rl.settings import spec_of
from twosome.training.evaluation import EvaluationPhase, SavedEvaluation, evaluate
from twosome.training.rollout import RolloutCollector
from twosome.training.run_state import RUN_STATE_KEY, RunState, stored_run_state


def summarize(records: list[dict], prefix: str) -> dict[str, float]:
    if not records:
        return {}
    keys = ["episodic_return", "discounted_return", "episodic_length", "success"]
    out = {f"{prefix}/{k}": float(np.mean([r[k] for r in records])) for k in keys}
    out[f"{prefix}/success_rate"] = out.pop(f"{prefix}/success")
    out[f"{prefix}/episodes"] = float(len(records))
    if all("invalid_actions" in r for r in records):  # decisions that named no valid action, of all decisions
        decisions = sum(r["episodic_length"] for r in records)
        out[f"{prefix}/invalid_action_rate"] = sum(r["invalid_actions"] for r in records) / decisions
    return out


class RLModule(pl.LightningModule):
    """Any algorithm (``rl.algorithm.Algorithm``) on any agent: the module reads only the rollout settings
    (environments, steps per update, budget, gamma) and the evaluation's; the algorithm's hyperparameters are its
    own."""

    def __init__(
        self,
        agent: ActorCritic,
        make_envs: Callable[[int], gym.vector.VectorEnv],
        rollout: RolloutConfig,
        evaluation: EvalConfig,
        algorithm: Algorithm,
        seed: int = 0,
    ):
        super().__init__()
        self.automatic_optimization = False
        self.agent, self.make_envs, self.rollout, self.eval_cfg, self.seed = agent, make_envs, rollout, evaluation, seed
        self.algorithm = algorithm
        self.collector: RolloutCollector | None = None
        self.run_state = RunState(rollout.num_updates)
        self.lockstep = False  # data-parallel: the model's forwards are collectives all ranks make together
        self.metric_loggers: list = []  # a seed group member's own loggers (alone: the trainer's)
        # where the final evaluation saves its progress, and how often (a run alone, one process: ``save_evaluation``)
        self.saved_evaluation: tuple[Path, float] | None = None
        self.evaluation_running: SavedEvaluation | None = None  # where a stop signal asks it to save and stop

    @property
    def num_updates(self) -> int:
        return self.run_state.schedule.total

    @property
    def updates_done(self) -> int:
        return self.run_state.updates_done

    @property
    def final_eval(self) -> dict[str, float]:
        return self.run_state.final_eval

    @property
    def elapsed_before(self) -> float:
        return self.run_state.elapsed_before

    @property
    def env_steps(self) -> int:
        """Environment steps of all ranks."""
        return self.collector.env_steps * dist.world_size() if self.collector else 0

    # --- Lightning plumbing ------------------------------------------------------------------------------
    def configure_optimizers(self):
        return self.algorithm.configure_optimizers(self.num_updates)

    def setup(self, stage: str) -> None:
        # The budget is global: the number of updates depends on how many ranks share it.
        self.run_state.schedule.total = self.rollout.updates_for(dist.world_size())

    def configure_model(self) -> None:
        """FSDP (Lightning's ModelParallelStrategy): shard the agent's units over the data-parallel ranks."""
        mesh = getattr(self, "_device_mesh", None)
        if mesh is None or self.lockstep:  # single process, or already sharded
            return
        self.lockstep = True
        if isinstance(self.agent, capabilities.Memoizing):
            self.agent.set_memoization(False)
        shard(capabilities.fsdp_units(self.agent), mesh["data_parallel"])

    def train_dataloader(self):
        return self.run_state.schedule

    def on_fit_start(self):
        rank, n = dist.rank(), self.rollout.num_envs
        if rank > 0:  # rank r's environments are environments r*n .. r*n+n-1 of one run with all of them
            torch.manual_seed(self.seed + rank)
        if self.collector is None:
            self.collector = RolloutCollector(
                self.make_envs(n),
                self.agent,
                self.rollout.num_steps,
                self.rollout.gamma,
                seed=self.seed + rank * n,
                lockstep=self.lockstep,
                values=spec_of(type(self.algorithm)).needs_values,
                group_size=(self.algorithm.group_size or n) if getattr(self.algorithm, "restarts", False) else None,
            )
            exploration = getattr(self.algorithm, "exploration", None)
            if exploration is not None:
                self.collector.behaviour = exploration.behaviour
                self.collector.ask_oracle = exploration.config.oracle
        self.run_state.start_clock(self.env_steps)

    def on_train_start(self):
        # Here, not in on_fit_start: with ModelParallelStrategy Lightning restores checkpoints after fit starts.
        self.run_state.apply(self.collector, self.agent, self.algorithm)
        self.run_state.start_clock(self.env_steps)  # SPS: steps since this process started

    def on_save_checkpoint(self, checkpoint):
        # The frozen LM is never trained: keep only what is, so a 7B run checkpoints megabytes, not gigabytes.
        trainable = {n for n, prm in self.named_parameters() if prm.requires_grad}
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in trainable}
        checkpoint[RUN_STATE_KEY] = self.run_state.to_bytes(self.collector, self.agent, self.env_steps, self.algorithm)

    def on_load_checkpoint(self, checkpoint):
        self.run_state.restore(stored_run_state(checkpoint))

    strict_loading = False

    # --- one update --------------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        """One update; ``batch`` is its index (0-based) in the run."""
        t0 = time.time()
        self.begin_update()
        rollout = self.collector.collect()
        ctx = UpdateContext(self.optimizers(), self.lr_schedulers(), self.manual_backward, self.device)
        metrics = self.learn(rollout, time.time() - t0, ctx)
        self._progress_bar(metrics)

    def begin_update(self) -> None:
        """Before the update's rollout: the exploration settings of this update (epsilon from the update's index,
        so the same after a resume)."""
        exploration = getattr(self.algorithm, "exploration", None)
        if exploration is not None:
            exploration.begin_update(self.updates_done, self.num_updates)

    def learn(self, rollout, rollout_time: float, ctx: UpdateContext) -> dict[str, float]:
        """Everything after the rollout: the algorithm's update, evaluation when due, the metrics logged (the
        ``loggers``: the trainer's, or a seed group member's own). Returns them."""
        t0 = time.time()
        try:
            metrics = self.algorithm.update(rollout, ctx)
        except NonFiniteLossError as err:
            raise NonFiniteLossError(
                f"{err} at update {self.updates_done + 1} (after {self.env_steps} env steps): training stopped "
                "before the optimizer step; the last good checkpoint is kept. Lower the learning rates "
                "(ppo.policy_lr, ppo.value_lr) or check the model dtype."
            ) from err
        metrics["charts/rollout_seconds"] = rollout_time
        metrics["charts/update_seconds"] = time.time() - t0
        if "charts/value_seconds" in metrics:
            metrics["charts/policy_seconds"] = metrics["charts/update_seconds"] - metrics["charts/value_seconds"]
        if ctx.device.type == "cuda":
            metrics["charts/gpu_peak_memory_gb"] = torch.cuda.max_memory_allocated(ctx.device) / 2**30
        metrics = dist.all_mean(metrics)  # every rank has the same keys: means over the global batch

        env_steps = self.env_steps
        metrics["charts/SPS"] = self.run_state.steps_per_second(env_steps)
        metrics.update(summarize(dist.gather(self.collector.tracker.pop()), "charts"))
        metrics.update(self.collector.exploration.pop())  # this rank's decisions (explore/*)
        update = self.updates_done + 1
        every = self.eval_cfg.every_updates
        if update < self.num_updates and every > 0 and update % every == 0:
            metrics.update(self.run_evaluation())
        self.run_state.schedule.done = update
        metrics = {"global_step": float(env_steps), "update": float(update), **metrics}
        if update == self.num_updates:  # its row waits for the final evaluation (``final_evaluation``)
            self.run_state.final_row = metrics
            return metrics
        self._log_row(metrics)
        return metrics

    def _log_row(self, metrics: dict[str, float]) -> None:
        metrics = {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}
        for logger in self.metric_loggers or self.loggers:
            logger.log_metrics(metrics, step=int(metrics["global_step"]))

    def save_evaluation(self, path: Path, every_s: float) -> None:
        """Save the final evaluation's progress in ``path`` every ``every_s`` seconds: a stop in it resumes where it
        was (``training/evaluation.py``). One process only: ranks step their episodes together."""
        self.saved_evaluation = (Path(path), every_s)

    def final_evaluation(self, progress: Callable[[int], None] | None = None) -> None:
        """The final greedy and sampled evaluations, logged in the last update's row. A run does them after
        training ends (``on_train_end``), after the last update's checkpoint: a stop during them loses no training,
        and the same command resumes at them (the checkpoint carries the row and the generators they draw from;
        ``save_evaluation``: at the step they reached)."""
        row = self.run_state.final_row
        if row is None:  # done, or the run stopped before its last update
            return
        self._log_row({**row, **self.evaluation_only(progress)})
        self.run_state.final_row = None

    def evaluation_only(self, progress: Callable[[int], None] | None = None) -> dict[str, float]:
        """The greedy and sampled evaluations, saved as they go (``save_evaluation``): the whole run of an agent that
        does not train, the end of one that does."""
        saved = self._saved_evaluation()
        if saved is not None:  # the evaluation's seconds before a stop count in the run's wall time
            self.run_state.elapsed_before += saved.elapsed_before
        self.evaluation_running = saved
        try:
            metrics = {**self.run_evaluation(progress, saved), **self.run_sampled_evaluation(progress, saved)}
        finally:
            self.evaluation_running = None
        if saved is not None:
            saved.clear()
        return metrics

    def on_train_end(self):
        if self.run_state.final_row is None:
            return
        episodes = self.eval_cfg.episodes + self.eval_cfg.final_sampled_episodes
        with tqdm(total=episodes, unit="episode", desc="final evaluation", disable=dist.rank() != 0) as bar:
            self.final_evaluation(progress=bar.update)

    def _saved_evaluation(self) -> SavedEvaluation | None:
        if self.saved_evaluation is None or dist.world_size() > 1:  # (asked here: ranks start inside ``fit``)
            return None
        path, every_s = self.saved_evaluation
        return SavedEvaluation(path, self.updates_done, every_s)

    def run_evaluation(
        self, progress: Callable[[int], None] | None = None, saved: SavedEvaluation | None = None
    ) -> dict[str, float]:
        """Greedy (or sampled) episodes on fresh environments; with several ranks each runs its share.
        ``progress(n)``: told as episodes end (an evaluation-only run's progress bar); ``saved``: where the episodes
        are saved as they go, and resumed from."""
        records = self._episodes(self.eval_cfg.episodes, self.eval_cfg.deterministic, progress, saved, "eval")
        self.run_state.final_eval = summarize(records, "eval")
        return self.run_state.final_eval

    def run_sampled_evaluation(
        self, progress: Callable[[int], None] | None = None, saved: SavedEvaluation | None = None
    ) -> dict[str, float]:
        """The final sampled evaluation (``eval.final_sampled_episodes``), added to the final evaluation as
        ``sampled/*``; nothing when it is 0."""
        episodes = self.eval_cfg.final_sampled_episodes
        if episodes == 0:
            return {}
        sampled = summarize(self._episodes(episodes, False, progress, saved, "sampled"), "sampled")
        self.run_state.final_eval = {**self.run_state.final_eval, **sampled}
        return sampled

    def _episodes(
        self, episodes: int, deterministic: bool, progress=None, saved: SavedEvaluation | None = None, phase: str = ""
    ) -> list[dict]:
        world, rank, n = dist.world_size(), dist.rank(), self.eval_cfg.num_envs
        seed = self.seed + self.eval_cfg.seed_offset + rank * n
        # a saved phase resumes only under the settings that made it
        settings = {"episodes": episodes, "deterministic": deterministic, "num_envs": n, "seed": seed}
        phase_saved: EvaluationPhase | None = saved.phase(phase, settings) if saved is not None else None
        envs = self.make_envs(n)
        try:
            records = evaluate(
                self.agent,
                envs,
                math.ceil(episodes / world),
                self.rollout.gamma,
                seed,
                deterministic,
                lockstep=self.lockstep,
                progress=progress if rank == 0 else None,
                saved=phase_saved,
            )
        finally:
            envs.close()
        return dist.gather(records)[:episodes]

    def _progress_bar(self, metrics: dict[str, float]) -> None:
        bar = {
            "ret": metrics.get("charts/episodic_return"),
            "succ": metrics.get("charts/success_rate"),
            "eval_ret": metrics.get("eval/episodic_return"),
        }
        for k, v in bar.items():
            if v is not None:
                self.log(k, v, prog_bar=True, logger=False, on_step=True)
