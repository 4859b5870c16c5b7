"""One training run: validate, build, fit (resuming from the run's checkpoint), save the adapter and heads, write the
summary. The run directory's ``status.json`` always says where the run stands: running, preempted, failed (and
why) or finished."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import shutil
import signal
import time
import traceback
import warnings
from pathlib import Path

import pytorch_lightning as pl
import torch
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf
from pytorch_lightning.utilities.exceptions import SIGTERMException
from tqdm.auto import tqdm

from twosome.agents.capabilities import Persistent
from twosome.config import (  # noqa: F401  (config_changes: re-exported)
    ConfigError,
    RunSettings,
    budget_note,
    check_run_dir,
    config_changes,
    validate,
)
from twosome.fileio import DirectoryInUse, apply_umask, directory_lock
from twosome.lm.dtype import cpu_flags, cpu_model
from twosome.parallel import collectives as dist
from twosome.run_dir import RESULTS, RunDir, accept_hydra_records, damaged_weights, drop_hydra_records, weight_files
from twosome.training.build import build_agent, build_module, build_trainer
from twosome.training.checkpointing import (
    Interrupted,
    Preempted,
    Requeued,
    atomic_write_text,
    checkpoint_path,
    read_run_state,
)

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


def run_dir_of(cfg: DictConfig) -> Path:
    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path(cfg.paths.runs_dir) / cfg.run_name


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


def prepare_run_dir(cfg: DictConfig, run_dir: Path) -> tuple[Path | None, dict | None]:
    """Decide how this run starts: (checkpoint to resume from, None), (None, finished summary), or (None, None)."""
    ckpt, summary_file = checkpoint_path(run_dir), RunDir(run_dir).summary
    if RunDir(run_dir).has_previous_run() and cfg.checkpoint.resume:
        check_run_dir(cfg, run_dir)
        if not summary_file.exists():
            return ckpt, None
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


def train(cfg: DictConfig, run_dir: Path | None = None, **trainer_overrides) -> dict:
    run = validate(cfg)  # the settings, parsed once and passed down
    run_dir = Path(run_dir) if run_dir is not None else run_dir_of(cfg)
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        with run_dir_lock(run_dir):
            return _locked_train(cfg, run, run_dir, **trainer_overrides)
    except (DirectoryInUse, ConfigError):  # refused: another run's records stay as they were
        if dist.rank() == 0:
            drop_hydra_records(RunDir(run_dir))
        raise


def _locked_train(cfg: DictConfig, run: RunSettings, run_dir: Path, **trainer_overrides) -> dict:
    resume_from, finished = prepare_run_dir(cfg, run_dir)
    if dist.rank() == 0:
        accept_hydra_records(RunDir(run_dir))
    if finished is not None:
        print(f"{run_dir} is already finished (checkpoint.resume=false reruns it)")
        print(summary_line(finished))
        return finished
    note = budget_note(run)
    if note:
        print(note)
    if dist.rank() == 0:
        atomic_write_text(RunDir(run_dir).config, OmegaConf.to_yaml(cfg, resolve=True))
    try:
        return _train(cfg, run, run_dir, resume_from, **trainer_overrides)
    except Interrupted as stop:
        write_status(run_dir, "interrupted", reason=str(stop))
        print(f"Interrupted: {stop}")
        raise
    except (Preempted, Requeued) as stop:
        write_status(run_dir, "preempted", reason=str(stop))
        print(f"Preempted: {stop}")
        raise
    except SIGTERMException as stop:  # SIGTERM outside an update (Lightning's own exit would have status 0)
        reason = f"SIGTERM: stopped at the last checkpoint, {checkpoint_path(run_dir)}"
        write_status(run_dir, "preempted", reason=reason)
        raise Preempted(f"{reason}; rerun the same command to resume", signum=signal.SIGTERM) from stop
    except KeyboardInterrupt as stop:  # Ctrl-C outside the training loop (loading, saving)
        raise _interrupted_at_once(run_dir) from stop
    except BaseException as err:
        # Lightning's bare sys.exit(1) after a Ctrl-C it caught (a second one in training, or one while the default
        # LM is built): the Ctrl-C it was
        if isinstance(err, SystemExit) and isinstance(err.__context__, KeyboardInterrupt):
            raise _interrupted_at_once(run_dir) from err
        write_status(run_dir, "failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc())
        raise


def _interrupted_at_once(run_dir: Path) -> Interrupted:
    """Ctrl-C that stopped the run at once: recorded (status ``interrupted``) and said, with what a rerun does."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # Lightning may have left it ignored
    ckpt = checkpoint_path(run_dir)
    resumes = f"the last checkpoint ({ckpt}) resumes" if ckpt.exists() else "there is no checkpoint: it starts afresh"
    reason = f"Ctrl-C: stopped at once; {resumes}"
    write_status(run_dir, "interrupted", reason=reason)
    print(f"Interrupted: {reason}; rerun the same command to continue")
    return Interrupted(f"{reason}; rerun the same command to continue")


def _train(cfg: DictConfig, run: RunSettings, run_dir: Path, resume_from: Path | None, **trainer_overrides) -> dict:
    pl.seed_everything(cfg.seed, workers=True, verbose=False)
    start = time.time()
    agent = build_agent(cfg)
    module = build_module(cfg, agent, run)
    if cfg.agent.train and not isinstance(agent, Persistent):
        raise TypeError(
            f"agent {cfg.agent.name!r} ({type(agent).__name__}) trains but cannot save its weights: implement save "
            "and load (twosome.agents.capabilities.Persistent), or set agent.train=false"
        )
    if cfg.agent.train:
        purge = None
        if resume_from is not None:
            state = read_run_state(resume_from)
            if state["seed_group"]:
                raise ConfigError(
                    f"{resume_from} was written by a seed group (hydra/launcher=seed_batch): resume it the same way "
                    "(the same command), or start afresh with checkpoint.resume=false"
                )
            truncate_csv(RunDir(run_dir).metrics, state["updates_done"])
            purge = state["env_steps"] + 1
            print(f"Resuming {run_dir} from update {state['updates_done']} ({state['env_steps']} env steps)")
        write_status(run_dir, "running", resumed_from_update=state["updates_done"] if resume_from else 0)
        trainer = build_trainer(cfg, run_dir, tb_purge_step=purge, **trainer_overrides)
        trainer.fit(module, ckpt_path=str(resume_from) if resume_from else None)
        check_something_trained(run_dir, cfg, module.algorithm)
        digest, saved = save_agent(agent, run_dir)
    else:  # evaluation-only agents (random, zero-shot): the final evaluation is the whole run
        episodes = run.eval.episodes + run.eval.final_sampled_episodes
        with tqdm(total=episodes, unit="episode", desc=f"{cfg.agent.name} evaluation", disable=dist.rank() != 0) as bar:
            module.run_evaluation(progress=bar.update)
            module.run_sampled_evaluation(progress=bar.update)
        digest, saved = None, []
    return finish_run(cfg, run_dir, module, digest, saved, start)


class NothingTrained(RuntimeError):
    """A run whose every update trained on no decision: its weights are the untrained ones."""


def check_something_trained(run_dir: Path, cfg: DictConfig, algorithm) -> None:
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
            f"no update of this run trained on any decision (rollout.num_steps={cfg.rollout.num_steps} decisions per "
            f"environment): {reason}"
        )


def finish_run(cfg: DictConfig, run_dir: Path, module, digest: str | None, saved: list[str], start: float) -> dict:
    """Write the run's summary.json and status ``finished``, say its summary line; return the summary."""
    # The normalization the policy really uses ("-" for agents that read no action likelihoods, e.g. PPO).
    norm = OmegaConf.select(cfg, "agent.policy.norm", default="-")
    summary = {
        "run_name": cfg.run_name,
        "agent": cfg.agent.name,
        "algorithm": type(module.algorithm).__name__,
        "env_id": cfg.env.id,
        "norm": norm,
        "model": cfg.model.name if cfg.agent.uses_lm else "-",  # "-": the agent reads no text (PPO, random)
        "model_dtype": frozen_dtype(module.agent) if cfg.agent.uses_lm else "-",  # model.dtype=auto, as resolved
        "seed": cfg.seed,
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
        **(module.agent.report() if hasattr(module.agent, "report") else {}),  # e.g. agent=generate's texts
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


def trained_weights(agent) -> dict:
    """The agent's trained weights by name. A seed group member shares its LM with the other members' adapters: its
    own are named as a run alone names them (adapter ``default``), so its files and digest are a lone run's."""
    adapter = getattr(agent, "adapter_name", None)
    if adapter is None:
        return {n: p.detach() for n, p in agent.named_parameters() if p.requires_grad}
    own = {id(p) for p in [*agent.policy_parameters(), *agent.value_parameters()]}
    return {n.replace(f".{adapter}.", ".default."): p.detach() for n, p in agent.named_parameters() if id(p) in own}


def weights_digest(state_dict: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(state_dict):
        digest.update(name.encode())
        digest.update(state_dict[name].detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def save_agent(agent, run_dir: Path) -> tuple[str, list[str]]:
    """The trained weights in their own formats (peft adapter, heads), written to a temporary directory that
    replaces the old files only when complete; returns their digest and the names written. With FSDP every rank
    gathers the full trained weights, the ranks check that they agree, and rank 0 writes them."""
    if dist.is_distributed():
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        options = StateDictOptions(full_state_dict=True, ignore_frozen_params=True)
        state_dict = {k: v.detach().cpu() for k, v in get_model_state_dict(agent, options=options).items()}
        digests = dist.gather([weights_digest(state_dict)])
        if len(set(digests)) != 1:
            raise RuntimeError(f"the ranks disagree on the trained weights (digests {digests}): not saving them")
    else:
        state_dict = trained_weights(agent)
    digest = weights_digest(state_dict)
    if dist.rank() != 0:
        return digest, []
    staging = RunDir(run_dir).staging
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    agent.save(staging, state_dict=state_dict if dist.is_distributed() else None)
    apply_umask(staging)  # safetensors writes its files 0600, whatever the umask
    saved = sorted(item.name for item in staging.iterdir())
    for item in staging.iterdir():
        target = run_dir / item.name
        if target.is_dir():
            shutil.rmtree(target)
        item.replace(target)
    staging.rmdir()
    return digest, saved
