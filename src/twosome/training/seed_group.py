"""Seed groups: training runs of one configuration that differ only in their seeds, in one process through one frozen
LM (the idea of PureJaxRL's vectorized seeds, with S-LoRA/punica's batched LoRA for the forward pass).

Each member is the run it would be alone, in its own run directory: its own adapter on the shared LM (every row it
scores goes through it, ``scoring/row_adapters.py``), critic, optimizers, learning-rate schedule, environments and
random generators (the global generators are swapped in and out around everything a member does), its own update
with its own KL early stop, evaluation, checkpoint, metrics, summary and status. What the members share is the
rollout's forward passes: at each step the agent class scores every member's batch in one call (``prefetch``).

``hydra/launcher=seed_batch`` (``hydra_plugins/twosome_seed_batch_launcher.py``) forms the groups from a sweep.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import hydra
import pytorch_lightning as pl
import torch
from omegaconf import DictConfig, OmegaConf
from torch import nn

from twosome.agents import capabilities
from twosome.config import ConfigError, RunSettings, budget_note, validate
from twosome.fileio import atomic_write_bytes
from twosome.rl.algorithm import UpdateContext
from twosome.run_dir import RunDir
from twosome.training.build import build_agent, build_loggers, build_module, build_trainer
from twosome.training.checkpointing import checkpoint_path
from twosome.training.lifecycle import (
    NothingTrained,
    check_something_trained,
    clear_results,
    finish_run,
    open_run,
    truncate_csv,
    write_status,
)
from twosome.training.rl_module import RLModule
from twosome.training.run_state import (
    RUN_STATE_KEY,
    DamagedCheckpoint,
    UpdateSchedule,
    read_run_state,
    rng_state,
    set_rng_state,
    stored_run_state,
)
from twosome.training.stopping import HeldCtrlC, PreemptionCheckpoint, signal_handlers_kept, stop_status
from twosome.training.weights import save_agent, trained_weights

GROUP_FORMAT = "seed_group"  # the key that marks a member's checkpoint


def not_batchable_reason(cfg: DictConfig) -> str | None:
    """None when runs of ``cfg`` can share a process and an LM; otherwise why they cannot (they run alone)."""
    if not cfg.agent.uses_lm:
        return f"agent {cfg.agent.name} reads no LM: there is no frozen model to share"
    if not cfg.agent.train:
        return f"agent {cfg.agent.name} does not train (evaluation only)"
    if cfg.trainer.get("strategy", "auto") == "fsdp" or int(cfg.trainer.devices) != 1:
        return "the runs are data-parallel (trainer.devices > 1 or FSDP): each is already several processes"
    policy = hydra.utils.get_class(cfg.agent.policy._target_)
    if not all(hasattr(policy, name) for name in ("prefetch", "group_base")):
        return f"{policy.__name__} does not implement twosome.agents.capabilities.SeedBatched"
    return None


def without_seed(cfg: DictConfig) -> dict:
    """The resolved config less what differs between the seeds of one configuration (the seed, the run name)."""
    config = OmegaConf.to_container(cfg, resolve=True)
    for key in ("seed", "run_name"):
        config.pop(key, None)
    return config


@dataclass
class Member:
    """One run of the group and everything that is its own."""

    index: int
    settings: RunSettings  # its config, parsed once (validate)
    run_dir: Path
    resume_from: Path | None
    resume_state: dict | None = None  # read_run_state(resume_from), read once before the group starts
    module: RLModule | None = None
    rng: dict = field(default_factory=dict)
    loggers: list = field(default_factory=list)
    first_update: int = 0  # updates done before this process (from the checkpoint)
    slots: slice = field(default_factory=lambda: slice(0))  # its optimizers and schedulers among the group's
    done: bool = False

    @property
    def agent(self):
        return self.module.agent

    @contextlib.contextmanager
    def own_generators(self):
        """The global random generators as this run alone would have them (CUDA's too, where it is in use)."""
        set_rng_state(self.rng["cpu"])
        if "cuda" in self.rng:
            torch.cuda.set_rng_state(self.rng["cuda"])
        try:
            yield
        finally:
            self.rng = {"cpu": rng_state()}
            if torch.cuda.is_available() and torch.cuda.is_initialized():
                self.rng["cuda"] = torch.cuda.get_rng_state()


class SeedGroupModule(pl.LightningModule):
    """The group as one LightningModule (manual optimization): each training step collects every unfinished
    member's rollout in lockstep, then runs each member's own update. Each member's checkpoint is written to its
    own run directory (``save_checkpoints``), in a run's format (keys ``state_dict``, ``optimizer_states``,
    ``lr_schedulers``, ``run_state``) marked ``seed_group``."""

    def __init__(self, members: list[Member], group_start: float):
        super().__init__()
        self.automatic_optimization = False
        self.members = members
        self.runs = nn.ModuleList([m.module for m in members])  # the trainer moves them (and the shared LM)
        self.schedule = UpdateSchedule(0)
        self.group_start = group_start
        self.results: dict[int, dict | BaseException] = {}

    @property
    def active(self) -> list[Member]:
        return [m for m in self.members if not m.done]

    # what PreemptionCheckpoint reads and says
    @property
    def updates_done(self) -> int:
        return self.schedule.done

    @property
    def num_updates(self) -> int:
        return self.schedule.total

    def setup(self, stage: str) -> None:
        for m in self.members:
            m.module.setup(stage)
        # The group's steps: until its longest-running member has done all its updates.
        self.schedule.total = max(m.module.num_updates - m.first_update for m in self.members)

    def configure_optimizers(self):
        optimizers, schedulers = [], []
        for m in self.members:
            opts, scheds = m.module.configure_optimizers()
            m.slots = slice(len(optimizers), len(optimizers) + len(opts))
            optimizers += opts
            schedulers += scheds
        return optimizers, schedulers

    def train_dataloader(self):
        return self.schedule

    def on_fit_start(self):
        for m in self.members:
            with m.own_generators():
                m.module.on_fit_start()

    def on_train_start(self):
        for m in self.members:
            if m.resume_from is not None:
                self._restore(m, torch.load(m.resume_from, map_location="cpu", weights_only=True))
            with m.own_generators():
                m.module.on_train_start()  # the checkpoint's generators become the member's

    def _weights(self, m: Member) -> dict[str, torch.Tensor]:
        return {f"agent.{k}": v for k, v in trained_weights(m.agent).items()}

    def _restore(self, m: Member, checkpoint: dict) -> None:
        """A member's checkpoint, or a lone run's (the same keys): weights, optimizers, schedulers, run state."""
        weights = self._weights(m)
        missing = sorted(set(weights) - set(checkpoint["state_dict"]))
        if missing:
            raise ConfigError(
                f"{m.resume_from} lacks weights this run trains ({missing[:3]}...): checkpoint.resume=false reruns it"
            )
        with torch.no_grad():
            for name, tensor in weights.items():
                tensor.copy_(checkpoint["state_dict"][name])
        for optimizer, state in zip(self.trainer.optimizers[m.slots], checkpoint["optimizer_states"]):
            optimizer.load_state_dict(state)
        for config, state in zip(self.trainer.lr_scheduler_configs[m.slots], checkpoint["lr_schedulers"]):
            config.scheduler.load_state_dict(state)
        m.module.run_state.restore(stored_run_state(checkpoint))

    def save_checkpoint(self, m: Member) -> None:
        with m.own_generators():  # the run state records the global generators: the member's own
            run = m.module.run_state.to_bytes(m.module.collector, m.agent, m.module.env_steps, m.module.algorithm)
        checkpoint = {
            GROUP_FORMAT: {"members": len(self.members)},
            "state_dict": {k: v.detach().cpu() for k, v in self._weights(m).items()},
            "optimizer_states": [o.state_dict() for o in self.trainer.optimizers[m.slots]],
            "lr_schedulers": [c.scheduler.state_dict() for c in self.trainer.lr_scheduler_configs[m.slots]],
            RUN_STATE_KEY: run,
        }
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        last, previous = RunDir(m.run_dir).checkpoint, RunDir(m.run_dir).previous_checkpoint
        if last.exists():  # kept until every member has passed this boundary: a kill amid the writes rolls back to it
            staged = previous.with_suffix(".tmp")
            staged.unlink(missing_ok=True)
            os.link(last, staged)
            os.replace(staged, previous)
        atomic_write_bytes(last, buffer.getvalue())

    def save_checkpoints(self) -> None:
        """Every unfinished member's checkpoint (PreemptionCheckpoint calls this on a signal)."""
        for m in self.active:
            self.save_checkpoint(m)

    # --- one update of every member ------------------------------------------------------------------------
    @torch.no_grad()
    def collect(self, members: list[Member]) -> dict[int, object]:
        """Every member's rollout, step by step together: one ``prefetch`` per step scores all members' batches."""
        prefetch = type(members[0].agent).prefetch
        agents = [m.agent for m in members]
        with contextlib.ExitStack() as stack:
            for m in members:
                stack.enter_context(capabilities.frozen_policy(m.agent))
                m.module.begin_update()
                m.module.collector.start()
            for _ in range(members[0].module.collector.num_steps):
                prefetch(agents, [m.module.collector.next_obs for m in members])
                for m in members:
                    with m.own_generators():
                        m.module.collector.step()
            prefetch(agents, [m.module.collector.next_obs for m in members])  # the bootstrap values
            return {m.index: m.module.collector.finish() for m in members}

    def training_step(self, batch, batch_idx):
        members = self.active
        t0 = time.time()
        rollouts = self.collect(members)
        rollout_time = time.time() - t0  # the group's: every member's rollout took this long, together
        optimizers, schedulers = self.optimizers(), self.lr_schedulers()
        returns, due, finished = [], [], []
        for m in members:
            ctx = UpdateContext(optimizers[m.slots], schedulers[m.slots], self.manual_backward, self.device)
            try:
                with m.own_generators():
                    metrics = m.module.learn(rollouts[m.index], rollout_time, ctx)
                    # before its checkpoint (a run alone evaluates after it): a group resumes no member at its
                    # final evaluation
                    m.module.final_evaluation()
            except Exception as err:  # this member fails alone; the others go on
                self.fail(m, err)
                continue
            returns.append(metrics.get("charts/episodic_return"))
            every, done = m.settings.checkpoint.every_updates, m.module.updates_done
            if every > 0 and (done % every == 0 or done == m.module.num_updates):
                due.append(m)
            if done == m.module.num_updates:
                finished.append(m)
        for m in due:  # after every member's update: all save at one boundary (align_members reads them back)
            self.save_checkpoint(m)
        for m in finished:
            self.finish(m)
        self.schedule.done += 1
        returns = [r for r in returns if r is not None]
        if returns:
            self.log("ret", sum(returns) / len(returns), prog_bar=True, logger=False, on_step=True)
        self.log("runs", float(len(self.active)), prog_bar=True, logger=False, on_step=True)
        if not self.active:
            self.trainer.should_stop = True

    def finish(self, m: Member) -> None:
        for logger in m.loggers:
            logger.save()  # the metrics check_something_trained reads
        try:
            check_something_trained(m.run_dir, m.settings, m.module.algorithm)
        except NothingTrained as err:
            self.fail(m, err)
            return
        m.done = True
        digest, saved = save_agent(m.agent, m.run_dir)
        for logger in m.loggers:
            logger.finalize("success")
        self.results[m.index] = finish_run(m.settings, m.run_dir, m.module, digest, saved, self.group_start)

    def fail(self, m: Member, err: BaseException) -> None:
        m.done = True
        write_status(m.run_dir, "failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
        print(f"{m.run_dir} failed: {type(err).__name__}: {err}")
        self.results[m.index] = err


def train_group(cfgs: list[DictConfig], run_dirs: list[Path], **trainer_overrides) -> list[dict | BaseException]:
    """Train the runs ``cfgs`` (one configuration, different seeds) in this process, each in its run directory;
    return each run's summary, or the exception that stopped it. A run already finished is not run again; a run
    with a checkpoint resumes from it. A stop signal (Ctrl-C, SIGTERM, a requeue) stops them all at the end of the
    update, each with its checkpoint and status: each unfinished run's result is then that signal's exception
    (``Preempted``, ``Interrupted``, ``Requeued``), for the caller to act upon."""
    results: list[dict | BaseException | None] = [None] * len(cfgs)
    members = []
    with contextlib.ExitStack() as locks, HeldCtrlC() as ctrl_c:
        first = None  # the first run's config less its seed: every other must equal it
        for i, (cfg, run_dir) in enumerate(zip(cfgs, run_dirs)):
            try:
                parsed = validate(cfg)
                first = without_seed(cfg) if first is None else first
                if i and without_seed(cfg) != first:
                    raise ConfigError(f"{run_dir}: a seed group's runs must differ only in their seed")
                run_dir = Path(run_dir)
                resume_from, finished, state = open_run(
                    parsed, run_dir, locks, inspect=lambda ckpt, run_dir=run_dir: own_checkpoint(run_dir, ckpt)
                )
                if finished is not None:
                    results[i] = finished
                    continue
                members.append(Member(i, parsed, run_dir, resume_from, state))
            except Exception as err:
                results[i] = err
        if members:
            try:
                align_members(members)
            except ConfigError as err:
                for m in members:
                    results[m.index] = err
                return results
            note = budget_note(members[0].settings)
            if note:
                print(note)
            try:
                ctrl_c.release()
                _run(members, results, trainer_overrides)
            except BaseException as err:  # every unfinished run records it; the caller decides what it means
                status, stop, _ = stop_status(err, "each run's last checkpoint", "each run's last checkpoint resumes")
                first = str(checkpoint_path(members[0].run_dir))  # the signal's message names the first's
                for m in members:
                    if results[m.index] is None:
                        own = {k: v.replace(first, str(checkpoint_path(m.run_dir))) for k, v in stop.items()}
                        write_status(m.run_dir, status, **own)
                        results[m.index] = err
    return results


def own_checkpoint(run_dir: Path, checkpoint: Path) -> dict:
    """A member's run state, read before the group starts: a damaged checkpoint fails this seed alone (status
    ``failed``, its own way out), and the others go on."""
    try:
        state = read_run_state(checkpoint)
    except DamagedCheckpoint as err:
        message = (
            f"{err}. In a seed group checkpoint.resume=false restarts every seed; to restart this seed alone, delete "
            f"{RunDir(run_dir).checkpoint.parent} and rerun the same command (its unfinished partners then start "
            "over with it, so that the group resumes exactly)"
        )
        write_status(run_dir, "failed", error=f"DamagedCheckpoint: {message}")
        raise DamagedCheckpoint(message) from None
    if state.get("final_row") is not None:  # a group has no update left to run it in
        raise ConfigError(
            f"{run_dir} was stopped at its final evaluation as a run alone: finish it alone (the same command "
            "without hydra/launcher=seed_batch); a group then counts it as finished"
        )
    return state


def align_members(members: list[Member]) -> None:
    """Resume every member from one update boundary. Members save one after another, so a kill amid their writes
    leaves some one boundary ahead; trained together from there, each member's numbers would differ from the
    uninterrupted group's (a batch's composition changes its floating-point sums). Those ahead go back to the
    boundary the others saved: their previous checkpoint, or a fresh start where the others have none."""
    done = {m.index: m.resume_state["updates_done"] if m.resume_from else 0 for m in members}
    target = min(done.values())
    for m in members:
        if done[m.index] == target:
            continue
        previous = RunDir(m.run_dir).previous_checkpoint
        earlier = read_run_state(previous) if target and previous.exists() else None
        if target == 0:
            m.resume_from, m.resume_state = None, None
            clear_results(m.run_dir)
        elif earlier is not None and earlier["updates_done"] == target:
            os.replace(previous, m.resume_from)  # the boundary's checkpoint is the run's last again
            m.resume_state = earlier
        else:
            raise ConfigError(
                f"{m.run_dir} saved update {done[m.index]} and another seed of its group update {target}, and its "
                f"checkpoint of update {target} is gone: the group cannot resume exactly. checkpoint.resume=false "
                "reruns the group"
            )
        print(f"{m.run_dir}: back to update {target}, where every seed of its group saved (it had saved "
              f"{done[m.index]})")  # fmt: skip


def _run(members: list[Member], results: list, trainer_overrides: dict) -> None:
    start = time.time()
    base = None
    for m in members:
        pl.seed_everything(m.settings.seed, workers=True, verbose=False)  # as a run alone: its agent's initial weights
        agent = build_agent(m.settings, base=base, adapter_name=f"seed_group_{m.index}")
        base = (agent.group_base(), agent.scorer.tokenizer)
        m.module = build_module(agent, m.settings)
        m.rng = {"cpu": rng_state()}
        purge = None
        if m.resume_from is not None:
            state = m.resume_state
            truncate_csv(RunDir(m.run_dir).metrics, state["updates_done"])
            purge = state["env_steps"] + 1
            m.first_update = state["updates_done"]
            print(f"Resuming {m.run_dir} from update {state['updates_done']} ({state['env_steps']} env steps)")
        m.loggers = build_loggers(m.settings.trainer, m.run_dir, purge)
        m.module.metric_loggers = m.loggers
        write_status(m.run_dir, "running", resumed_from_update=m.first_update)
    for m in members:  # peft leaves only the active adapter trainable; every member trains its own
        for p in m.agent.policy_parameters():
            p.requires_grad_(True)
    scorer = getattr(members[0].agent, "scorer", None)
    if getattr(scorer, "trunk", None) is not None:  # the frozen trunk is the same for every member: one cache
        for m in members[1:]:
            m.agent.scorer.trunk = scorer.trunk
    group = SeedGroupModule(members, start)
    run = members[0].settings
    signals = tuple(run.checkpoint.requeue_signals or ())
    callbacks = [PreemptionCheckpoint(checkpoint_path(members[0].run_dir), signals)] if signals else []
    trainer = build_trainer(run, members[0].run_dir, loggers=[], callbacks=callbacks, **trainer_overrides)
    try:
        with signal_handlers_kept():
            trainer.fit(group)
    finally:  # the runs that finished or failed alone, also when something stopped the others
        for index, result in group.results.items():
            results[index] = result
        for m in members:
            for logger in m.loggers:
                logger.save()
