"""Checkpoints that survive SIGKILL and preemption.

* ``AtomicCheckpointIO``: Lightning writes checkpoints through this plugin; the bytes go to a temporary file in the
  same directory, are flushed to disk, and replace the old checkpoint in one ``os.replace``. A kill at any moment
  leaves either the previous checkpoint or the new one, never half of one.
* ``PeriodicCheckpoint``: ``last.ckpt`` every ``every_updates`` PPO updates and after the last, at an update boundary
  (the only point where rollout, optimizers and environments agree), so a resumed run continues exactly.
* ``PreemptionCheckpoint``: the requeue signal (SLURM sends it before a time limit or a preemption), SIGTERM
  (``scancel``, ``scontrol requeue``, a node drain, preemption with a grace time) and SIGINT (Ctrl-C) only raise a
  flag; at the end of the running update the checkpoint is written, the job is requeued (under SLURM, on the requeue
  signal or a requeueing SIGTERM) and training stops. A second Ctrl-C stops at once (the last checkpoint resumes).
  During the final evaluation, which follows the last update's checkpoint, a signal stops the run once the step under
  way is saved (training/evaluation.py): the same command resumes at that step, and nothing trained is lost.
* ``evaluation_stops``: the same for a run that only evaluates (no training loop, so no Lightning handlers).
* ``signal_handlers_kept``: the handlers of the process put back after ``trainer.fit``, however it ends.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pickle
import re
import signal
import subprocess
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
import torch
from lightning_fabric.plugins.io.torch_io import TorchCheckpointIO
from pytorch_lightning.callbacks import Callback

from twosome.fileio import atomic_write_bytes, atomic_write_text, current_umask  # noqa: F401  (re-exported)
from twosome.parallel import collectives as dist
from twosome.run_dir import RunDir
from twosome.training.run_state import stored_run_state

log = logging.getLogger(__name__)


class AtomicCheckpointIO(TorchCheckpointIO):
    def save_checkpoint(self, checkpoint: dict[str, Any], path, storage_options: Any | None = None) -> None:
        buffer = io.BytesIO()
        torch.save(checkpoint, buffer)
        atomic_write_bytes(path, buffer.getvalue())


def checkpoint_path(run_dir: str | Path) -> Path:
    return RunDir(run_dir).checkpoint


class DamagedCheckpoint(RuntimeError):
    """A checkpoint that cannot be read (truncated or overwritten outside the suite)."""


def read_run_state(path: str | Path) -> dict:
    """The run state stored in a checkpoint (updates done, env steps), without building a trainer;
    ``seed_group``: whether a seed group wrote it (``training/seed_group.py``)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        return {**pickle.loads(stored_run_state(checkpoint)), "seed_group": "seed_group" in checkpoint}
    except Exception as err:
        raise DamagedCheckpoint(
            f"{path} cannot be read ({type(err).__name__}: {err}); the suite writes checkpoints atomically, so it was "
            "damaged or replaced outside it. checkpoint.resume=false starts the run afresh (deleting its results)"
        ) from err


def save_checkpoint(trainer: pl.Trainer, pl_module, path: Path) -> None:
    """Lightning's checkpoint at ``path``, or, for a module that writes its own (a seed group: one per member, each
    in its run directory), that module's."""
    own = getattr(pl_module, "save_checkpoints", None)
    if own is not None:
        own()
    else:
        trainer.save_checkpoint(path, weights_only=False)  # said: Lightning logs each default


class PeriodicCheckpoint(Callback):
    def __init__(self, path: str | Path, every_updates: int):
        self.path, self.every_updates = Path(path), int(every_updates)

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        done = pl_module.updates_done
        # After the last update whatever every_updates says: the final evaluation comes next, and may be stopped
        if done == pl_module.num_updates or (self.every_updates > 0 and done % self.every_updates == 0):
            save_checkpoint(trainer, pl_module, self.path)


class Preempted(Exception):
    """Training stopped on a signal after saving its checkpoint; the same command resumes it. ``signum``: the
    signal."""

    def __init__(self, message: str, signum: int | None = None):
        super().__init__(message)
        self.signum = signum


class Interrupted(Preempted):
    """Training stopped on Ctrl-C (SIGINT): after saving at the end of the update, or at once on a second Ctrl-C or
    outside the training loop (the last checkpoint resumes). The run's status is ``interrupted``."""

    def __init__(self, message: str):
        super().__init__(message, signum=signal.SIGINT)


class Requeued(SystemExit):
    """Training stopped after saving and the SLURM job was requeued: the requeued job resumes the run. A
    ``SystemExit``, as submitit's own requeue ends the job: neither Hydra nor submitit records a result for a job
    that is coming back, so the submitting process keeps waiting for it instead of reporting a failure."""


def slurm_job_id() -> str | None:
    """The id ``scontrol requeue`` takes for this job (``<array job>_<task>`` in an array), None outside SLURM."""
    if "SLURM_JOB_ID" not in os.environ:
        return None
    job = os.environ.get("SLURM_ARRAY_JOB_ID", os.environ["SLURM_JOB_ID"])
    if "SLURM_ARRAY_TASK_ID" in os.environ:
        job = f"{job}_{os.environ['SLURM_ARRAY_TASK_ID']}"
    return job


def slurm_requeued(job: str) -> bool:
    """Whether SLURM has requeued this running job (``scontrol requeue``, preemption, a node going down): its
    ``Restarts`` count is already above the one this run started with. ``scancel`` leaves it unchanged."""
    result = subprocess.run(["scontrol", "show", "job", job, "-o"], capture_output=True, text=True)
    restarts = re.search(r"\bRestarts=(\d+)", result.stdout)
    return restarts is not None and int(restarts.group(1)) > int(os.environ.get("SLURM_RESTART_COUNT", "0"))


@contextlib.contextmanager
def signal_handlers_kept(signals=(signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGUSR2)):
    """The handlers of ``signals`` as they were before, put back on leaving, however training ended. Needed around
    ``trainer.fit``: when training raises, Lightning's teardown runs after ``on_exception`` and reinstalls the
    handlers it found when training began, ``PreemptionCheckpoint``'s among them, so a later run in the same process
    (a notebook, an in-process sweep) would send its Ctrl-C to a finished run's callback and never stop."""
    main = threading.current_thread() is threading.main_thread()  # only the main thread has handlers
    before = {sig: signal.getsignal(sig) for sig in signals} if main else {}
    try:
        yield
    finally:
        for sig, handler in before.items():
            if handler is not None:  # None: set in C, which Python cannot put back
                signal.signal(sig, handler)


class PreemptionCheckpoint(Callback):
    """On ``signals`` (default SIGUSR1, Lightning's and ``#SBATCH --signal``'s convention, and SIGUSR2, submitit's
    timeout signal) and on SIGTERM (Lightning's handler records it): finish the update, save, then:

    * a requeue signal: a handler that was installed before ours (submitit's) is called and requeues the job;
      otherwise, inside a SLURM job, ``scontrol requeue``; the job ends with ``Requeued``;
    * SIGTERM inside a SLURM job: SLURM sends it on ``scontrol requeue``, preemption (``PreemptMode=REQUEUE``), a
      node going down, and on ``scancel``. In the first cases SLURM has already requeued the job when the signal
      arrives (its restart count went up), so the job ends with ``Requeued``; otherwise (``scancel``, a time limit
      without ``--signal``) it is not requeued: cancelling means stop;
    * otherwise (outside SLURM, or not requeued) training stops with ``Preempted``, a non-zero exit, and the same
      command resumes it.

    During the final evaluation (it follows the last update's checkpoint) these signals stop the run, as the same
    cases say, once the evaluation has saved the step under way (at once before its first step, or on a second
    signal); the same command resumes at that step. With several ranks the evaluation runs to its end instead (its
    episodes are collectives every rank joins; a handler cannot agree with the others).
    """

    def __init__(self, path: str | Path, signals: tuple[str, ...] = ("SIGUSR1", "SIGUSR2")):
        self.path = Path(path)
        self.signals = [getattr(signal, name) for name in signals]
        self.received: int | None = None
        self._previous: dict[int, Any] = {}
        self._sigterm_before_evaluation: Any = None

    def _handler(self, signum, frame) -> None:
        self.received = signum  # acted upon at the end of the running update

    def _interrupt_handler(self, signum, frame) -> None:
        """The first Ctrl-C asks for a stop at the end of the update; a second one stops now (KeyboardInterrupt)."""
        if self.received == signal.SIGINT:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        if self.received is None:
            self.received = signum
        if dist.rank() == 0:  # os.write: print is not safe inside a signal handler
            os.write(2, b"\nCtrl-C: saving at the end of this update, then stopping (Ctrl-C again: stop now)\n")

    def on_fit_start(self, trainer, pl_module) -> None:
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._handler)
        self._previous[signal.SIGINT] = signal.signal(signal.SIGINT, self._interrupt_handler)

    def on_fit_end(self, trainer, pl_module) -> None:
        self._restore()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._restore()

    def _restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous = {}
        if self._sigterm_before_evaluation is not None:  # Lightning's, which its teardown replaces in turn
            signal.signal(signal.SIGTERM, self._sigterm_before_evaluation)
            self._sigterm_before_evaluation = None

    def on_train_end(self, trainer: pl.Trainer, pl_module) -> None:
        """Before the module's own (the callbacks' hooks come first), which runs the final evaluation."""
        if pl_module.updates_done != pl_module.num_updates or dist.world_size() > 1:
            return
        sigterm = bool(getattr(trainer, "received_sigterm", False))
        if self.received is not None or sigterm:  # arrived after the last update's hook
            self._stop_in_evaluation(trainer, pl_module, self.received or signal.SIGTERM)

        def handler(signum, frame) -> None:
            stop_after_the_step(pl_module, signum, partial(self._stop_in_evaluation, trainer, pl_module))

        for sig in self.signals:
            signal.signal(sig, handler)
        signal.signal(signal.SIGINT, handler)
        self._sigterm_before_evaluation = signal.signal(signal.SIGTERM, handler)

    def _stop_in_evaluation(self, trainer: pl.Trainer, pl_module, signum: int, progress: Path | None = None) -> None:
        """``progress``: where the evaluation saved the step it reached, if it did."""
        name = signal.Signals(signum).name
        where = f"{name} during the final evaluation, after the last update ({pl_module.updates_done})"
        saved = f", its progress ({progress}) at the step it reached" if progress is not None else ""
        log.warning("%s: the checkpoint of that update (%s) resumes at the evaluation%s", where, self.path, saved)
        self._stop(trainer, signum, f"{where}: checkpoint {self.path}{saved}")

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module, outputs, batch, batch_idx) -> None:
        # SIGTERM: Lightning's own handler sets ``received_sigterm`` (and forwards it to the ranks it launched); left
        # alone, Lightning would raise SIGTERMException, a SystemExit with status 0, after this hook, without saving.
        sigterm = bool(getattr(trainer, "received_sigterm", False))
        # Ranks may get the signal at different moments: all stop after the same update (saving is a collective).
        if not dist.any_true(self.received is not None or sigterm):
            return
        signum = self.received or (signal.SIGTERM if sigterm else self.signals[0])
        self.received = None
        save_checkpoint(trainer, pl_module, self.path)
        name = signal.Signals(signum).name
        log.warning("%s received: checkpoint saved at update %d (%s)", name, pl_module.updates_done, self.path)
        self._stop(trainer, signum, f"{name} at update {pl_module.updates_done}: checkpoint {self.path}")

    def _stop(self, trainer: pl.Trainer, signum: int, stopped: str) -> None:
        """Ends the run after its checkpoint, as the signal asks (see the class); ``stopped``: what happened."""
        previous = self._previous.get(signum)
        self._restore()
        stop_as_the_signal_asks(signum, previous, stopped, trainer.is_global_zero)


def stop_as_the_signal_asks(signum: int, previous: Any, stopped: str, global_zero: bool = True) -> None:
    """Raises what ends a run that saved what resumes it, as the signal ``signum`` asks (``PreemptionCheckpoint``):
    Ctrl-C ``Interrupted``; a requeue signal, through the handler it had before (``previous``: submitit's requeues) or
    ``scontrol requeue`` inside a SLURM job, ``Requeued``; SIGTERM inside a SLURM job ``Requeued`` if SLURM requeued
    it; otherwise ``Preempted``. ``stopped``: what happened, for the message."""
    if signum == signal.SIGINT:  # a person asked to stop: never requeued
        raise Interrupted(f"{stopped}; rerun the same command to resume")
    if callable(previous):  # submitit's handler requeues the job and exits (SystemExit)
        try:
            previous(signum, None)
        except SystemExit as exit_:
            raise Requeued(f"{stopped}; the job was requeued by submitit and resumes from it") from exit_
    job = slurm_job_id()
    if job is not None and global_zero:
        if slurm_requeued(job):
            raise Requeued(f"{stopped}; SLURM requeued job {job} and it resumes from it")
        if signum != signal.SIGTERM:
            result = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True)
            if result.returncode == 0:
                log.warning("scontrol requeue %s: done", job)
                raise Requeued(f"{stopped}; SLURM job {job} was requeued and resumes from it")
            log.warning("scontrol requeue %s: %s", job, result.stderr.strip())
        raise Preempted(f"{stopped}; SLURM job {job} was not requeued: resubmit it to resume", signum=signum)
    raise Preempted(f"{stopped}; rerun the same command to resume", signum=signum)


def stop_after_the_step(module, signum: int, stop: Callable[[int, Path | None], None]) -> None:
    """A stop signal's handler during an evaluation: the evaluation running in ``module`` saves the step under way,
    then calls ``stop(signum, <where it saved>)``. With no evaluation saving at a step, or on a second signal,
    ``stop(signum, None)`` at once."""
    saved = getattr(module, "evaluation_running", None)
    if saved is None or saved.pending_stop is not None:
        stop(signum, None)
        return
    saved.stop_at_next_step(partial(stop, signum, saved.path))
    if signum == signal.SIGINT:  # os.write: print is not safe inside a signal handler
        os.write(2, b"\nCtrl-C: saving the evaluation at this step, then stopping (Ctrl-C again: stop now)\n")


@contextlib.contextmanager
def evaluation_stops(module, requeue_signals: tuple[str, ...]):
    """An evaluation-only run's stop signals (``requeue_signals``, SIGTERM, Ctrl-C), handled as a trained run's final
    evaluation handles them: the evaluation saves the step under way, then the run stops as ``PreemptionCheckpoint``
    says (requeued under SLURM). A second signal, or one outside the episodes, stops at once; the last save
    resumes. Without it SIGTERM and SIGUSR1 killed such a run with no status, and SLURM never requeued it."""
    signals = [getattr(signal, name) for name in requeue_signals] + [signal.SIGTERM, signal.SIGINT]
    if threading.current_thread() is not threading.main_thread():  # only the main thread has handlers
        yield
        return
    # never over a handler Python cannot put back (one set in C reads None)
    previous = {sig: handler for sig in signals if (handler := signal.getsignal(sig)) is not None}

    def stop(signum: int, progress: Path | None) -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        name = signal.Signals(signum).name
        if progress is not None:
            stopped = f"{name} during the evaluation: its progress ({progress}) saved at the step it reached"
        else:
            saved = module.saved_evaluation
            last = saved is not None and saved[0].exists()
            resumes = f"the progress it last saved ({saved[0]}) resumes" if last else "it starts afresh"
            stopped = f"{name} during the evaluation: stopped at once; {resumes}"
        requeue = signum not in (signal.SIGTERM, signal.SIGINT)  # only a requeue signal's handler is called
        stop_as_the_signal_asks(signum, previous.get(signum) if requeue else None, stopped)

    def handler(signum, frame) -> None:
        stop_after_the_step(module, signum, stop)

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, handler_before in previous.items():
            signal.signal(sig, handler_before)
