"""One training run: validate, build, fit (resuming from the run's checkpoint), save the adapter and heads, write the
summary. The run directory's ``status.json`` always says where the run stands: running, preempted, failed (and
why) or finished."""

from __future__ import annotations

import contextlib
import logging
import time
import warnings
from pathlib import Path

import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig
from tqdm.auto import tqdm

from twosome.agents.capabilities import Persistent
from twosome.config import ConfigError, RunSettings, budget_note, validate
from twosome.parallel import collectives as dist
from twosome.run_dir import RunDir
from twosome.training.build import build_agent, build_module, build_trainer, use_num_threads
from twosome.training.checkpointing import checkpoint_path
from twosome.training.lifecycle import (
    check_something_trained,
    finish_run,
    open_run,
    truncate_csv,
    write_status,
)
from twosome.training.run_state import read_run_state
from twosome.training.stopping import HeldCtrlC, evaluation_stops, signal_handlers_kept, stop_status
from twosome.training.weights import save_agent

log = logging.getLogger(__name__)

# Noise that says nothing about this run: the frozen LM is in eval mode on purpose (no dropout in scoring), and the
# run directory is created before Lightning's loggers see it.
for _message in (
    ".*module\\(s\\) in eval mode.*",
    ".*exists and is not empty.*",
    ".*LeafSpec.*",
    # Lightning's hint to prepend `srun` wherever srun is installed: runs here are one process (or ranks Lightning
    # launches itself); SLURM jobs from hydra/launcher=slurm already run under srun.
    ".*The `srun` command is available on your system but is not used.*",
):
    warnings.filterwarnings("ignore", message=_message)


def train(cfg: DictConfig, run_dir: Path | None = None, run: RunSettings | None = None, **trainer_overrides) -> dict:
    """The entry point, and the only reader of ``cfg``: ``run`` is the settings ``validate`` already parsed from it
    in this process (the command line's check before writing), or None to parse them here; either way once, and
    passed down in its place."""
    run = run if run is not None else validate(cfg)
    run_dir = Path(run_dir) if run_dir is not None else run_dir_of(cfg)
    with contextlib.ExitStack() as locks, HeldCtrlC() as ctrl_c:
        resume_from, finished, _ = open_run(run, run_dir, locks)
        if finished is not None:
            return finished
        note = budget_note(run)
        if note:
            print(note)
        return _train_with_status(run, run_dir, resume_from, ctrl_c, **trainer_overrides)


def run_dir_of(cfg: DictConfig) -> Path:
    """Hydra's output directory for the run, or, outside Hydra, ``<paths.runs_dir>/<run_name>``."""
    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(cfg.paths.runs_dir) / cfg.run_name


def _train_with_status(run: RunSettings, run_dir: Path, resume_from, ctrl_c: HeldCtrlC, **trainer_overrides) -> dict:
    """The run, with ``status.json`` saying how it stopped on every exit path (``stop_status``)."""
    try:
        ctrl_c.release()
        return _train(run, run_dir, resume_from, **trainer_overrides)
    except BaseException as err:
        status, details, stop = stop_status(err, f"the last checkpoint, {checkpoint_path(run_dir)}", _resumes(run_dir))
        write_status(run_dir, status, **details)
        # said, with what a rerun does; a SIGTERM outside an update only by its status
        if status == "interrupted" or (status == "preempted" and stop is err):
            print(f"{status.capitalize()}: {stop}")
        if stop is err:
            raise
        raise stop from err


def _resumes(run_dir: Path) -> str:
    """What a rerun continues from after a Ctrl-C that stopped the run at once."""
    ckpt, saved = checkpoint_path(run_dir), RunDir(run_dir).saved_evaluation
    if ckpt.exists():
        return f"the last checkpoint ({ckpt}) resumes"
    if saved.exists():
        return f"the evaluation's saved progress ({saved}) resumes"
    return "there is no checkpoint: it starts afresh"


def _train(run: RunSettings, run_dir: Path, resume_from: Path | None, **trainer_overrides) -> dict:
    pl.seed_everything(run.seed, workers=True, verbose=False)
    start = time.time()
    if not run.agent.train:  # its evaluation is the whole run, from here (a trained run says so once it resumes)
        write_status(run_dir, "running")
    agent = build_agent(run)
    module = build_module(agent, run)
    saved_evaluation = RunDir(run_dir).saved_evaluation
    if run.agent.train and resume_from is None:  # training afresh: no evaluation of an earlier run resumes
        saved_evaluation.unlink(missing_ok=True)
    module.save_evaluation(saved_evaluation, run.checkpoint.evaluation_every_s)
    if run.agent.train and not isinstance(agent, Persistent):
        raise TypeError(
            f"agent {run.agent.name!r} ({type(agent).__name__}) trains but cannot save its weights: implement save "
            "and load (twosome.agents.capabilities.Persistent), or set agent.train=false"
        )
    if run.agent.train:
        purge = None
        if resume_from is not None:
            state = read_run_state(resume_from)
            if state["seed_group"]:
                raise ConfigError(
                    f"{resume_from} was written by a seed group (hydra/launcher=seed_batch): resume it the same way "
                    "(the same command), or start afresh with checkpoint.resume=false"
                )
            # Stopped at its final evaluation: the last update's row is logged again with it (and once only)
            at_evaluation = state.get("final_row") is not None
            truncate_csv(RunDir(run_dir).metrics, state["updates_done"] - (1 if at_evaluation else 0))
            purge = state["env_steps"] + (0 if at_evaluation else 1)
            where = "at its final evaluation, after" if at_evaluation else "from"
            print(f"Resuming {run_dir} {where} update {state['updates_done']} ({state['env_steps']} env steps)")
        write_status(run_dir, "running", resumed_from_update=state["updates_done"] if resume_from else 0)
        trainer = build_trainer(run, run_dir, tb_purge_step=purge, **trainer_overrides)
        with signal_handlers_kept():
            trainer.fit(module, ckpt_path=str(resume_from) if resume_from else None)
        check_something_trained(run_dir, run, module.algorithm)
        digest, saved = save_agent(agent, run_dir)
    else:  # evaluation-only agents (random, zero-shot): the final evaluation is the whole run
        use_num_threads(run.trainer)
        episodes = run.eval.episodes + run.eval.final_sampled_episodes
        bar = tqdm(total=episodes, unit="episode", desc=f"{run.agent.name} evaluation", disable=dist.rank() != 0)
        with bar, evaluation_stops(module, tuple(run.checkpoint.requeue_signals or ())):
            module.evaluation_only(progress=bar.update)
        digest, saved = None, []
    return finish_run(run, run_dir, module, digest, saved, start)
