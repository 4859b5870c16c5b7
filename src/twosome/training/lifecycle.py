"""A run's life in its directory, the same for a run alone (training/train.py) and for each member of a seed group
(training/seed_group.py): take the directory (a lock), decide how the run starts (resume, finished, or afresh),
write its config, say where it stands in ``status.json`` on every exit path, and write its summary."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from omegaconf import OmegaConf

from twosome.agents import capabilities
from twosome.config import ConfigError, RunSettings, check_same_run
from twosome.fileio import DirectoryInUse, atomic_write_text, directory_lock
from twosome.lm.dtype import cpu_flags, cpu_model
from twosome.parallel import collectives as dist
from twosome.run_dir import RESULTS, RunDir, accept_hydra_records, damaged_weights, drop_hydra_records, weight_files
from twosome.training.checkpointing import checkpoint_path


def write_status(run_dir: Path, status: str, **details) -> None:
    if dist.rank() == 0:
        atomic_write_text(RunDir(run_dir).status, json.dumps({"status": status, **details}, indent=2))


def truncate_csv(path: Path, last_update: int) -> None:
    """Drop the metric rows a killed run logged after its checkpoint: they are logged again when it resumes."""
    if not path.exists():
        return
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        kept = [r for r in reader if r.get("update") and float(r["update"]) <= last_update]
        header = reader.fieldnames
    if not header:
        return
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header)
    writer.writeheader()
    writer.writerows(kept)
    atomic_write_text(path, out.getvalue())


RunDirInUse = DirectoryInUse  # another process runs in this run directory


@contextlib.contextmanager
def run_dir_lock(run_dir: Path):
    """Hold ``<run_dir>/.lock`` while the run works in the directory, so that a second identical command refuses
    instead of writing every metric twice (``twosome.fileio.directory_lock``). Only the launching process takes it
    (rank 0); ranks Lightning or SLURM start share the directory."""
    if dist.rank() != 0:
        yield
        return
    way_out = "wait for it to end or stop it, or give this run its own directory (run_name=... or hydra.run.dir=...)"
    with directory_lock(run_dir, way_out):
        yield


def _read_summary(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(
            f"{path} cannot be read ({type(err).__name__}: {err}): the run finished but its summary is damaged. "
            "checkpoint.resume=false reruns it"
        ) from None


def prepare_run_dir(run: RunSettings, run_dir: Path) -> tuple[Path | None, dict | None]:
    """Decide how this run starts: (checkpoint to resume from, None), (None, finished summary), or (None, None)."""
    ckpt, summary_file = checkpoint_path(run_dir), RunDir(run_dir).summary
    if RunDir(run_dir).has_previous_run() and run.checkpoint.resume:
        check_same_run(run.record, run_dir)
        if not summary_file.exists():
            return (ckpt if ckpt.exists() else None), None  # none: an evaluation-only run's saved progress
        summary = _read_summary(summary_file)
        damaged = damaged_weights(RunDir(run_dir), summary)
        if not damaged:
            return None, summary
        if not ckpt.exists():
            raise ConfigError(
                f"{run_dir} finished, but its saved weights are missing or damaged ({'; '.join(damaged)}) and there "
                "is no checkpoint to write them again from: checkpoint.resume=false reruns it"
            )
        print(f"{run_dir} finished, but its saved weights are missing or damaged ({'; '.join(damaged)}): "
              "writing them again from its checkpoint")  # fmt: skip
        return ckpt, None
    # A fresh start (resume=false, or a run that died before its first checkpoint): no stale results beside the new.
    if dist.rank() == 0:
        clear_results(run_dir)
    return None, None


def clear_results(run_dir: Path) -> None:
    """What a run wrote as it trained (metrics, checkpoints, weights, summary), before it starts afresh."""
    for name in RESULTS:
        target = run_dir / name
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)


def algorithm_suffix(summary: dict) -> str:
    """' with POAD' when the run's algorithm is not PPO (summaries written before the key existed are PPO's)."""
    algorithm = summary.get("algorithm", "PPO")
    return "" if algorithm == "PPO" else f" with {algorithm}"


def summary_line(summary: dict) -> str:
    """The one line a researcher reads at the end of a run (and when the same command finds it finished): the
    greedy evaluation (the likeliest action at each step) and, beside it, the policy's sampled episodes, which
    success claims rest on; where they disagree, the line says why they can."""
    greedy = summary.get("eval/success_rate", float("nan"))
    line = (
        f"Summary: {summary['agent']}{algorithm_suffix(summary)} on {summary['env_id']} ({summary['norm']} norm, "
        f"seed {summary['seed']}) after {summary['env_steps']} env steps in {summary['wall_seconds']:.0f}s: "
        f"greedy eval return {summary.get('eval/episodic_return', float('nan')):.3f}, success rate {greedy:.2f}"
    )
    if "sampled/success_rate" not in summary:
        return line
    sampled = summary["sampled/success_rate"]
    line += f"; sampled success rate {sampled:.2f} over {summary['sampled/episodes']:.0f} episodes"
    if sampled > greedy:
        line += " (the greedy plan can loop where actions sampled from the same policy succeed)"
    return line


def open_run(
    run: RunSettings, run_dir: Path, locks: contextlib.ExitStack, inspect: Callable[[Path], Any] | None = None
) -> tuple[Path | None, dict | None, Any]:
    """Take ``run_dir`` (its lock held until ``locks`` closes) and decide how the run starts: (checkpoint to resume
    from or None, None, what ``inspect`` read of that checkpoint) or (None, finished summary, None). The command's
    Hydra records become the run's unless it is refused (then the run's records stay as they were); a finished run
    is said, and an unfinished one's config written."""
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        locks.enter_context(run_dir_lock(run_dir))
        resume_from, finished = prepare_run_dir(run, run_dir)
        state = inspect(resume_from) if inspect is not None and resume_from is not None else None
    except Exception:
        if dist.rank() == 0:
            drop_hydra_records(RunDir(run_dir))
        raise
    if dist.rank() == 0:
        accept_hydra_records(RunDir(run_dir))
    if finished is not None:
        print(f"{run_dir} is already finished (checkpoint.resume=false reruns it)")
        print(summary_line(finished))
        return None, finished, None
    if dist.rank() == 0:
        atomic_write_text(RunDir(run_dir).config, OmegaConf.to_yaml(run.record))  # resolved when parsed
    return resume_from, None, state


class NothingTrained(RuntimeError):
    """A run whose every update trained on no decision: its weights are the untrained ones."""


def check_something_trained(run_dir: Path, run: RunSettings, algorithm) -> None:
    """A run whose algorithm says its updates trained on nothing (``Algorithm.nothing_trained``, e.g. GiGPO when no
    episode ends inside a rollout) must not end as if it had trained."""
    why = getattr(algorithm, "nothing_trained", None)
    metrics = RunDir(run_dir).metrics
    if why is None or not metrics.is_file():
        return
    import pandas as pd

    reason = why(pd.read_csv(metrics))
    if reason is not None:
        raise NothingTrained(
            f"no update of this run trained on any decision (rollout.num_steps={run.rollout.num_steps} decisions per "
            f"environment): {reason}"
        )


def finish_run(run: RunSettings, run_dir: Path, module, digest: str | None, saved: list[str], start: float) -> dict:
    """Write the run's summary.json and status ``finished``, say its summary line; return the summary."""
    # The normalization the policy really uses ("-" for agents that read no action likelihoods, e.g. PPO).
    norm = run.agent.policy.get("norm", "-")
    summary = {
        "run_name": run.run_name,
        "agent": run.agent.name,
        "algorithm": type(module.algorithm).__name__,
        "env_id": run.env.id,
        "norm": norm,
        "model": run.model.name if run.agent.uses_lm else "-",  # "-": the agent reads no text (PPO, random)
        "model_dtype": frozen_dtype(module.agent) if run.agent.uses_lm else "-",  # model.dtype=auto, as resolved
        "seed": run.seed,
        "env_steps": module.env_steps,
        "updates": module.num_updates if module.collector else 0,
        "wall_seconds": round(time.time() - start + module.elapsed_before, 1),
        # the machine that finished the run (a resumed run's earlier part may have run on another)
        "cpu": f"{cpu_model()}; {cpu_flags()}",
        "threads": torch.get_num_threads(),
        "world_size": dist.world_size(),
        "weights_digest": digest,  # sha256 of the trained weights (every rank agreed on it)
        "saved": saved,  # the files and directories holding them (adapter/, heads)
        "saved_files": weight_files(run_dir, saved) if dist.rank() == 0 else {},  # sizes and SHA-256, checked on reads
        **module.final_eval,
        **(module.agent.report() if isinstance(module.agent, capabilities.Reporting) else {}),  # a writer's texts
    }
    if dist.rank() == 0:
        atomic_write_text(RunDir(run_dir).summary, json.dumps(summary, indent=2))
        write_status(run_dir, "finished")
        print(f"Results in {run_dir}")
        print(summary_line(summary))
    return summary


def frozen_dtype(agent) -> str:
    """The dtype the frozen LM computes in (``model.dtype=auto`` measures the CPU at start-up: the summary says
    what it chose, so that runs of one study on different machines can be told apart)."""
    frozen = next((p.dtype for p in agent.parameters() if not p.requires_grad), None)
    return "-" if frozen is None else str(frozen).removeprefix("torch.")
