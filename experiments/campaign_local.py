"""A campaign on this machine: a plan's runs, a few at a time, each evaluated and archived as soon as it finishes.

    python experiments/campaign.py local studies/smollm2_cpu/plan.yaml --budget-s 9000
    python experiments/campaign.py local studies/smollm2_cpu/plan.yaml --dry-run   # the jobs, in order

A job is one seed of one sweep: it trains (``src/run.py`` into ``multirun/campaigns/<plan>/<sweep>/s<seed>``), then
runs the sweep's ``after`` steps on the finished run (evaluations that need its adapter, such as unseen tasks or
language retention, whose outputs go beside its archived raw data), then copies the run's raw data into
``data/<archive>/<run_name>/`` beside the plan (``analysis/archive_runs.py``). ``parallel`` jobs run at a time, in
plan order.
When the budget is nearly spent, or on SIGTERM, SIGHUP or Ctrl-C, every job is told to stop: a training run saves
at the end of its update, an evaluation step is dropped and redone next time. Calling the same command again
continues: a job whose archive holds its summary, with the plan's settings, and every ``after`` output is done and
skipped (so is one whose run, which an ``after`` step would read, is no longer on this machine: it is said); one
that was stopped resumes from its checkpoint. A plan whose archive holds its runs, or their other seeds, with other
settings is refused before anything runs. The adapters stay on this machine; everything a table needs is archived.
"""

from __future__ import annotations

import functools
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from twosome.processes import Stopped, attached_child, clock, run_attached, supervise
from twosome.run_dir import SUMMARY, RunDir

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Job:
    """One seed of one sweep: where it trains, and what it leaves in the archive when done."""

    plan: object  # campaign.Plan
    sweep: object  # campaign.Sweep
    seed: int
    root: Path  # where sweeps run
    data: Path  # the study's data/ (beside the plan)

    @property
    def name(self) -> str:
        return f"{self.sweep.name}/s{self.seed}"

    @property
    def run_dir(self) -> Path:
        return self.root / self.plan.name / self.sweep.name / f"s{self.seed}"

    def trained(self) -> bool:
        return RunDir(self.run_dir).summary.is_file()

    def archived_dir(self) -> Path | None:
        """The run's folder under the study's data/ (named by its run name), once it has trained; where the run
        directory is
        gone (a new machine, a cleaned checkout), the archived run of this seed: the archive is the record."""
        if self.trained():
            return self.data / self.sweep.archive / RunDir(self.run_dir).read_summary()["run_name"]
        if self.run_dir.exists():
            return None  # training, or stopped: it finishes before it is archived again
        names = run_names(self.plan.common, self.sweep.overrides, self.sweep.seeds)
        return self.data / self.sweep.archive / names[self.seed]

    def settings_conflict(self) -> str | None:
        """Why this job's run, as the plan composes it, does not belong in its archive: the run archived under its
        name, or another seed of it, has other settings (``archive_runs.study_conflict``); None when it belongs."""
        from archive_runs import study_conflict  # analysis/ is on sys.path (campaign.py puts it there)

        out = self.data / self.sweep.archive
        if not out.is_dir():
            return None
        names = run_names(self.plan.common, self.sweep.overrides, self.sweep.seeds)
        return study_conflict(planned_config(self.plan.common, self.sweep.overrides, self.sweep.seeds, self.seed),
                              names[self.seed], out)  # fmt: skip

    def status(self) -> str:
        """``done``; ``archived; after step ... cannot run ...`` (done as far as this machine can take it: its run,
        whose adapter an after step reads, is gone, and training it again would redo hours to replace a finished
        run); ``other settings: ...`` (the archive holds this run or its other seeds with other settings than the
        plan's: never run into it); ``trained`` or ``to run``."""
        conflict = self.settings_conflict()
        if conflict is not None:
            return f"other settings: {conflict}"
        target = self.archived_dir()
        archived = target is not None and (target / SUMMARY).is_file()
        if archived and set(self.sweep.summary_keys) <= RunDir(target).read_summary().keys():
            missing = [step["name"] for step in self.sweep.after if not (target / step["creates"]).exists()]
            if not missing:
                return "done"
            if not self.run_dir.exists():
                return f"archived; after step {', '.join(missing)} cannot run (its run is not on this machine)"
        return "trained" if self.trained() else "to run"

    def done(self) -> bool:
        """Archived with the plan's settings (the job's last act, after every step finished), with every step's
        output (or, its run gone from this machine, as many as were made), and its summary holds the sweep's
        ``summary_keys``."""
        return self.status().startswith(("done", "archived;"))

    def train_command(self, extra: list[str]) -> list[str]:
        overrides = [*self.plan.common, *self.sweep.overrides, f"seed={self.seed}"]
        return [sys.executable, str(ROOT / "src" / "run.py"), *overrides, f"hydra.run.dir={self.run_dir}", *extra]

    def step_command(self, step: dict) -> list[str]:
        values = {
            "python": sys.executable,
            "run": relative(self.run_dir),  # the outputs name it: no machine's absolute path in the archive
            "data": relative(self.archived_dir()),
            "seed": self.seed,
        }
        return [part.format(**values) for part in step["run"].split()]


def composed(overrides: list[str]):
    """The run config of these overrides, as ``src/run.py`` composes it; a plan whose overrides do not compose (a
    typo, a group option that does not exist) ends the command with Hydra's one line, not its traceback."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    try:
        with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
            return compose("train", overrides=overrides)
    except HydraException as err:
        cause = str(err.__cause__ or "").splitlines()[:1]  # OmegaConf's first line; the rest is its internals
        said = " ".join(" ".join([str(err), *cause]).split())
        raise SystemExit(f"the plan's overrides {' '.join(overrides)} do not compose: {said}") from None


@functools.cache
def run_names(common: tuple[str, ...], overrides: tuple[str, ...], seeds: tuple[int, ...]) -> dict[int, str]:
    """Each seed's run name as ``src/run.py`` will name it, composed from the config (once per sweep where, as by
    default, names differ only by their ``-s<seed>`` ending)."""
    name = composed([*common, *overrides, f"seed={seeds[0]}"]).run_name
    if name.endswith(f"-s{seeds[0]}"):
        return {s: f"{name.removesuffix(f'-s{seeds[0]}')}-s{s}" for s in seeds}
    return {s: composed([*common, *overrides, f"seed={s}"]).run_name for s in seeds}


@functools.cache
def composed_config(common: tuple[str, ...], overrides: tuple[str, ...], seed: int) -> str:
    """The config.yaml a seed's run writes (its resolved config), composed from the plan."""
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(composed([*common, *overrides, f"seed={seed}"]), resolve=True)


def planned_config(common: tuple[str, ...], overrides: tuple[str, ...], seeds: tuple[int, ...], seed: int) -> str:
    """``composed_config`` of a seed, composed twice per sweep where, as by default, its seeds' configs differ only
    in their seed and name (which the archive's comparison leaves aside)."""
    from archive_runs import SEED_KEYS, differences

    first, last = composed_config(common, overrides, seeds[0]), composed_config(common, overrides, seeds[-1])
    if seed == seeds[-1] or differences(first, last, SEED_KEYS):
        return composed_config(common, overrides, seed)
    return first


def relative(path: Path) -> str:
    """``path`` relative to the checkout the commands run in (``ROOT``), where it lies inside it."""
    try:
        return str(path.resolve().relative_to(ROOT.resolve()))
    except ValueError:
        return str(path)


def jobs_of(plan, root: Path, data: Path) -> list[Job]:
    return [Job(plan, sweep, seed, root, data) for sweep in plan.sweeps for seed in sweep.seeds]


def holder_alive(run_dir: Path) -> bool:
    """Whether the process named in the run's lock file (``directory_lock`` writes its PID) is alive; the lock itself
    is not taken, so a status never makes a starting run refuse its directory."""
    try:
        pid = int((run_dir / ".lock").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def at_final_evaluation(checkpoint: Path, total: int) -> bool:
    """Whether the run's checkpoint is its last update's, saved before its final evaluation (which it resumes at)."""
    from twosome.training.run_state import DamagedCheckpoint, read_run_state

    try:
        state = read_run_state(checkpoint) if checkpoint.is_file() else {}
    except DamagedCheckpoint:  # being replaced: the next status reads it
        return False
    return state.get("updates_done") == total and state.get("final_row") is not None


# A tqdm frame of an evaluation in a job's log: "final evaluation:  78%|####  | 84/108 [28:33<12:18, 30.79s/episode"
EVALUATION_FRAME = re.compile(
    r"(?P<what>[A-Za-z][\w ]*?):\s+\d+%\|[^|]*\|\s*(?P<done>\d+)/(?P<total>\d+) \[[\d:]+<(?P<left>[\d:]+|\?)"
)


def evaluation_progress(log: Path, fresh_s: float = 300) -> str | None:
    """How far an evaluation in the job's log has come ("generalization: 21 of 150 episodes, about 61 min left"),
    read from its last progress frame; None when the log is older than ``fresh_s`` (its process may be gone) or its
    last frame is not an evaluation's."""
    try:
        stat = log.stat()
        if time.time() - stat.st_mtime > fresh_s:
            return None
        with open(log, "rb") as f:
            f.seek(max(stat.st_size - 4096, 0))
            frames = re.split(r"[\r\n]", f.read().decode(errors="replace"))
    except OSError:
        return None
    match = next((m for frame in reversed(frames) if (m := EVALUATION_FRAME.match(frame.strip()))), None)
    if match is None or match["what"].startswith("Epoch"):  # training: the metrics say more (where_it_stands)
        return None
    line = f"{match['what']}: {match['done']} of {match['total']} episodes"
    if match["left"] != "?":  # tqdm's M:SS or H:MM:SS
        seconds = sum(int(v) * 60**i for i, v in enumerate(reversed(match["left"].split(":"))))
        line += f", about {seconds / 60:.0f} min left"
    return line


def where_it_stands(job: Job) -> str | None:
    """One line on an unfinished job that has a run directory here: its update out of the run's, the minutes left
    at the pace of its last updates (final evaluation not counted), that an evaluation-only run is evaluating, or
    which after steps remain; with the episodes an evaluation under way has done (its log's last progress frame).
    None otherwise."""
    import pandas as pd

    from twosome.checked import settings
    from twosome.config import RolloutConfig
    from twosome.config.run_config import load_run_config

    run = RunDir(job.run_dir)
    if not run.config.is_file() or job.done():  # (done() may compose the sweep's config: the cheap test first)
        return None
    progress = evaluation_progress(job.run_dir.parent / f"s{job.seed}.log")
    if job.trained():
        todo = [s["name"] for s in job.sweep.after if not (job.run_dir / f".after-{s['name']}.done").exists()]
        line = f"trained; after step {', '.join(todo)} to run" if todo else "trained; to archive"
        return line + (f" ({progress})" if todo and progress else "")
    cfg = load_run_config(run.config)
    if not cfg.get("agent", {}).get("train", True):  # random, zero-shot: the run is its evaluation, started afresh
        if holder_alive(job.run_dir):
            return f"evaluating: an evaluation-only run ({progress or 'its log shows the episodes done'})"
        return "stopped during its evaluation (an evaluation-only run): the next call runs it again"
    total = settings(cfg, "rollout", RolloutConfig).num_updates
    metrics = pd.read_csv(run.metrics) if run.metrics.is_file() and run.metrics.stat().st_size else pd.DataFrame()
    done = int(metrics["update"].max()) if "update" in metrics and metrics["update"].notna().any() else 0
    line = f"update {done} of {total}"
    evaluating = done == total - 1 and at_final_evaluation(run.checkpoint, total)  # its row waits for it
    if evaluating:
        episodes = progress.removeprefix("final evaluation: ") if progress else None
        line = f"final evaluation, after update {total} of {total}" + (f" ({episodes})" if episodes else "")
    elif done and {"charts/rollout_seconds", "charts/update_seconds"} <= set(metrics):
        pace = (metrics["charts/rollout_seconds"] + metrics["charts/update_seconds"]).dropna().tail(4).median()
        line += f", {pace / 60:.1f} min per update, about {(total - done) * pace / 60:.0f} min of training left"
    if holder_alive(job.run_dir):
        return f"{'evaluating' if evaluating else 'training'}: {line}"
    why = run.read_status().get("status", "not started")
    if why == "running":  # its process is gone without a word: killed, or its machine stopped
        why = "ended without saving its status (killed?)"
    return f"{why} at {line}: the next call resumes it from its last checkpoint"


def pinned_environment(root: Path = ROOT) -> dict[str, str]:
    """The environment of a job's commands: ``root``'s ``src/`` first on the module path. A worktree pinned at a
    commit that shares the main checkout's virtualenv would otherwise run its ``python -m twosome...`` after steps
    on the code the virtualenv's editable install points to: the main checkout's, as it is being edited."""
    paths = [str(root / "src"), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def attached_to(log) -> dict:
    """How a job runs its commands: in this checkout, on its code, writing to the job's log."""
    return dict(cwd=ROOT, env=pinned_environment(), stdout=log, stderr=subprocess.STDOUT)


def run_job(job: Job, extra: list[str], log) -> int:
    """Train, evaluate and archive one job (in this process, its commands as attached children); 0 when done."""
    from archive_runs import archive  # analysis/ is on sys.path (campaign.py puts it there)

    if not job.trained():
        log.write(f"\n$ {' '.join(job.train_command(extra)[1:])}\n")
        log.flush()
        code = run_attached(job.train_command(extra), **attached_to(log))
        if code != 0 or not job.trained():
            return code or 1
    target = job.archived_dir()
    for step in job.sweep.after:
        marker = job.run_dir / f".after-{step['name']}.done"  # a stopped step may have written part of its output
        if marker.exists():
            continue
        log.write(f"\n$ {' '.join(job.step_command(step))}\n")
        log.flush()
        code = run_attached(job.step_command(step), **attached_to(log))
        if code != 0 or not (target / step["creates"]).exists():
            log.write(f"after step {step['name']!r} ended with {code} and did not create {step['creates']}\n")
            return code or 1
        marker.touch()
    for lock in target.rglob(".lock"):  # the evaluation tools' locks: not data
        lock.unlink()
    archive(job.run_dir, job.data / job.sweep.archive)
    return 0


def job_main(plan, root: Path, data: Path, sweep_name: str, seed: int, extra: list[str]) -> int:
    """The body of one job's process (``campaign.py job``): exit 0 done, 3 stopped, 1 failed."""
    sweep = next(s for s in plan.sweeps if s.name == sweep_name)
    job = Job(plan, sweep, seed, root, data)
    job.run_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(job.run_dir.parent / f"s{seed}.log", "a") as log:
        try:
            return 0 if run_job(job, extra, log) == 0 else 1
        except Stopped as stop:
            log.write(f"\n{stop}\n")
            return 3


def job_status(returncode: int, stopped: bool) -> str:
    """What a job's exit status means. Once told to stop: a job the stop reached before it could catch it ran nothing,
    and one killed after the grace (its update outlasted it) left its run to save at the end of that update (the
    kernel passes the run SIGTERM as the job dies): both resume on the next call, neither failed."""
    if returncode == 0:
        return "done"
    if returncode == 3 or (stopped and returncode in (-signal.SIGTERM, 128 + signal.SIGTERM)):
        return "stopped"
    if stopped and returncode in (-signal.SIGKILL, 128 + signal.SIGKILL):
        return "stopped (killed after the grace; its run saves at the end of its update)"
    return "failed"


def run_local(plan, root: Path, data: Path, budget_s: float, grace_s: float, min_start_s: float,
              extra: list[str], campaign_py: Path) -> int:  # fmt: skip
    """Run the plan's unfinished jobs, ``plan.parallel`` at a time, until they end or the budget is nearly spent;
    return 0 when the plan is complete, 3 when jobs remain (call again), 1 when a job failed."""
    start = time.monotonic()
    deadline = start + budget_s - grace_s
    states = [(job, job.status()) for job in jobs_of(plan, root, data)]
    refused = [f"{job.name}: {state}" for job, state in states if state.startswith("other settings")]
    if refused:  # a try-out whose archive names a study of other settings: nothing of it goes there
        raise SystemExit(
            f"{plan.name}: {len(refused)} job(s) would archive runs of other settings than the runs "
            "archived there (give the plan an archive of its own):\n  " + "\n  ".join(refused)
        )
    for job, state in states:
        if state.startswith("archived;"):
            print(f"{job.name}: {state}", flush=True)
    todo = [job for job, state in states if not state.startswith(("done", "archived;"))]
    total = len(states)
    print(f"{plan.name}: {total - len(todo)}/{total} jobs done; {len(todo)} to run, {plan.parallel} at a time",
          flush=True)  # fmt: skip
    failed: list[str] = []

    def begin(job: Job) -> subprocess.Popen:
        cmd = [sys.executable, str(campaign_py), "job", str(plan.path), job.sweep.name,
               str(job.seed), "--root", str(root), "--data", str(data), "--", *extra]  # fmt: skip
        print(f"{clock(start)} {job.name}: started", flush=True)
        return subprocess.Popen(cmd, cwd=ROOT, preexec_fn=attached_child())

    def ended(job: Job, proc: subprocess.Popen, stopped: bool) -> None:
        status = job_status(proc.returncode, stopped)
        if status == "failed":
            failed.append(job.name)
        log = job.run_dir.parent / f"s{job.seed}.log"
        print(f"{clock(start)} {job.name}: {status}" + (f" (see {log})" if status == "failed" else ""), flush=True)

    supervise(todo, begin, ended, plan.parallel, deadline, grace_s, min_start_s, name=lambda j: j.name, every_s=1.0,
              what="job(s)")  # fmt: skip
    remaining = [job.name for job in jobs_of(plan, root, data) if not job.done()]
    print(f"{plan.name}: {total - len(remaining)}/{total} jobs done" + (f"; failed: {failed}" if failed else ""))
    if failed:
        return 1
    return 0 if not remaining else 3


def dry_run(plan, root: Path, data: Path, extra: list[str]) -> None:
    for job in jobs_of(plan, root, data):
        state = job.status()
        if len(state) > 8:  # done as far as this machine goes, or refused: the reason on its own line
            print(f"{job.name:<28} {state}")
            state = ""
        print(f"{job.name:<28} {state:<8} {' '.join(job.train_command(extra)[2:])}")
        for step in job.sweep.after:
            print(f"{'':<28} {'after':<8} {step['run']}")
    print(f"archives under {data}")


if __name__ == "__main__":  # a module of campaign.py's `local` and `job` verbs: it only explains itself
    import argparse

    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    sys.exit("run it as: python experiments/campaign.py local PLAN")
