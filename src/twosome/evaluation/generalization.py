"""Unseen-task generalization: evaluate trained agents (and their untrained twins) on a list of tasks.

    python -m twosome.evaluation.generalization RUN_DIR [RUN_DIR ...] --tasks ID [ID ...] --episodes 50 --out DIR
    python -m twosome.evaluation.generalization RUN_DIR [RUN_DIR ...] --suite virtualhome_food   # a suite of suites/
    python -m twosome.evaluation.generalization RUN_DIR [RUN_DIR ...] --suite prompt_robustness  # every wording
    python -m twosome.evaluation.generalization RUN_DIR --suite textworld_cooking --workers 2     # two rows at once

A task is an environment id, optionally ``@<wording>`` (env.wording's names: twosome.envs.wording); ``@<wording>``
alone is each run's own training task in that wording, ``@*`` in every wording of its family (prompt sensitivity).

For every run directory (written by ``src/run.py``) the agent is rebuilt from the run's ``config.yaml`` and its
saved weights (adapter and heads) are loaded. A TWOSOME run also yields its untrained twin (same LM, no adapter
training: "zeroshot"). Agents that read the symbolic vector instead of text (PPO from scratch) cannot know which
objects a new task is about, so they are evaluated on their own training task only; the other rows say
``not applicable`` with the reason, instead of hiding it. SayCan's LM reads the new task's text but its
affordance reads the vector, so it runs where the vector layout matches and is marked otherwise. What an agent
reads comes from its run's config (``agent.uses_lm``, ``agent.uses_vectors``), not from its name.
Actions are sampled from each policy (the environments are deterministic, so greedy episodes would all be equal;
``--greedy`` is there for one-episode checks). Writes ``generalization.csv`` (one row per run, agent and task:
success and return, mean and standard error over episodes) after every row, atomically, so an interrupted
evaluation keeps what it finished; rerunning the same command reuses those rows and evaluates only the rest, and
resumes a row it stopped in at the step it reached (its progress is saved every minute, ``.progress/`` beside the
file, removed as the row is written).
A row's episodes draw from its evaluation seed alone, so rows may run in parallel (``--workers``) or resume and
the table is the same.
``--out`` is locked while an evaluation writes there: a second one into the same directory refuses at once.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import math
import multiprocessing
import os
import signal
import threading
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import torch
from omegaconf import OmegaConf
from tqdm.auto import tqdm

import twosome.envs  # noqa: F401  (registers the environment ids)
from twosome.agents.capabilities import Persistent
from twosome.config import AgentConfig, env_kwargs, load_run_config, run_settings
from twosome.envs.wording import CANONICAL, RANDOM, family_of, wordings
from twosome.envs.wording import names as wording_names
from twosome.fileio import DirectoryInUse, atomic_write_text, directory_lock
from twosome.processes import end_with
from twosome.run_dir import RunDir, check_weights
from twosome.training.build import build_agent, env_spaces, use_num_threads
from twosome.training.evaluation import EvaluationPhase, SavedEvaluation, evaluate
from twosome.training.vector_env import make_vector_env

SUITES = Path(__file__).resolve().parent / "suites"  # the task lists, shipped with the package


def suites() -> list[str]:
    return sorted(p.stem for p in SUITES.glob("*.yaml"))


def run_config(run_dir: Path):
    """A run's resolved config, with a clear error for a directory that is not a run."""
    config_path = RunDir(run_dir).config
    if not config_path.exists():
        raise FileNotFoundError(f"{run_dir} has no {config_path.name}: is it a run directory written by src/run.py?")
    return load_run_config(config_path)


def load_run(run_dir: Path, untrained: bool = False, cfg=None):
    """(config, agent) of a finished run; ``untrained`` skips loading the weights (the zero-shot twin)."""
    cfg = cfg if cfg is not None else run_config(run_dir)
    run = run_settings(cfg)
    agent = build_agent(run)
    use_num_threads(run.trainer)  # the run's own thread count (evaluations side by side, as a campaign runs them)
    # An evaluation-only run (random, zero-shot) trained nothing and saved nothing: its agent is evaluated as built.
    if not untrained and cfg.agent.train and isinstance(agent, Persistent):
        check_weights(RunDir(run_dir))
        agent.load(run_dir)
    agent.eval()
    return cfg, agent


def wordings_of(env_id: str) -> dict:
    return wordings(family_of(env_id))


@functools.cache
def spaces_of(env_id: str) -> dict[str, int | None]:
    """Observation size and action count of a registered task, as the agents built for it see them (``obs_dim``
    None: a text-only task)."""
    env = gym.make(env_id)
    try:
        shape = env.observation_space.shape
        return {"obs_dim": None if shape is None else int(shape[0]), "n_actions": int(env.action_space.n)}
    finally:
        env.close()


def not_applicable_reason(agent: AgentConfig, train_env: str, task: str, train_spaces: dict[str, int]) -> str | None:
    """Why ``agent`` cannot be evaluated on ``task``, or None: only what reads the symbolic vector is tied to its
    training task's shapes, the vector's size and the action count its head outputs (text agents and the random
    agent run anywhere)."""
    task, wording = split_task(task)
    if agent.uses_vectors and wording != CANONICAL and wordings_of(task)[wording].shuffle:
        return "scores actions by their index: a shuffled order changes which index is which"
    if not agent.uses_vectors or task == train_env:
        return None
    if not agent.uses_lm:
        return "reads only the symbolic vector: cannot know the new task's objects"
    trained, here = train_spaces, spaces_of(task)  # builds the env once
    if here["obs_dim"] is None:
        return "affordance reads the symbolic vector; this task has none (text only)"
    if here["obs_dim"] != trained["obs_dim"]:
        return f"affordance reads a {trained['obs_dim']}-dim vector; this task's vector has {here['obs_dim']} dims"
    if here["n_actions"] != trained["n_actions"]:
        return f"affordance scores {trained['n_actions']} actions; this task has {here['n_actions']}"
    return None


def algorithm_of(cfg, untrained: bool) -> str:
    """The algorithm that trained the weights evaluated ("" for weights no algorithm trained): runs of PPO and GiGPO
    with the same agent are different agents in a table."""
    if untrained or not OmegaConf.select(cfg, "agent.train", default=False):
        return ""
    return str(OmegaConf.select(cfg, "algo._target_", default="")).rpartition(".")[2]


def mean_se(values: list[float]) -> tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1) / math.sqrt(len(a))) if len(a) > 1 else 0.0


def split_task(task: str) -> tuple[str, str]:
    """(environment id, wording) of a task: ``<id>`` is the canonical wording, ``<id>@<wording>`` another."""
    env_id, _, wording = task.partition("@")
    return env_id, wording or CANONICAL


def expand_tasks(tasks: list[str], train_env: str) -> list[str]:
    """A run's tasks: ``@<wording>`` is its own training task in that wording, ``@*`` in every wording of its
    family (env.wording's names, less ``random``)."""
    out = []
    for task in tasks:
        if task == "@*":
            out += [f"{train_env}@{w}" for w in wording_names(train_env) if w != RANDOM]
        elif task.startswith("@"):
            out.append(train_env + task)
        else:
            out.append(task)
    return out


def carried_kwargs(cfg, task: str) -> dict:
    """The training run's env options that its family's other tasks are evaluated with: those the environment
    class lists in ``carried_to_other_tasks`` (TextWorld: the games' difficulty, count and folder, so that unseen
    games are as hard as the training ones), for a task of the same class; none otherwise."""
    env_id = split_task(task)[0]
    train = gym.spec(cfg.env.id)
    if gym.spec(env_id).entry_point != train.entry_point:
        return {}
    entry = train.entry_point
    creator = entry if callable(entry) else gym.envs.registration.load_env_creator(entry)
    carried = getattr(creator, "carried_to_other_tasks", ())
    return {k: v for k, v in env_kwargs(cfg).items() if k in carried}


def evaluate_on(
    agent,
    task: str,
    episodes: int,
    gamma: float,
    seed: int,
    num_envs: int,
    greedy: bool,
    progress=None,
    task_kwargs: dict | None = None,
    saved: EvaluationPhase | None = None,
) -> dict:
    """``task_kwargs``: the environment's options (``carried_kwargs``; none: its registered defaults); ``saved``:
    where the episodes' progress is saved, and resumed from."""
    env_id, wording = split_task(task)
    envs = make_vector_env(env_id, num_envs, kwargs=task_kwargs, wording=wording)
    try:
        with torch.no_grad():
            records = evaluate(agent, envs, episodes, gamma, seed, greedy, progress=progress, saved=saved)
    finally:
        envs.close()
    success, success_se = mean_se([float(r["success"]) for r in records])
    ret, ret_se = mean_se([float(r["episodic_return"]) for r in records])
    return {
        "success_rate": success,
        "success_se": success_se,
        "return_mean": ret,
        "return_se": ret_se,
        "episodes": len(records),
    }


def generalization(
    run_dirs: list[Path],
    tasks: list[str],
    episodes: int = 50,
    seed: int = 10_000,
    num_envs: int = 4,
    greedy: bool = False,
    with_untrained: bool = True,
    out_csv: Path | None = None,
    workers: int = 1,
    save_every_s: float = 60.0,
) -> pd.DataFrame:
    """``out_csv``: written after every row; rows already there for the same run, agent, weights, task, episodes,
    evaluation seed and sampling are reused instead of evaluated again (a rerun after an interruption resumes).
    ``workers``: rows evaluated at once, each in a process of its own. A row depends on its run, task and evaluation
    seed alone, so the table is the same with any number of workers. ``save_every_s``: how often a row's progress
    is saved (with ``out_csv``), so that a rerun resumes the row at the step it reached."""
    check_tasks(tasks)
    sampling = "greedy" if greedy else "sampled"
    agents = list(planned_agents(distinct_runs(run_dirs), with_untrained))
    done = previous_rows(
        out_csv,
        {
            key(run_dir, label, weights, t, episodes, seed, sampling)
            for run_dir, _, cfg, label, weights in agents
            for t in expand_tasks(tasks, cfg.env.id)
        },
    )
    rows: list[dict] = []  # every row, in the suite's order
    todo: list[Row] = []  # the rows to evaluate
    spaces = {str(d): env_spaces(run_settings(cfg).env) if cfg.agent.uses_vectors else {} for d, _, cfg, _, _ in agents}
    for run_dir, untrained, cfg, label, weights in agents:
        train_spaces = spaces[str(run_dir)]
        for task in expand_tasks(tasks, cfg.env.id):
            row = {
                "run": str(run_dir),
                "agent": label,
                "norm": OmegaConf.select(cfg, "agent.policy.norm", default=""),
                "model": cfg.model.name if cfg.agent.uses_lm else "",
                "algorithm": algorithm_of(cfg, untrained),
                "seed": int(cfg.seed),
                "train_task": cfg.env.id,
                "train_wording": OmegaConf.select(cfg, "env.wording", default="canonical"),
                "task": task,
                "wording": split_task(task)[1],
                "eval_seed": seed,
                "sampling": sampling,
                "weights": weights,
            }
            row_id = key(run_dir, label, weights, task, episodes, seed, sampling)
            reason = not_applicable_reason(cfg.agent, cfg.env.id, task, train_spaces)
            if reason:
                row.update(applicable=False, note=reason)
            elif row_id in done:
                row = done[row_id]
            else:
                row.update(applicable=True, note="")
                saved = str(progress_file(out_csv, row_id)) if out_csv is not None else None
                todo.append(
                    Row(len(rows), str(run_dir), untrained, task, episodes, seed, num_envs, greedy, saved, save_every_s)
                )
            rows.append(row)
    finished = set(range(len(rows))) - {r.index for r in todo}

    def save() -> None:  # the rows finished so far, in the suite's order
        if out_csv is not None:
            atomic_write_text(out_csv, pd.DataFrame([rows[i] for i in sorted(finished)]).to_csv(index=False))

    saved_progress = {row.index: row.saved for row in todo}

    def record(index: int, result: dict) -> None:
        rows[index].update(result)
        finished.add(index)
        save()
        if saved_progress[index] is not None:  # written: nothing of it left to resume
            Path(saved_progress[index]).unlink(missing_ok=True)

    with tqdm(
        total=len(todo) * episodes, unit="episode", desc="generalization", disable=not todo, dynamic_ncols=True
    ) as bar:
        if workers > 1 and len(todo) > 1:
            evaluate_in_workers(todo, min(workers, len(todo)), record, bar, env_ids_of(agents, tasks))
        else:
            evaluate_here(todo, rows, record, bar)
    if rows and not todo:
        save()
    if out_csv is not None:  # every row written: no progress left to keep
        with contextlib.suppress(OSError):
            (Path(out_csv).parent / ".progress").rmdir()
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Row:
    """One evaluation to run: where its row goes in the table, and what a worker process needs to run it."""

    index: int
    run_dir: str
    untrained: bool
    task: str
    episodes: int
    seed: int
    num_envs: int
    greedy: bool
    saved: str | None = None  # where its progress is saved (``progress_file``), or None
    save_every_s: float = 60.0


def progress_file(out_csv: Path, row_id: tuple) -> Path:
    """Where a row's progress is saved: ``.progress/`` beside the table, one file per row (``key``)."""
    name = hashlib.sha256(repr(row_id).encode()).hexdigest()[:24]
    return Path(out_csv).parent / ".progress" / f"{name}.pkl"


def evaluate_row(row: Row, agent, cfg, progress) -> dict:
    kwargs = carried_kwargs(cfg, row.task)
    gamma = float(cfg.rollout.gamma)
    saved = None
    if row.saved is not None:  # resumed only by the same row (task, episodes, seed, environments, sampling)
        settings = {"task": row.task, "episodes": row.episodes, "seed": row.seed, "num_envs": row.num_envs,
                    "greedy": row.greedy}  # fmt: skip
        saved = SavedEvaluation(row.saved, 0, row.save_every_s).phase(row.task, settings)
    return evaluate_on(
        agent, row.task, row.episodes, gamma, row.seed, row.num_envs, row.greedy, progress, kwargs, saved
    )


def evaluate_here(todo: list[Row], rows: list[dict], record, bar) -> None:
    """The rows one after another in this process, each run's agent loaded once."""
    loaded, agent, cfg = None, None, None
    for row in todo:
        if loaded != (row.run_dir, row.untrained):
            loaded = (row.run_dir, row.untrained)
            cfg, agent = load_run(Path(row.run_dir), untrained=row.untrained)
        label = rows[row.index]["agent"]
        bar.set_postfix_str(f"{label} seed {rows[row.index]['seed']} on {row.task.removeprefix('twosome/')}")
        record(row.index, evaluate_row(row, agent, cfg, bar.update))


def env_ids_of(agents, tasks: list[str]) -> set[str]:
    """The environment ids the workers build: the evaluated tasks and the runs' training tasks."""
    return {cfg.env.id for *_, cfg, _, _ in agents} | {
        split_task(t)[0] for *_, cfg, _, _ in agents for t in expand_tasks(tasks, cfg.env.id)
    }


def evaluate_in_workers(todo: list[Row], workers: int, record, bar, env_ids: set[str]) -> None:
    """The rows in ``workers`` processes at once (each with its run's thread count), recorded as each ends. The
    workers are started afresh ("spawn": no copy of this process's threads) and given the specs of the environments
    they build, so that one registered only here (a script's own) is known there too. A stop or an error ends them
    all; the rows recorded so far stay in the file."""
    context = multiprocessing.get_context("spawn")
    episodes_done = context.Queue()
    specs = [gym.spec(env_id) for env_id in sorted(env_ids)]
    bar.set_postfix_str(f"{workers} rows at a time")
    main_thread = threading.current_thread() is threading.main_thread()  # only it may set a handler
    previous = signal.signal(signal.SIGTERM, stop_on_sigterm) if main_thread else None  # the pool's files go too
    try:
        with context.Pool(workers, initializer=start_worker, initargs=(episodes_done, specs, os.getpid())) as pool:
            collect(pool.imap_unordered(worker_row, todo), len(todo), episodes_done, record, bar)
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
        episodes_done.close()


def stop_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def collect(results, count: int, episodes_done, record, bar) -> None:
    """Record each row as a worker returns it, and tell the bar of every episode that ends meanwhile."""

    def tell() -> None:
        while not episodes_done.empty():
            bar.update(episodes_done.get())

    for _ in range(count):
        while True:
            tell()
            try:
                index, result = results.next(timeout=0.2)
                break
            except multiprocessing.TimeoutError:
                continue
        record(index, result)
    tell()


_worker: dict = {}  # a worker process's episode queue and its last loaded agent


def start_worker(episodes_done, specs, parent: int) -> None:
    end_with(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C stops the evaluation, which ends its workers
    for spec in specs:
        gym.registry.setdefault(spec.id, spec)
    _worker["episodes_done"] = episodes_done


def worker_row(row: Row) -> tuple[int, dict]:
    if _worker.get("loaded") != (row.run_dir, row.untrained):
        _worker["agent"] = load_run(Path(row.run_dir), untrained=row.untrained)
        _worker["loaded"] = (row.run_dir, row.untrained)
    cfg, agent = _worker["agent"]
    return row.index, evaluate_row(row, agent, cfg, _worker["episodes_done"].put)


def readable(table: pd.DataFrame) -> str:
    """The rows as a researcher reads them at the end of an evaluation: who, where, how well."""
    if table.empty:
        return "(no rows)"
    out = table.assign(task=table.task.str.removeprefix("twosome/"))
    out["success"] = [
        f"{r.success_rate:.2f} ± {r.success_se:.2f}" if r.applicable else f"n/a ({r.note})" for r in out.itertuples()
    ]
    columns = ["agent", "model", "seed", "task", "success", "episodes"]
    return out[[c for c in columns if c in out]].fillna("").to_string(index=False)


def distinct_runs(run_dirs: list[Path]) -> list[Path]:
    """Each run once, however many paths name it (relative, absolute, linked): a run given twice would be evaluated
    twice and counted twice in every table."""
    first: dict[str, Path] = {}
    for run_dir in run_dirs:
        real = os.path.realpath(run_dir)
        if real in first:
            print(f"{run_dir} is the same run as {first[real]}: evaluated once")
        else:
            first[real] = Path(run_dir)
    return list(first.values())


def planned_agents(run_dirs: list[Path], with_untrained: bool):
    """(run directory, untrained?, config, label, weights) of every agent to evaluate, from the run files alone.
    ``weights`` names what is evaluated (the saved weights' digest), so a retrained run is not taken for the old one."""
    for run_dir in run_dirs:
        cfg = run_config(run_dir)
        run = RunDir(run_dir)
        digest = (run.read_summary().get("weights_digest") if run.summary.exists() else None) or ""
        for untrained in [False, True] if with_untrained else [False]:
            if untrained and not cfg.agent.untrained_twin:
                continue  # only agents that train adapters on their LM have one (SayCan never trains its LM)
            yield (
                run_dir,
                untrained,
                cfg,
                "zeroshot" if untrained else cfg.agent.name,
                "untrained" if untrained else digest,
            )


def key(run, agent: str, weights: str, task: str, episodes: int, eval_seed: int, sampling: str) -> tuple:
    """What makes two rows the same measurement (the run by its real path: relative, absolute, linked alike)."""
    return (os.path.realpath(run), agent, str(weights), task, int(episodes), int(eval_seed), sampling)


def previous_rows(out_csv: Path | None, planned: set[tuple]) -> dict[tuple, dict]:
    """Rows of an earlier, possibly interrupted, run of the same evaluation into ``out_csv``. Rows of another
    evaluation there (other runs, tasks, episodes, seed, sampling or weights; or a file from before these columns)
    would be overwritten: refused, before anything is written."""
    if out_csv is None or not Path(out_csv).exists():
        return {}
    table = read_previous(Path(out_csv))
    if table is None:
        return {}
    needed = {"eval_seed", "sampling", "weights", "episodes"}
    if not needed <= set(table.columns):
        raise ValueError(
            f"{out_csv} was written without {sorted(needed - set(table.columns))}, so it cannot be resumed, and this "
            "evaluation would overwrite it: choose another --out, or move it away"
        )
    text = [c for c in ("norm", "model", "algorithm", "note", "weights") if c in table]
    table[text] = table[text].fillna("")
    done, other = {}, []
    for row in table.to_dict("records"):
        if not row["applicable"]:
            continue  # recomputed: no evaluation behind it
        row.update(episodes=int(row["episodes"]), seed=int(row["seed"]), eval_seed=int(row["eval_seed"]))
        row_id = key(
            row["run"], row["agent"], row["weights"], row["task"], row["episodes"], row["eval_seed"], row["sampling"]
        )
        if row_id in planned:
            done[row_id] = row
        else:
            other.append(row_id)
    if other:
        raise ValueError(
            f"{out_csv} holds {len(other)} rows of another evaluation (e.g. {other[0]}), which this one would "
            "overwrite: choose another --out, or move the file away"
        )
    return done


def read_previous(out_csv: Path) -> pd.DataFrame | None:
    """The table an earlier evaluation left in ``out_csv`` (None: an empty file, nothing to keep); anything this
    command did not write (a directory, binary or unparsable bytes) is refused, naming the file, not overwritten."""
    if out_csv.is_dir():
        raise ValueError(
            f"{out_csv} is a directory, not the CSV this evaluation writes: choose another --out, or move it away"
        )
    if out_csv.stat().st_size == 0:
        return None
    try:
        return pd.read_csv(out_csv)
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(
            f"{out_csv} cannot be read as the CSV this evaluation writes ({type(err).__name__}: {err}), and this "
            "evaluation would overwrite it: choose another --out, or move the file away"
        ) from None


def check_tasks(tasks: list[str]) -> None:
    """Every task a registered env id, with a wording that env has: ValueError naming what is valid otherwise."""
    unknown = [t for t in tasks if not t.startswith("@") and split_task(t)[0] not in gym.registry]
    if unknown:
        valid = sorted(k for k in gym.registry if k.startswith("twosome/"))
        raise ValueError(f"unknown task ids {unknown}; valid: {valid} (each may end in @<wording>)")
    for task in tasks:
        env_id, wording = split_task(task)
        if not task.startswith("@") and wording != CANONICAL and wording not in wording_names(env_id):
            raise ValueError(f"unknown wording in {task!r}; valid for {env_id}: {wording_names(env_id)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run directories (config.yaml + saved weights)")
    parser.add_argument("--tasks", nargs="+", help="registered env ids, e.g. twosome/VirtualHome-Cheese-v0")
    parser.add_argument("--suite", help=f"a task list from twosome/evaluation/suites/: {suites()}")
    parser.add_argument("--episodes", type=int, default=50)
    parser.add_argument("--seed", type=int, default=10_000, help="evaluation seed (differs from training seeds)")
    parser.add_argument(
        "--greedy",
        action="store_true",
        help="take the most likely action (the environments are deterministic, so all N episodes would be equal); "
        "default: sample from the policy",
    )
    parser.add_argument("--no-untrained", action="store_true", help="skip the untrained TWOSOME twin")
    parser.add_argument("--out", type=Path, default=Path("results/generalization"))
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="rows evaluated at once, each in a process with its run's thread count (the rows are the same)",
    )
    args = parser.parse_args(argv)
    if args.episodes < 1:
        parser.error(f"--episodes must be >= 1, got {args.episodes}")
    if args.workers < 1:
        parser.error(f"--workers must be >= 1, got {args.workers}")
    if bool(args.tasks) == bool(args.suite):
        parser.error(f"give either --tasks or --suite (suites: {suites()})")
    if args.suite and args.suite not in suites():
        parser.error(f"unknown suite {args.suite!r}; valid: {suites()}")
    tasks = args.tasks or list(OmegaConf.load(SUITES / f"{args.suite}.yaml").tasks)
    if args.out.exists() and not args.out.is_dir():
        parser.error(f"--out {args.out} is a file; --out names a directory, which receives generalization.csv")
    try:  # before --out is made
        check_tasks(tasks)
        for run_dir in args.runs:
            if run_config(run_dir).agent.get("train", True):
                check_weights(RunDir(run_dir))  # a damaged adapter, named before any model loads
    except (ValueError, FileNotFoundError) as error:
        parser.error(str(error))
    made = not args.out.exists()
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with directory_lock(args.out, "wait for that evaluation to end, or give this one another --out"):
            table = generalization(
                args.runs,
                tasks,
                args.episodes,
                args.seed,
                greedy=args.greedy,
                with_untrained=not args.no_untrained,
                out_csv=args.out / "generalization.csv",
                workers=args.workers,
            )
    except (ValueError, FileNotFoundError, DirectoryInUse) as error:
        if made and not isinstance(error, DirectoryInUse):  # refused: the folder this call made holds nothing
            (args.out / ".lock").unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                args.out.rmdir()
        parser.error(str(error))
    print(readable(table))
    print(f"wrote {args.out / 'generalization.csv'} ({len(table)} rows)")


if __name__ == "__main__":
    main()
