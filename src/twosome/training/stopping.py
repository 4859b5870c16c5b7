"""How a run stops, in one place: the exceptions that say why (``Preempted``, ``Interrupted``, ``Requeued``), the
signal handlers that raise them where the same command resumes, and the status each stop leaves in ``status.json``
(``stop_status``), the same for a run alone and for a seed group.

* ``PreemptionCheckpoint``: the requeue signal (SLURM sends it before a time limit or a preemption), SIGTERM
  (``scancel``, ``scontrol requeue``, a node drain, preemption with a grace time) and SIGINT (Ctrl-C) only raise a
  flag; at the end of the running update the checkpoint is written, the job is requeued (under SLURM, on the requeue
  signal or a requeueing SIGTERM) and training stops. A second Ctrl-C stops at once (the last checkpoint resumes).
  During the final evaluation, which follows the last update's checkpoint, a signal stops the run once the step under
  way is saved (training/evaluation.py): the same command resumes at that step, and nothing trained is lost.
* ``evaluation_stops``: the same for a run that only evaluates (no training loop, so no Lightning handlers).
* ``HeldCtrlC``: Ctrl-C held while a run takes its directory, delivered where its stop handling begins.
* ``signal_handlers_kept``: the handlers of the process put back after ``trainer.fit``, however it ends.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import subprocess
import threading
import traceback
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytorch_lightning as pl
from pytorch_lightning.callbacks import Callback
from pytorch_lightning.utilities.exceptions import SIGTERMException

from twosome.parallel import collectives as dist
from twosome.training.checkpointing import save_checkpoint

log = logging.getLogger(__name__)


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


class HeldCtrlC:
    """Ctrl-C held while a run takes its directory (lock, Hydra records, config), then delivered where the run's
    own stop handling begins (``release``): a Ctrl-C in between used to escape as a bare KeyboardInterrupt, which
    Hydra does not report, so the run's status and its sweep's record went unwritten. Taking the directory never
    waits (a busy lock refuses at once), so nothing is held for long."""

    def __enter__(self) -> HeldCtrlC:
        self.caught = False
        # main thread only (only it has handlers), and never over a handler Python cannot put back (set in C: None)
        main = threading.current_thread() is threading.main_thread()
        self.installed = main and signal.getsignal(signal.SIGINT) is not None
        if self.installed:
            self.previous = signal.signal(signal.SIGINT, self._hold)
        return self

    def _hold(self, signum, frame) -> None:
        self.caught = True

    def release(self) -> None:
        """Restore the previous handler; a Ctrl-C held so far reaches it now."""
        if not self.installed:
            return
        signal.signal(signal.SIGINT, self.previous)
        self.installed = False
        if self.caught:
            signal.raise_signal(signal.SIGINT)

    def __exit__(self, kind, error, tb) -> None:
        if kind is None:
            self.release()  # e.g. a finished run: the Ctrl-C arrives as if after it
        elif self.installed:  # an error already stops the run, with its own record: it stands
            signal.signal(signal.SIGINT, self.previous)
            self.installed = False


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


def stop_status(err: BaseException, stopped_at: str, resumes: str) -> tuple[str, dict, BaseException]:
    """What a run records when ``err`` stops it: its status, the status's details, and the exception the run ends
    with (``err``, or for a stop Lightning or Python raised, the suite's own, saying how to go on). ``stopped_at``:
    the checkpoint a SIGTERM outside an update leaves (Lightning's own exit would have status 0); ``resumes``: what
    continues after a Ctrl-C that stopped at once (outside the training loop, or a second one)."""
    if isinstance(err, Interrupted):
        return "interrupted", {"reason": str(err)}, err
    if isinstance(err, (Preempted, Requeued)):
        return "preempted", {"reason": str(err)}, err
    if isinstance(err, SIGTERMException):
        reason = f"SIGTERM: stopped at {stopped_at}"
        return "preempted", {"reason": reason}, Preempted(f"{reason}; rerun the same command to resume", signal.SIGTERM)
    # Lightning's bare sys.exit(1) after a Ctrl-C it caught (a second one in training, or one while the default LM is
    # built): the Ctrl-C it was
    if isinstance(err, KeyboardInterrupt) or (
        isinstance(err, SystemExit) and isinstance(err.__context__, KeyboardInterrupt)
    ):
        reason = f"Ctrl-C: stopped at once; {resumes}"
        return "interrupted", {"reason": reason}, Interrupted(f"{reason}; rerun the same command to continue")
    return "failed", {"error": f"{type(err).__name__}: {err}", "traceback": traceback.format_exc()}, err
