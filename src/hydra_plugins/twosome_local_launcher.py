"""``hydra/launcher=local``: submitit's local executor, with jobs that end with their launcher. Here, in
the ``hydra_plugins`` namespace, because Hydra instantiates launchers from there only.

submitit starts every job under a controller process meant to outlive the submitting one, and its jobs ignore
SIGTERM (``Bypassing signal SIGTERM``, its SLURM convention), so a launcher stopped by ``kill`` or killed outright
used to leave its jobs running, unseen. This launcher:

* on SIGTERM, SIGHUP or SIGINT, sends every running job SIGINT (Ctrl-C: it saves at the end of its update and stops,
  status ``interrupted``; a second signal stops them at once), waits for them, then exits naming the command that
  finishes the sweep;
* killed any other way (SIGKILL, the OOM killer), is watched by its jobs: each stops as on Ctrl-C within a second;
* lists, on a rerun, every job that did not finish, a job whose run directory is still in use by an earlier one
  included (``in use``: its PID and directory, from ``twosome.training.lifecycle.run_dir_lock``).

A terminal's Ctrl-C also reaches submitit's controllers, which kill their job a second later (submitit's own rule);
the job then resumes from its last periodic checkpoint.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

from twosome.processes import STOP_SIGNALS, command_line, descendants, process_identity, watch_process

try:
    from hydra_plugins.hydra_submitit_launcher import submitit_launcher
except ImportError:  # pip install -e '.[cluster]'; Hydra imports every hydra_plugins module at start-up
    submitit_launcher = None

JOB_COMMAND = "submitit.core._submit"  # how submitit starts a job's process (under its controller)


def _lock_holders(sweep_dir: Path) -> dict[int, Path]:
    """PID -> run directory, for the run directories of this sweep whose lock names a PID."""
    holders = {}
    for lock in sweep_dir.glob("*/.lock"):
        try:
            holders[int(lock.read_text().strip())] = lock.parent
        except (OSError, ValueError):
            continue
    return holders


class _Stopper:
    """The launcher's signal handler: SIGINT to every job process below it, now and, for jobs still starting, every
    half second until the sweep returns."""

    def __init__(self, sweep_dir: Path):
        self.sweep_dir = sweep_dir
        self.signum: int | None = None
        self.signalled: set[int] = set()
        self.done = threading.Event()

    def jobs(self) -> list[int]:
        return [pid for pid in descendants(os.getpid()) if JOB_COMMAND in command_line(pid)]

    def interrupt(self, pids, again: bool = False) -> None:
        for pid in pids:
            if again or pid not in self.signalled:
                try:
                    os.kill(pid, signal.SIGINT)
                except ProcessLookupError:
                    pass
                self.signalled.add(pid)

    def handle(self, signum, frame) -> None:
        name = signal.Signals(signum).name
        if self.signum is not None:  # a second signal: stop now
            sys.stderr.write(f"\n{name} again: stopping the jobs at once\n")
            self.interrupt(self.signalled, again=True)
            return
        self.signum = signum
        pids = self.jobs()
        holders = _lock_holders(self.sweep_dir)
        where = ", ".join(f"PID {pid} ({holders.get(pid, 'starting')})" for pid in pids) or "none running"
        sys.stderr.write(
            f"\n{name}: stopping the jobs of this sweep, each at the end of its update ({name} again: at once): "
            f"{where}\n"
        )
        sys.stderr.flush()
        self.interrupt(pids)
        threading.Thread(target=self.follow, name="stop-jobs", daemon=True).start()

    def follow(self) -> None:
        while not self.done.wait(0.5):
            self.interrupt(self.jobs())


def _stop_job(launcher: tuple[int, int]) -> None:
    sys.stderr.write(f"The launcher (PID {launcher[0]}) has ended: stopping this job at the end of its update\n")
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGINT)


class LocalLauncher(submitit_launcher.LocalLauncher if submitit_launcher else object):
    launcher: tuple[int, int] | None = None  # the launching process (process_identity), pickled into every job

    def launch(self, job_overrides, initial_job_idx):
        from twosome.training.sweep_summary import print_sweep_summary

        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        self.launcher = process_identity(os.getpid())
        stopper = _Stopper(sweep_dir)
        previous = {sig: signal.signal(sig, stopper.handle) for sig in STOP_SIGNALS}
        try:
            returns = super().launch(job_overrides, initial_job_idx)
        except Exception:
            if stopper.signum is None:
                raise
            returns = None  # a job stopped before it could report (submitit has no result for it)
        finally:
            stopper.done.set()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if stopper.signum is not None:
            print_sweep_summary(sweep_dir)
            raise SystemExit(
                f"The sweep stopped on {signal.Signals(stopper.signum).name}: its jobs have ended (above: how). To "
                f"finish it, rerun the same command with hydra.sweep.dir={sweep_dir}"
            )
        if any(r.status.name != "COMPLETED" for r in returns):  # Hydra then raises the first error only
            print_sweep_summary(sweep_dir)
        return returns

    def __call__(self, *args, **kwargs):
        """In the job's process: stop (as on Ctrl-C) when the launcher has ended, and answer the launcher's SIGINT
        even when started with SIGINT ignored (``nohup ... &`` in a script)."""
        if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, None):
            signal.signal(signal.SIGINT, signal.default_int_handler)
        if self.launcher is not None:
            launcher = self.launcher
            watch_process(launcher, lambda: _stop_job(launcher))
        return super().__call__(*args, **kwargs)
