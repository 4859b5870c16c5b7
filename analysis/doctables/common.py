"""What the tables of docs/RESULTS.md share: Markdown, the archived runs (analysis/archive_runs.py) as one row
per run with returns as fractions of the task's optimal discounted return, and the statistics of docs/RESULTS.md's
conventions: the seed is the unit (each run's episodes are aggregated first), IQM and mean over seeds with 95%
stratified bootstrap intervals, probabilities of improvement with their status, Wilson intervals for one agent's
success over episodes (twosome.evaluation.statistics). Each study's module (ten_seeds, glam, ...) registers its
tables in its own ``TABLES``; ``analysis/docs_tables.py`` collects them."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from learning_curves import TARGET_FRACTION as TARGET  # noqa: E402  (why 0.97: learning_curves.py)

from twosome.evaluation.statistics import Estimate, interval, probability_of_improvement, wilson
from twosome.run_dir import RunDir


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fmt_steps(steps: float) -> str:
    return "never" if np.isnan(steps) else f"{steps:,.0f}"


@cache
def optimal_discounted(env_id: str, gamma: float) -> float:
    """The optimal plan's discounted return; NaN where the environment has no single optimal plan (BabyAI-Text
    draws a new room and goal each episode), so no return there reads as a fraction of an optimum."""
    from learning_curves import optimal_returns

    return optimal_returns([env_id], "discounted_return", {env_id: gamma}).get(env_id, float("nan"))


@cache
def archived_runs(directory: Path) -> pd.DataFrame:
    """One row per run archived in ``directory`` (analysis/archive_runs.py): the per-seed scalars the tables use,
    returns as fractions of the task's optimal discounted return."""
    rows = []
    for summary_path in sorted(directory.glob("*/summary.json")):
        run = summary_path.parent
        s = json.loads(summary_path.read_text())
        config = pd.json_normalize(_config(run))
        if "env.gamma" not in config:
            raise ValueError(f"{run / 'config.yaml'} has no env.gamma: the optimal return depends on it")
        gamma = float(config["env.gamma"].iloc[0])
        optimal = optimal_discounted(s["env_id"], gamma)
        row = {
            "run_name": s["run_name"],
            "digest": s.get("weights_digest"),
            "agent": s["agent"],
            "norm": s["norm"],
            "seed": s["seed"],
            "env_steps": s["env_steps"],
            "greedy": s["eval/discounted_return"] / optimal,
            "sampled_success": s.get("sampled/success_rate", np.nan),
            "sampled_episodes": s.get("sampled/episodes", 0),
            "sampled_return": s.get("sampled/discounted_return", np.nan) / optimal,
            "steps_to_target": np.nan,
            "optimal": optimal,
            "policy_lr": float(config.get("ppo.policy_lr", pd.Series([np.nan])).iloc[0]),
            "model": s.get("model", "-"),
            "algorithm": s.get("algorithm", "PPO"),
            "wall_seconds": s.get("wall_seconds", np.nan),
            "cpu": s.get("cpu", "-"),
        }
        if RunDir(run).metrics.exists():
            m = pd.read_csv(RunDir(run).metrics)
            evals = m.dropna(subset=["eval/discounted_return"])
            hit = evals[evals["eval/discounted_return"] >= TARGET * optimal]["global_step"]
            row["steps_to_target"] = float(hit.iloc[0]) if len(hit) else np.nan
            row["metrics"] = m
        elif row["greedy"] >= TARGET:
            row["steps_to_target"] = 0.0
        rows.append(row)
    return pd.DataFrame(rows)


def _config(run: Path) -> dict:
    """The run's saved config as plain data. Read with libyaml: OmegaConf's reader gives the same dict for every
    archived config and takes 15x as long, which over the hundreds of archived runs was most of the tables' time."""
    return yaml.load(RunDir(run).config.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def training_return(metrics: pd.DataFrame, upto: int, window: int = 2048) -> float:
    """Mean discounted return of the training episodes that ended in the last ``window`` steps up to ``upto``
    (episodes weighted by count within one run: the seed's own estimate); NaN where none ended (no measurement)."""
    return _windowed_return(*_episode_rows(metrics), upto, window)


def _episode_rows(metrics: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The logged rows where training episodes ended: step, episode count, mean discounted return."""
    m = metrics.dropna(subset=["charts/episodes"])
    return m.global_step.to_numpy(), m["charts/episodes"].to_numpy(), m["charts/discounted_return"].to_numpy()


def _windowed_return(steps, episodes, returns, upto: int, window: int) -> float:
    inside = (steps > upto - window) & (steps <= upto)
    n = episodes[inside].sum()
    return float(np.nansum(returns[inside] * episodes[inside]) / n) if n else np.nan


def reached_cells(runs: pd.DataFrame) -> list[str]:
    """How many seeds' greedy policy reached the target, and the median step at which they did."""
    reached = runs.steps_to_target.dropna()
    return [f"{len(reached)}/{len(runs)}", fmt_steps(reached.median()) if len(reached) else "never"]


def est(values, statistic: str = "iqm") -> str:
    values = [v for v in values if not np.isnan(v)]
    return interval(values, statistic).text() if values else "n/a"


def poi(x, y) -> Estimate:
    return probability_of_improvement(list(x), list(y))


# The equivalence margin on a probability of improvement: P within [0.4, 0.6] means neither arm's run beats the
# other's in more than 60% of pairs. docs/RESULTS.md ("How to read these numbers") states it and why.
EQUIVALENCE_MARGIN = 0.1
REPOSITORY = Path(__file__).resolve().parents[2]
# A row whose status comes from a rule written after the data it first applied to says so (RESULTS, "How to read
# these numbers", dates each rule against the commits of its data).
LATE = " (rule set after the data)"
JOINT = "agents resampled with all their tasks; rule set after the data"  # the joint bootstrap's rows


def status(e: Estimate, seeds: int) -> str:
    """The rule of "How to read these numbers": 'holds' (or 'reversed') only where the interval excludes 0.5;
    'equivalent within +-d' only where the interval lies inside 0.5 +- d; otherwise 'not shown', with the seeds.
    Where the decision turns on an interval end that prints as the value it is compared with, the end is shown."""
    if e.excludes(0.5):
        return ("**holds**" if e.value > 0.5 else "**reversed**") + boundary_note(e, [0.5])
    if e.within(0.5, EQUIVALENCE_MARGIN):
        bounds = [0.5 - EQUIVALENCE_MARGIN, 0.5 + EQUIVALENCE_MARGIN]
        return f"equivalent within ±{EQUIVALENCE_MARGIN:g} ({seeds} seeds)" + boundary_note(e, bounds)
    return f"not shown ({seeds} seeds)" + boundary_note(e, [0.5, 0.5 - EQUIVALENCE_MARGIN, 0.5 + EQUIVALENCE_MARGIN])


def boundary_note(e: Estimate, bounds, digits: int = 2) -> str:
    """' (lower end 0.0049)' where an interval end prints, at ``digits``, as a bound it was compared with but is not
    that bound: the digits that show which side it is on. Empty otherwise."""
    notes = []
    for name, end in (("lower", e.low), ("upper", e.high)):
        for bound in bounds:
            if not np.isnan(end) and end != bound and f"{end:.{digits}f}" == f"{bound:.{digits}f}":
                notes.append(f"{name} end {precise(end, bound, digits)}")
                break
    return f" ({', '.join(notes)})" if notes else ""


def precise(value: float, bound: float, digits: int = 2) -> str:
    """``value`` with the fewest digits (beyond ``digits``) that print it apart from ``bound``."""
    for d in range(digits + 1, 12):
        if f"{value:.{d}f}" != f"{bound:.{d}f}":
            return f"{value:.{d}f}"
    return f"{value:.3g}"


def seed_counts(scores) -> int:
    """Seeds of one arm: a list's length, or the smallest task's over a mapping of task -> scores."""
    if isinstance(scores, dict):
        return min((len(v) for v in scores.values()), default=0)
    return len(scores)


def _progress(scores, planned) -> tuple[int, int]:
    """(seeds archived, seeds planned) of one arm; over a claim's tasks, summed (``planned``: one N, or per task)."""
    if not isinstance(scores, dict):
        return len(scores), int(planned)
    want = {t: planned[t] if isinstance(planned, dict) else int(planned) for t in scores}
    return sum(min(len(v), want[t]) for t, v in scores.items()), sum(want.values())


def claim_status(e: Estimate, x, y, planned: tuple, seeds: int | None = None, late: bool = True) -> str:
    """The status of a claim X > Y at its fixed n: 'interim, n of N' until both arms have their planned seeds
    (``planned``: N of X and of Y, each one number or task -> N); then 'both at floor' (or ceiling) where every
    seed of both arms scored 0 (or 1), nothing to compare; otherwise ``status``. ``seeds``: the count the status
    names, if not the arms' smaller. ``late``: whether the interim and floor rules came after the claim's data (they
    say so), False for a claim registered after them."""
    mark = LATE if late else ""
    (nx, wx), (ny, wy) = _progress(x, planned[0]), _progress(y, planned[1])
    if nx < wx or ny < wy:
        return (f"interim, {min(nx, ny)} of {wx}" if wx == wy else f"interim, {nx} of {wx} vs {ny} of {wy}") + mark
    values = [float(v) for arm in (x, y) for v in _flat(arm)]
    if values and all(v == 0 for v in values):
        return "both at floor, not measurable" + mark
    if values and all(v == 1 for v in values):
        return "both at ceiling, not measurable" + mark
    return status(e, min(seed_counts(x), seed_counts(y)) if seeds is None else seeds)


def _flat(scores) -> list:
    """Every score of an arm: a mapping's over its tasks, a matrix's (agents x tasks) over its cells."""
    if isinstance(scores, dict):
        return [v for vs in scores.values() for v in vs]
    return list(np.asarray(scores, dtype=float).ravel())


@cache
def _plan(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def planned_seeds(root: Path, plan: str, archive: str | None = None, sweep: str | None = None) -> int:
    """The seeds per arm a plan names, read from the plan itself: its sweeps archived into ``archive`` (or the sweep
    named ``sweep``), the union of their ``seeds:``."""
    data = _plan(root / plan if (root / plan).is_file() else REPOSITORY / plan)  # a test's data root has no plans
    seeds = {s for w in data["sweeps"] if w.get("archive") == archive or w["name"] == sweep for s in w["seeds"]}
    if not seeds:
        raise KeyError(f"{plan} has no sweep archived into {archive!r} or named {sweep!r}")
    return len(seeds)


def identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """The same seeds trained to the same weights (sha256 of the trained parameters in each summary)."""
    pairs = a.merge(b, on="seed", suffixes=("_a", "_b"))
    return len(pairs) == len(a) == len(b) and bool((pairs.digest_a.notna() & (pairs.digest_a == pairs.digest_b)).all())


# --- counts over episodes: one agent, Wilson intervals ------------------------------------------------------------
def successes(rate: float, episodes: float) -> int:
    """The count behind a logged success rate (rates are means of 0/1 over ``episodes``)."""
    k = rate * episodes
    if abs(k - round(k)) > 1e-3:  # archived rates keep 6 significant digits
        raise ValueError(f"success rate {rate} over {episodes} episodes is not a whole number of successes")
    return int(round(k))


def count(k: int, n: int) -> str:
    """``k/n = rate [Wilson 95%]``."""
    if n == 0:
        return "no episode"
    low, high = wilson(k, n)
    return f"{k}/{n} = {k / n:.2f} [{low:.2f}, {high:.2f}]"


def window_counts(metrics: pd.DataFrame, lo: int, hi: int) -> tuple[int, int]:
    """Training episodes that ended in updates with ``lo < global_step <= hi``: (successes, episodes)."""
    m = metrics.dropna(subset=["charts/episodes"])
    m = m[(m.global_step > lo) & (m.global_step <= hi)]
    return sum(successes(r, n) for r, n in zip(m["charts/success_rate"], m["charts/episodes"])), int(
        m["charts/episodes"].sum()
    )


def count_rows(csv: Path) -> pd.DataFrame:
    df = pd.read_csv(csv)
    df["k"] = [successes(r, n) for r, n in zip(df.success_rate, df.episodes)]
    return df


LORA_TARGET = 0.95  # LoRA's learning check (3e) and the studies after it: steps to 95% of optimal


def steps_to_fraction(metrics: pd.DataFrame, optimal: float, fraction: float, window: int = 1024) -> float:
    """The first step at which the training episodes (actions sampled from the policy) that ended in the last
    ``window`` steps average ``fraction`` of the optimal discounted return; NaN if never. Finer than the greedy
    evaluations (every 2,048 steps) and about the sampled policy, as the success claims are."""
    rows = _episode_rows(metrics)
    for step in rows[0]:
        if _windowed_return(*rows, int(step), window) >= fraction * optimal:
            return float(step)
    return np.nan


def steps_to_target(df: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Each run's steps to LORA_TARGET of optimal (NaN: never), and the same with a run that never gets there
    counted as its budget (a lower bound)."""
    steps = [steps_to_fraction(m, o, LORA_TARGET) for m, o in zip(df.metrics, df.optimal)]
    return steps, [b if np.isnan(x) else x for x, b in zip(steps, df.env_steps)]


# --- archives written by a campaign's after-steps -----------------------------------------------------------------
def finished(directory: Path, pattern: str) -> list[Path]:
    """The files ``pattern`` of the runs whose archive is complete: its summary is written last, after every
    evaluation of the run (a run still being evaluated has part of its rows on disk)."""
    return [p for p in sorted(directory.glob(pattern)) if (p.parents[1] / "summary.json").is_file()]


def retention_records(directory: Path) -> pd.DataFrame:
    """Base and adapted retention scores of every finished run in ``directory``."""
    frames = [pd.DataFrame(json.loads(p.read_text())) for p in finished(directory, "*/retention/retention.json")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


# --- summary readers shared by several studies ---
def facts(directory: Path, metrics: dict[str, str] | None = None) -> pd.DataFrame:
    """Per run: seed, resolved dtype, the machine that finished it, its minutes and env steps per second (over its
    wall time), and each summary key of ``metrics`` as the named column (NaN where a run did not record it)."""
    rows = []
    for path in sorted(directory.glob("*/summary.json")):
        s = json.loads(path.read_text())
        minutes = s.get("wall_seconds", np.nan) / 60
        sps = s["env_steps"] / (minutes * 60) if s.get("env_steps") else np.nan
        dtype = s.get("model_dtype") or f"{_config(path.parent)['model']['dtype']} (resolved dtype not recorded)"
        rows.append({"seed": int(s["seed"]), "dtype": dtype, "cpu": s.get("cpu", "not recorded"),
                     "minutes": minutes, "sps": sps,
                     **{column: s.get(key, np.nan) for column, key in (metrics or {}).items()}})  # fmt: skip
    columns = ["seed", "dtype", "cpu", "minutes", "sps", *(metrics or {})]
    return pd.DataFrame(rows, columns=columns)


CPU_ISA = (("amx_bf16", "AMX"), ("avx512_bf16", "AVX512-BF16"), ("avx512f", "AVX512"))


def cpu_with_isa(cpu: str) -> str:
    """ "AMD EPYC (AVX512-BF16)": machines of one name differ in what their bfloat16 and float32 products can use."""
    name, _, flags = cpu.partition("; ")
    has = {k for k, _, v in (f.partition("=") for f in flags.split()) if v == "yes"}
    isa = next((label for flag, label in CPU_ISA if flag in has), "no AVX512") if flags else "flags not recorded"
    return f"{name} ({isa})"


def short_cpu(cpus: pd.Series) -> str:
    """The distinct machines of an arm, each as its model and the widest matrix instructions it has."""
    return "; ".join(sorted({cpu_with_isa(cpu) if "; " in cpu else cpu for cpu in cpus}))


# --- what several studies read of one another ---


def exploration_at(metrics: pd.DataFrame, column: str, where: str) -> float:
    """A run's ``explore/<column>`` at its first update, or averaged over the last quarter of its updates."""
    values = metrics[f"explore/{column}"].dropna().to_numpy() if f"explore/{column}" in metrics else np.array([])
    if not len(values):
        return np.nan
    return float(values[0]) if where == "first" else float(values[-max(1, len(values) // 4) :].mean())


def first_to_last(metrics: pd.DataFrame, column: str, arrow: str = "→") -> str:
    """An exploration measure at the first update and over the last quarter; "-" for a run that never logged it."""
    first, last = exploration_at(metrics, column, "first"), exploration_at(metrics, column, "last")
    return "-" if np.isnan(first) else f"{first:.2f} {arrow} {last:.2f}"


TEN_SEEDS = "studies/ten_seeds/data/ten_seeds"  # the default model's ten-seed runs: PPO from scratch's, among others
ARM_COLUMNS = [  # the first columns of the 10-seed tables of arms: POAD's, and GiGPO's beside the same runs
    "task",
    "algorithm (policy)",
    "seeds",
    "sampled success, IQM [95% CI]",
    "sampled return / optimal, IQM [95% CI]",
]
