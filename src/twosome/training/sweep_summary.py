"""A Hydra callback that keeps ``<sweep dir>/sweep_summary.csv`` up to date: one row per job, with its status
(finished, failed, preempted, interrupted, or ``in use``: an earlier job still runs in its directory, its PID in the
error), its overrides, the error that stopped it and its final evaluation.

Hydra runs every job of a sweep even when some fail (each job's exception is caught and reported at the end), so
one failing job loses none of the others; this file says which failed and why without reading logs. Each job
writes its own record (``.jobs/<job dir>.json``) and rebuilds the table from all records, so jobs running at the
same time on a cluster never write the same record.

A job stopped by SIGTERM or Ctrl-C (``Preempted`` with ``signum`` SIGTERM or SIGINT) ends the whole sweep when its
jobs run in this process (Hydra's basic launcher): the signal asks the process to stop, so the remaining jobs are not
started; the table is written and the process exits non-zero, saying how to finish the sweep (the same command with
the same ``hydra.sweep.dir``: finished jobs return at once, the stopped one resumes from its checkpoint).
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig

from twosome.fileio import DirectoryInUse, atomic_write_bytes, atomic_write_text
from twosome.run_dir import RunDir

COLUMNS = ["job", "status", "overrides", "error", "eval/episodic_return", "eval/success_rate", "env_steps", "run_dir"]


class Refused:
    """What a sweep job the suite refused before it ran returns (its config, or its directory in use): the job ends
    without an exception, so Hydra prints no traceback around the refusal's one line; the sweep still exits non-zero
    (``SweepSummary.on_multirun_end``)."""

    def __init__(self, error: Exception) -> None:
        self.error = error


def _job_record(config: DictConfig, job_return: JobReturn) -> dict[str, Any]:
    run_dir = Path(config.hydra.runtime.output_dir)
    record: dict[str, Any] = {
        "job": int(config.hydra.job.num),
        "overrides": " ".join(job_return.overrides or []),
        "run_dir": str(run_dir),
        "error": "",
        "ended_at": time.time(),  # in the job's record only (not a column): which command's job it was
    }
    run = RunDir(run_dir)
    run_status = run.read_status()
    refused = isinstance(job_return._return_value, Refused)
    if job_return.status == JobStatus.COMPLETED and not refused:
        record["status"] = "finished"
        if run.summary.exists():
            summary = run.read_summary()
            record.update({k: summary.get(k) for k in ("eval/episodic_return", "eval/success_rate", "env_steps")})
    else:
        error = job_return._return_value.error if refused else job_return._return_value
        record["refused"] = refused  # in the job's record only: not a column
        stopped = run_status.get("status") in ("preempted", "interrupted")
        record["status"] = run_status["status"] if stopped else "failed"
        if isinstance(error, DirectoryInUse):  # an earlier job on this directory still runs: not this one's failure
            record["status"] = "in use"
        record["error"] = f"{type(error).__name__}: {error}".replace("\n", " ")[:500]
    return record


def write_sweep_summary(sweep_dir: str | Path):
    """Rebuild the table (a pandas DataFrame) from the job records written so far."""
    import pandas as pd  # here: Hydra builds this callback before every command, --help and config errors included

    sweep_dir = Path(sweep_dir)
    records = [json.loads(p.read_text()) for p in sorted((sweep_dir / ".jobs").glob("*.json"))]
    table = pd.DataFrame(records, columns=COLUMNS).sort_values(["job", "run_dir"], ignore_index=True)
    atomic_write_text(sweep_dir / "sweep_summary.csv", table.to_csv(index=False))
    return table


class SweepSummary(Callback):
    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        record = _job_record(config, job_return)
        sweep_dir = Path(config.hydra.sweep.dir)
        # One record per job directory: several multiruns may share a sweep dir (a study's script, one sweep per arm).
        name = Path(record["run_dir"]).name
        atomic_write_text(sweep_dir / ".jobs" / f"{name}.json", json.dumps(record))
        table = write_sweep_summary(sweep_dir)
        if record["status"] != "finished":  # said now: Hydra skips on_multirun_end when a job failed
            failed = int((table["status"] != "finished").sum())
            print(
                f"Job {record['job']} {record['status']}: {record['error']}\n"
                f"Sweep summary ({len(table)} jobs so far, {failed} not finished): {sweep_dir / 'sweep_summary.csv'}"
            )
            error = job_return._return_value
            in_process = config.hydra.launcher._target_.endswith("BasicLauncher")
            signum = getattr(error, "signum", None)
            if in_process and signum in (signal.SIGTERM, signal.SIGINT):
                name = "Ctrl-C" if signum == signal.SIGINT else "SIGTERM"
                raise SystemExit(
                    f"The sweep stopped on {name} during job {record['job']}; the jobs after it were not started. "
                    f"To finish it, rerun the same command with hydra.sweep.dir={sweep_dir}"
                )

    def on_multirun_start(self, config: DictConfig, **kwargs) -> None:
        """Keep the sweep's ``multirun.yaml`` as it is: Hydra's sweeper writes this command's over it next, and a
        command whose every job is refused (another command runs them) must not leave it describing itself."""
        self.started = time.time()
        previous = Path(config.hydra.sweep.dir) / "multirun.yaml"
        self.previous = previous.read_bytes() if previous.is_file() else None

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        sweep_dir = Path(config.hydra.sweep.dir)
        print_sweep_summary(sweep_dir)
        jobs = sweep_dir / ".jobs"
        records = [json.loads(p.read_text()) for p in sorted(jobs.glob("*.json"))] if jobs.is_dir() else []
        mine = [r for r in records if r.get("ended_at", 0) >= getattr(self, "started", float("inf"))]
        refused = [r for r in mine if r.get("refused")]
        if refused and len(refused) == len(mine) and getattr(self, "previous", None) is not None:
            atomic_write_bytes(sweep_dir / "multirun.yaml", self.previous)
        if refused:
            raise SystemExit(1)  # a job of this command was refused: its line is above


def print_sweep_summary(sweep_dir: str | Path) -> None:
    """The table's count and one line per job that did not finish (also said by launchers whose jobs run in other
    processes, where Hydra, on a failure, names only the first)."""
    sweep_dir = Path(sweep_dir)
    if not (sweep_dir / ".jobs").exists():
        return
    table = write_sweep_summary(sweep_dir)
    failed = table[table["status"] != "finished"]
    print(f"Sweep summary: {len(table) - len(failed)}/{len(table)} jobs finished ({sweep_dir / 'sweep_summary.csv'})")
    for _, row in failed.iterrows():
        print(f"  job {row['job']} {row['status']}: {row['overrides']}: {row['error']}", flush=True)
