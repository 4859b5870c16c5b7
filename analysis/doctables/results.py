"""The tables of docs/RESULTS.md, each a function of the repository root returning Markdown (registered in
``TABLES``; ``analysis/docs_tables.py`` writes them between their markers). They read only what is committed under
docs/data/. Statistics follow docs/RESULTS.md's conventions: the seed is the unit (each run's episodes are
aggregated first), IQM and mean over seeds with 95% stratified bootstrap intervals, Wilson intervals for one
agent's success over episodes (twosome.evaluation.statistics)."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
from learning_curves import TARGET_FRACTION as TARGET  # noqa: E402  (why 0.97: learning_curves.py)

from twosome.evaluation.statistics import Estimate, interval, probability_of_improvement, wilson
from twosome.run_dir import RunDir

TEN_SEEDS = "docs/data/ten_seeds"
AGENT_ROWS = [  # (agent, norm, label), in the order of the paper's comparison
    ("twosome", "word", "TWOSOME (word)"),
    ("twosome", "token", "TWOSOME (token)"),
    ("twosome", "none", "TWOSOME (none)"),
    ("ppo", "-", "PPO from scratch"),
    ("saycan", "word", "SayCan (word)"),
    ("zeroshot", "word", "untrained TWOSOME (word)"),
    ("zeroshot", "token", "untrained TWOSOME (token)"),
    ("zeroshot", "none", "untrained TWOSOME (none)"),
]


def table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def fmt_steps(steps: float) -> str:
    return "never" if np.isnan(steps) else f"{steps:,.0f}"


@cache
def optimal_discounted(env_id: str, gamma: float) -> float:
    from learning_curves import optimal_returns

    return optimal_returns([env_id], "discounted_return", {env_id: gamma})[env_id]


def ten_seed_runs(root: Path, task: str) -> pd.DataFrame:
    """One row per archived run of the 10-seed comparison on ``task``."""
    return archived_runs(root / TEN_SEEDS / task)


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
    from omegaconf import OmegaConf

    return OmegaConf.to_container(OmegaConf.load(RunDir(run).config))


def training_return(metrics: pd.DataFrame, upto: int, window: int = 2048) -> float:
    """Mean discounted return of the training episodes that ended in the last ``window`` steps up to ``upto``
    (episodes weighted by count within one run: the seed's own estimate); NaN where none ended (no measurement)."""
    m = metrics.dropna(subset=["charts/episodes"])
    m = m[(m.global_step > upto - window) & (m.global_step <= upto)]
    episodes = m["charts/episodes"].sum()
    return float((m["charts/discounted_return"] * m["charts/episodes"]).sum() / episodes) if episodes else np.nan


def reached_cells(runs: pd.DataFrame) -> list[str]:
    """How many seeds' greedy policy reached the target, and the median step at which they did."""
    reached = runs.steps_to_target.dropna()
    return [f"{len(reached)}/{len(runs)}", fmt_steps(reached.median()) if len(reached) else "never"]


def est(values, statistic: str = "iqm") -> str:
    values = [v for v in values if not np.isnan(v)]
    return interval(values, statistic).text() if values else "n/a"


def ten_seed_comparison(task: str) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        df = ten_seed_runs(root, task)
        if df.empty:
            return (
                f"No run archived yet: `python experiments/compare.py --profile ten_seeds --task {task}` is to run.\n"
            )
        rows = []
        for agent, norm, label in AGENT_ROWS:
            runs = df[(df.agent == agent) & (df.norm == norm)].sort_values("seed")
            if runs.empty:
                continue
            rows.append(
                [
                    label,
                    len(runs),
                    f"{int(runs.env_steps.max()):,}",
                    est(runs.sampled_success),
                    est(runs.sampled_success, "mean"),
                    est(runs.sampled_return),
                    est(runs.greedy),
                    *reached_cells(runs),
                ]
            )
        header = [
            "agent",
            "seeds",
            "env steps",
            "sampled success, IQM [95% CI]",
            "sampled success, mean [95% CI]",
            "sampled return / optimal, IQM [95% CI]",
            "greedy return / optimal, IQM [95% CI]",
            f"greedy reaches {TARGET:.0%} of optimal",
            "steps to it (median of those seeds)",
        ]
        return table(header, rows)

    return make


SEEDS_PER_AGENT = 10


def ten_seed_tasks(root: Path, complete: bool = False) -> list[str]:
    """Tasks with archived runs; ``complete``: only those where every agent of the comparison has all its seeds,
    so that an aggregate over tasks compares agents on the same tasks."""
    directory = root / TEN_SEEDS
    names = sorted(p.name for p in directory.iterdir() if p.is_dir()) if directory.is_dir() else []
    out = []
    for task in names:
        df = ten_seed_runs(root, task)
        if df.empty:
            continue
        counts = [int(((df.agent == a) & (df.norm == n)).sum()) for a, n, _ in AGENT_ROWS]
        if not complete or min(counts) >= SEEDS_PER_AGENT:
            out.append(task)
    return out


def ten_seed_scores(root: Path, agent: str, norm: str, column: str = "sampled_success") -> dict[str, list[float]]:
    """Per task, one score per seed of one agent (tasks where it has runs)."""
    out = {}
    for task in ten_seed_tasks(root, complete=True):
        df = ten_seed_runs(root, task)
        runs = df[(df.agent == agent) & (df.norm == norm)].sort_values("seed")
        if not runs.empty:
            out[task] = list(runs[column])
    return out


def ten_seed_aggregate(root: Path) -> str:
    """rliable's aggregate view: each agent over every task it ran, seeds resampled within each task."""
    rows = []
    for agent, norm, label in AGENT_ROWS:
        scores = ten_seed_scores(root, agent, norm)
        if not scores:
            continue
        returns = ten_seed_scores(root, agent, norm, "sampled_return")
        rows.append(
            [
                label,
                ", ".join(f"{t.replace('_', ' ')} ({len(v)})" for t, v in scores.items()),
                interval(scores, "iqm").text(),
                interval(scores, "mean").text(),
                interval(returns, "iqm").text(),
            ]
        )
    header = [
        "agent",
        "tasks (seeds)",
        "sampled success, IQM [95% CI]",
        "sampled success, mean [95% CI]",
        "sampled return / optimal, IQM [95% CI]",
    ]
    return table(header, rows)


def poi(x, y) -> Estimate:
    return probability_of_improvement(list(x), list(y))


# The equivalence margin on a probability of improvement: P within [0.4, 0.6] means neither arm's run beats the
# other's in more than 60% of pairs. docs/RESULTS.md ("How to read these numbers") states it and why.
EQUIVALENCE_MARGIN = 0.1


def status(e: Estimate, seeds: int) -> str:
    """The rule of "How to read these numbers": 'holds' (or 'reversed') only where the interval excludes 0.5;
    'equivalent within +-d' only where the interval lies inside 0.5 +- d; otherwise 'not shown', with the seeds."""
    if e.excludes(0.5):
        return "**holds**" if e.value > 0.5 else "**reversed**"
    if e.within(0.5, EQUIVALENCE_MARGIN):
        return f"equivalent within ±{EQUIVALENCE_MARGIN:g} ({seeds} seeds)"
    return f"not shown ({seeds} seeds)"


def identical(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """The same seeds trained to the same weights (sha256 of the trained parameters in each summary)."""
    pairs = a.merge(b, on="seed", suffixes=("_a", "_b"))
    return len(pairs) == len(a) == len(b) and bool((pairs.digest_a.notna() & (pairs.digest_a == pairs.digest_b)).all())


def main_job(root: Path) -> str:
    """`make train` is TWOSOME (word) on Tomato Salad: the 10-seed runs of that row, seed by seed."""
    df = ten_seed_runs(root, "tomato_salad")
    runs = df[(df.agent == "twosome") & (df.norm == "word")].sort_values("seed") if not df.empty else df
    if runs.empty:
        return "No run archived yet.\n"
    rows = [
        [
            r.seed,
            f"{r.greedy:.3f}",
            "yes" if r.greedy >= 1 - 1e-9 else "no",
            count(successes(r.sampled_success, r.sampled_episodes), int(r.sampled_episodes)),
            fmt_steps(r.steps_to_target),
        ]
        for r in runs.itertuples()
    ]
    optimal = int((runs.greedy >= 1 - 1e-9).sum())
    rows.append(
        ["all", f"IQM {est(runs.greedy)}", f"**{optimal}/{len(runs)}**", f"IQM {est(runs.sampled_success)}", ""]
    )
    header = [
        "seed",
        "final greedy return / optimal",
        "greedy plan optimal",
        "sampled success [Wilson 95%]",
        f"steps to {TARGET:.0%} of optimal",
    ]
    return table(header, rows)


def ten_seed_claims(root: Path) -> str:
    """The paper's orderings as probabilities of improvement between per-seed scores, task by task."""
    rows = []
    for task in ten_seed_tasks(root):
        df = ten_seed_runs(root, task)

        def of(agent, norm, df=df):
            return df[(df.agent == agent) & (df.norm == norm)].sort_values("seed")

        word = of("twosome", "word")
        if word.empty:
            continue
        budget = int(word.env_steps.max())
        comparisons = [
            (
                "TWOSOME (word) > PPO from scratch: training return / optimal at TWOSOME's budget",
                word,
                of("ppo", "-"),
                True,
            ),
            (
                "TWOSOME (word) at its budget > PPO from scratch at the end of its own schedule, sampled success",
                word,
                of("ppo", "-"),
                False,
            ),
            ("TWOSOME (word) > TWOSOME (none), sampled success", word, of("twosome", "none"), False),
            ("TWOSOME (word) >= TWOSOME (token), sampled success", word, of("twosome", "token"), False),
            ("TWOSOME (word) > SayCan, sampled success", word, of("saycan", "word"), False),
            ("TWOSOME (word) > untrained TWOSOME (word), sampled success", word, of("zeroshot", "word"), False),
        ]
        for claim, a, b, at_budget in comparisons:
            if a.empty or b.empty:
                continue
            if at_budget:
                if "metrics" not in b:
                    continue
                xa = [training_return(m, budget) / o for m, o in zip(a.metrics, a.optimal)]
                xb = [training_return(m, budget) / o for m, o in zip(b.metrics, b.optimal)]
                xa, xb = [x for x in xa if not np.isnan(x)], [x for x in xb if not np.isnan(x)]  # seeds measured
            else:
                xa, xb = list(a.sampled_success), list(b.sampled_success)
            e = poi(xa, xb)
            seeds = min(len(xa), len(xb))
            verdict = status(e, seeds)
            if identical(a, b):
                verdict = "**identical seed for seed** (same trained weights)"
            rows.append(
                [
                    task.replace("_", " "),
                    claim,
                    f"{len(xa)} vs {len(xb)}",
                    f"{np.mean(xa):.2f} vs {np.mean(xb):.2f}",
                    e.text(),
                    verdict,
                ]
            )
    rows += ten_seed_aggregate_claims(root)
    header = ["task", "claim (paper)", "seeds", "mean per-seed score", "P(improvement) [95% CI]", "status"]
    return table(header, rows)


def ten_seed_aggregate_claims(root: Path) -> list[list[str]]:
    """Claims that span tasks, over every task both agents ran (Agarwal et al.'s probability of improvement, seeds
    resampled within each task): the pre-specified metric (sampled success) and, beside it, sampled return."""
    rows = []
    for (agent, norm), label in (
        (("twosome", "none"), "TWOSOME (none)"),
        (("saycan", "word"), "SayCan"),
        (("zeroshot", "word"), "untrained TWOSOME (word)"),
    ):
        for column, metric in (("sampled_success", "sampled success"), ("sampled_return", "sampled return / optimal")):
            word, other = ten_seed_scores(root, "twosome", "word", column), ten_seed_scores(root, agent, norm, column)
            tasks = [t for t in word if t in other]
            if len(tasks) < 2:
                continue
            e = probability_of_improvement({t: word[t] for t in tasks}, {t: other[t] for t in tasks})
            means = [np.mean([np.mean(scores[t]) for t in tasks]) for scores in (word, other)]
            seeds = min(min(len(word[t]), len(other[t])) for t in tasks)
            rows.append(
                [
                    f"all {len(tasks)} tasks",
                    f"TWOSOME (word) > {label}, {metric}"
                    + ("" if column == "sampled_success" else " (beside the pre-specified metric)"),
                    f"{seeds} per task",
                    f"{means[0]:.2f} vs {means[1]:.2f}",
                    e.text(),
                    status(e, seeds),
                ]
            )
    return rows


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


def count_rows(csv: Path) -> pd.DataFrame:
    df = pd.read_csv(csv)
    df["k"] = [successes(r, n) for r, n in zip(df.success_rate, df.episodes)]
    return df


# --- GLAM on BabyAI-Text GoTo ---------------------------------------------------------------------------------------
GLAM = "docs/data/glam_goto"
WINDOWS = {  # label: (after step, up to step)
    "0-1k": (0, 1024),
    "1k-2k": (1024, 2048),
    "2k-3k": (2048, 3072),
    "3k-4k": (3072, 4096),
    "4k-10k": (4096, 10_240),
    "10k-20k": (10_240, 20_480),
    "20k-51k": (20_480, 51_200),
    "51k-100k": (51_200, 100_000),
}
GLAM_RUNS = [  # (label, run directories)
    ("GLAM, SmolLM2 pretrained (seed 0)", ["smollm2_s0"]),
    ("GLAM, SmolLM2 random weights (seed 0)", ["smollm2_random_s0"]),
    ("GLAM, SmolLM2 random weights, token-normalized scores (seed 0)", ["smollm2_random_token_s0"]),
    (
        "PPO from scratch, symbolic (3 seeds: mean of per-seed rates [95% CI])",
        ["scratch_s0", "scratch_s1", "scratch_s2"],
    ),
]


def window_counts(metrics: pd.DataFrame, lo: int, hi: int) -> tuple[int, int]:
    """Training episodes that ended in updates with ``lo < global_step <= hi``: (successes, episodes)."""
    m = metrics.dropna(subset=["charts/episodes"])
    m = m[(m.global_step > lo) & (m.global_step <= hi)]
    return sum(successes(r, n) for r, n in zip(m["charts/success_rate"], m["charts/episodes"])), int(
        m["charts/episodes"].sum()
    )


def glam_windows(root: Path) -> str:
    rows = []
    for label, runs in GLAM_RUNS:
        metrics = [pd.read_csv(RunDir(root / GLAM / r).metrics) for r in runs]
        last = max(int(m.global_step.max()) for m in metrics)
        cells = []
        for lo, hi in WINDOWS.values():
            if lo >= last:
                cells.append("")
                continue
            counts = [window_counts(m, lo, hi) for m in metrics]
            if len(runs) == 1:
                cells.append(count(*counts[0]))
            else:
                rates = [k / n for k, n in counts if n]
                pooled = f"{sum(k for k, _ in counts)}/{sum(n for _, n in counts)} episodes"
                cells.append(f"{interval(rates, 'mean').text()} ({pooled})")
        rows.append([label, *cells])
    random = RunDir(root / GLAM / "random_uniform").read_summary()
    n = int(random["eval/episodes"])
    rows.append(["uniform random policy", count(successes(random["eval/success_rate"], n), n), *[""] * 7])
    return table(["agent", *WINDOWS], rows)


def glam_trained_vs_untrained(root: Path) -> str:
    labels = {
        ("zeroshot", "smollm2-135m"): "GLAM, SmolLM2, untrained (its twin: the same model, adapters at zero)",
        ("glam", "smollm2-135m"): "GLAM, SmolLM2, after 4,096 steps of PPO (seed 0)",
        ("glam", "smollm2-135m-random"): "GLAM, SmolLM2 random weights, token-normalized, after 4,096 steps of PPO "
        "(seed 0)",
    }
    df = pd.concat([count_rows(root / GLAM / f) for f in ("goto_trained_vs_untrained.csv", "goto_random_token.csv")])
    rows = [[labels[(r.agent, r.model)], count(r.k, int(r.episodes))] for r in df.itertuples()]
    order = list(labels.values())
    rows.sort(key=lambda r: order.index(r[0]))
    random = RunDir(root / GLAM / "random_uniform").read_summary()
    n = int(random["eval/episodes"])
    rows.append(["uniform random actions", count(successes(random["eval/success_rate"], n), n)])
    return table(["agent", "GoTo success (sampled) [Wilson 95%]"], rows)


def _relative(k: int, n: int, k0: int, n0: int) -> str:
    return f"{(k / n) / (k0 / n0) - 1:+.0%}" if k0 else "n/a"


LANGUAGE = {
    "BabyAI-GoTo-v0": ("GoTo (training task)", ""),
    "BabyAI-GoTo-NewNouns-v0": ("new nouns (key -> chair, ball -> table, box -> car)", "about -2%"),
    "BabyAI-GoTo-InventedNouns-v0": ("invented nouns (dax, xolo, afze)", ""),
    "BabyAI-GoTo-InventedWords-v0": ("invented words (dax, xolo, afze; faze, jatu, ...)", "about -13%"),
    "BabyAI-GoTo-SynonymActions-v0": ("synonym actions (rotate left, move ahead, take, ...)", "about -87%"),
    "BabyAI-GoTo-French-v0": ("French", "about -99%"),
}


def glam_language(root: Path) -> str:
    df = count_rows(root / GLAM / "language_generalization.csv")
    df = df[df.agent == "glam"]
    base = df[df.task == df.train_task].iloc[0]
    rows = []
    for r in df.itertuples():
        name = r.task.split("/")[-1]
        label, paper = LANGUAGE.get(name, (name, ""))
        rel = "" if r.task == r.train_task else f" ({_relative(r.k, r.episodes, base.k, base.episodes)})"
        rows.append([label, count(r.k, int(r.episodes)) + rel, paper])
    return table(
        [
            "task",
            "GLAM, SmolLM2 (4k steps, seed 0) [Wilson 95%]",
            "GLAM's paper (Flan-T5 780M, Mixed, relative to training)",
        ],
        rows,
    )


ROBUSTNESS = {
    "BabyAI-GoTo-v0": "GoTo (training setting: 8 distractors, 6 actions)",
    "BabyAI-GoTo-Distractors0-v0": "0 distractors",
    "BabyAI-GoTo-Distractors4-v0": "4 distractors",
    "BabyAI-GoTo-Distractors16-v0": "16 distractors",
    "BabyAI-GoTo-Navigation3-v0": "3 actions (turn left, turn right, go forward)",
    "BabyAI-GoTo-Useless6-v0": "6 actions (those 3 + eat, dance, sleep)",
    "BabyAI-GoTo-Useless9-v0": "9 actions (those 6 + do nothing, cut, think)",
}


def glam_robustness(root: Path) -> str:
    df = count_rows(root / GLAM / "robustness_generalization.csv")
    agent, chance = df[df.agent == "glam"], df[df.agent == "random"].set_index("task")
    base = agent[agent.task == agent.train_task].iloc[0]
    rows = []
    for r in agent.itertuples():
        rel = "" if r.task == r.train_task else f" ({_relative(r.k, r.episodes, base.k, base.episodes)})"
        c = chance.loc[r.task]
        rows.append(
            [
                ROBUSTNESS.get(r.task.split("/")[-1], r.task),
                count(r.k, int(r.episodes)) + rel,
                count(int(c.k), int(c.episodes)),
            ]
        )
    header = ["setting", "GLAM, SmolLM2 (4k steps on GoTo, seed 0) [Wilson 95%]", "uniform random actions"]
    return table(header, rows)


# --- SmolLM2 on a GPU, 3 seeds --------------------------------------------------------------------------------------
SMOL = "docs/data/smollm2_gpu"
SMOL_ROWS = [
    ("twosome", "word", "TWOSOME (word)"),
    ("twosome", "token", "TWOSOME (token)"),
    ("twosome", "none", "TWOSOME (none)"),
    ("saycan", "word", "SayCan (word)"),
]


def smollm2_gpu(prefix: str) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        df = archived_runs(root / SMOL)
        df = df[df.run_name.str.startswith(prefix)]
        rows = []
        for agent, norm, label in SMOL_ROWS:
            runs = df[(df.agent == agent) & (df.norm == norm)].sort_values("seed")
            reached = runs.steps_to_target.dropna()
            rows.append(
                [
                    label,
                    ", ".join(str(s) for s in runs.seed),
                    ", ".join(f"{g:.3f}" for g in runs.greedy),
                    est(runs.greedy),
                    f"{len(reached)}/{len(runs)}",
                    ", ".join(f"{x:,.0f}" for x in reached) or "never",
                    "; ".join(training_history(m) for m in runs.metrics),
                ]
            )
        header = [
            "agent",
            "seeds",
            "final greedy return / optimal, per seed",
            "IQM [95% CI]",
            f"greedy reaches {TARGET:.0%} of optimal",
            "at steps",
            "per seed: successful training episodes (first-last step), policy entropy max -> last",
        ]
        return table(header, rows)

    return make


def training_history(metrics: pd.DataFrame) -> str:
    """What a run's training episodes did: how many succeeded and when, and how far its policy entropy fell."""
    m = metrics.dropna(subset=["charts/episodes"])
    won = m[m["charts/success_rate"] > 0]
    k = sum(successes(r, n) for r, n in zip(won["charts/success_rate"], won["charts/episodes"]))
    when = f" ({won.global_step.min():,.0f}-{won.global_step.max():,.0f})" if k else ""
    entropy = metrics["losses/entropy"].dropna()
    return f"{k}{when}, entropy {entropy.max():.2f} -> {entropy.iloc[-1]:.2g}"


def smollm2_generalization(root: Path) -> str:
    """One trained SmolLM2 agent (seed 2) and its untrained twin on the Food Preparation suite, 50 episodes per cell."""
    df = count_rows(root / "docs/data/generalization_smollm2_food_preparation_raw.csv")
    rows = []
    for task, cells in df.groupby("task", sort=False):
        by = {r.agent: count(r.k, int(r.episodes)) for r in cells.itertuples()}
        name = task.split("/")[-1].removesuffix("-v0").replace("VirtualHome-", "")
        if task == cells.train_task.iloc[0]:
            name += " (trained on)"
        rows.append([name, by.get("twosome", "n/a"), by.get("zeroshot", "n/a")])
    return table(["task", "SmolLM2 TWOSOME (word, seed 2) [Wilson 95%]", "untrained SmolLM2 [Wilson 95%]"], rows)


RETENTION = [  # (task, metric, label, digits)
    ("twosome_household_mc", "acc", "household MC acc", 3),
    ("twosome_household_ppl", "word_perplexity", "household word perplexity", 1),
    ("twosome_english_ppl", "word_perplexity", "English word perplexity", 0),
    ("twosome_english_ppl", "bits_per_byte", "English bits per byte", 2),
]


def smollm2_retention(root: Path) -> str:
    records = pd.DataFrame(json.loads((root / "docs/data/retention_smollm2.json").read_text()))
    rows = []
    for _, rec in records.groupby("run", sort=False):
        cells = []
        for task, metric, _, digits in RETENTION:
            pick = rec[(rec.task == task) & (rec.metric == metric)].set_index("which")["value"]
            before, after = pick["before"], pick["after"]
            change = f" ({after / before - 1:+.0%})" if metric != "acc" else ""
            cells.append(f"{before:.{digits}f} -> {after:.{digits}f}{change}")
        env = rec.env_id.iloc[0].split("/")[-1].removesuffix("-v0")
        rows.append([f"{env}, {rec.norm.iloc[0]}, seed {rec.seed.iloc[0]}", *cells])
    return table(["run", *[f"{label} before -> after" for *_, label, _ in RETENTION]], rows)


# --- zero-shot prior (issue 14), POAD (issue 19), generalization of the household model (issue 5) -------------------
def zero_shot(root: Path) -> str:
    df = count_rows(root / "docs/data/zero_shot_prior.csv")
    tasks = [
        "Overcooked-TomatoSalad",
        "Overcooked-TomatoLettuceSalad",
        "VirtualHome-FoodPreparation",
        "VirtualHome-Entertainment",
        "BabyAI-GoTo",
    ]
    columns = [
        ("random", "-", "-", "uniform random"),
        ("zeroshot", "tiny-household", "word", "household model, word"),
        ("zeroshot", "tiny-household", "none", "household model, none"),
        ("zeroshot", "smollm2-135m", "word", "SmolLM2, word"),
        ("zeroshot", "smollm2-135m", "token", "SmolLM2, token"),
        ("zeroshot", "smollm2-135m", "none", "SmolLM2, none"),
    ]
    rows = []
    for task in tasks:
        cells = []
        for agent, model, norm, _ in columns:
            hit = df[(df.task == task) & (df.agent == agent) & (df.model == model) & (df.norm == norm)]
            cells.append(count(int(hit.k.iloc[0]), int(hit.episodes.iloc[0])) if len(hit) else "not run")
        rows.append([task.split("-", 1)[1], *cells])
    return table(["task", *[c[-1] for c in columns]], rows)


POAD_ROWS = [
    ("twosome", "word", "PPO (word), TWOSOME"),
    ("twosome+POAD", "trie", "POAD (trie)"),
    ("twosome", "trie", "PPO (trie), ablation"),
]


def poad(root: Path) -> str:
    """Greedy evaluations every 2,048 steps, per run (the tidy CSVs behind docs/figures/poad_*.png)."""
    rows = []
    for task in ("tomato_salad", "food_preparation"):
        curves = pd.read_csv(root / f"docs/data/poad/{task}_curves.csv")
        evals = curves[curves.curve == "evaluation (greedy)"]
        env = evals.env.iloc[0]
        optimal = optimal_discounted(env, float(evals.gamma.iloc[0]))
        for agent, norm, label in POAD_ROWS:
            finals, steps, after, below = [], [], 0, 0
            for _, run in evals[(evals.agent == agent) & (evals.norm == norm)].groupby("seed"):
                run = run.sort_values("global_step")
                score = run["return"].to_numpy() / optimal
                finals.append(score[-1])
                hit = np.flatnonzero(score >= TARGET)
                if len(hit):
                    steps.append(float(run.global_step.iloc[hit[0]]))
                    later = score[hit[0] + 1 :]
                    after, below = after + len(later), below + int((later < TARGET).sum())
            first = label == POAD_ROWS[0][2]
            rows.append(
                [
                    f"{env.split('/')[-1].removesuffix('-v0')} (optimal {optimal:.4f})" if first else "",
                    label,
                    ", ".join(f"{f:.3f}" for f in finals),
                    est(finals),
                    f"{len(steps)}/{len(finals)}",
                    ", ".join(f"{x:,.0f}" for x in steps) or "never",
                    f"{below} of {after}" if after else "-",
                ]
            )
    header = [
        "task",
        "algorithm (policy)",
        "final greedy return / optimal, per seed",
        "IQM [95% CI]",
        f"greedy reaches {TARGET:.0%} of optimal",
        "at steps",
        "later greedy evaluations below it",
    ]
    return table(header, rows)


GENERALIZATION_AGENTS = {
    "twosome": "TWOSOME (word)",
    "zeroshot": "untrained TWOSOME (word)",
    "saycan": "SayCan",
    "ppo": "PPO from scratch",
}


def household_generalization(root: Path, csv: str = "generalization_food_preparation_household.csv") -> str:
    """Issue 5: the agents of the 3-seed comparison on unseen tasks, sampled episodes per run and task; the seed is
    the unit (mean of per-seed rates, 95% bootstrap interval over the 3 seeds)."""
    df = pd.read_csv(root / "docs/data" / csv)
    labels = {a: label for a, label in GENERALIZATION_AGENTS.items() if a in set(df.agent)}
    rows = []
    for task, cells in df.groupby("task", sort=False):
        row = [task.split("/")[-1].removesuffix("-v0").replace("VirtualHome-", "")]
        for agent in labels:
            runs = cells[cells.agent == agent]
            if runs.empty or not runs.applicable.all():
                row.append("n/a")
                continue
            row.append(
                f"{interval(list(runs.success_rate), 'mean').text()} ({len(runs)} seeds x {int(runs.episodes.iloc[0])})"
            )
        rows.append(row)
    return table(["task", *labels.values()], rows)


def ten_seed_generalization(root: Path) -> str:
    """The Food Preparation agents of the 10-seed comparison whose greedy policy reached the optimum, on the unseen
    tasks and the nonce-word control: per-seed success rates, then their mean [95% bootstrap interval over seeds];
    the untrained twin (the same for every seed) over its episodes with a Wilson interval."""
    path = root / TEN_SEEDS / "generalization_food_preparation.csv"
    if not path.exists():
        return "Not run yet (commands above).\n"
    df = count_rows(path)
    twin_path = path.with_name(path.stem + "_twin.csv")
    twins = count_rows(twin_path) if twin_path.exists() else df.iloc[:0]
    rows = []
    for task, cells in df.groupby("task", sort=False):
        trained = cells[cells.agent == "twosome"]
        twin = twins[(twins.task == task) & (twins.agent == "zeroshot")]
        name = task.split("/")[-1].removesuffix("-v0").replace("VirtualHome-", "")
        per_seed = ", ".join(f"{r:.2f}" for r in trained.success_rate)
        rows.append(
            [
                name,
                f"{est(trained.success_rate, 'mean')} ({len(trained)} seeds x {int(trained.episodes.max())})",
                per_seed,
                count(int(twin.k.sum()), int(twin.episodes.sum())) if len(twin) else "not run",
            ]
        )
    header = [
        "task",
        "TWOSOME (word), mean of per-seed success [95% CI]",
        "per seed",
        "untrained TWOSOME (word) [Wilson 95%]",
    ]
    return table(header, rows)


def entertainment_seed_stream(root: Path) -> str:
    """Why the 3-seed Entertainment result of issue 6 did not reproduce: a bisect over the code between then and
    now (TWOSOME word, 12,800 steps, one thread), each row one run."""
    df = pd.read_csv(root / "docs/data/entertainment_seed_stream.csv", dtype={"first_success_step": "Int64"})
    before = {"4ce0b30", "c1b9d4e", "972a345"}
    rows = []
    for r in df.sort_values(["seed", "commit"]).itertuples():
        code = "before 3afa783" if r.commit in before else "3afa783 or later"
        if r.dataloader_draw_restored:
            code += ", the DataLoader's draw restored"
        first = "never" if pd.isna(r.first_success_step) else f"{r.first_success_step:,}"
        rows.append([r.seed, r.commit, code, r.updates_with_a_success, first])
    return table(["seed", "commit", "code", "updates with a successful training episode", "first at step"], rows)


PRIOR = "docs/data/prior_ten_seeds"
PRIOR_MODELS = {"tiny-household": "pretrained", "tiny-household-random": "random init"}


def prior_pick(root: Path) -> str:
    """The learning-rate pick of the pretrained-vs-random-init study: 3 pick seeds (100-102) per model and rate."""
    df = archived_runs(root / PRIOR / "pick")
    if df.empty:
        return "Not run yet: `python experiments/studies.py prior`.\n"
    rows = []
    for (model, lr), runs in df.groupby(["model", "policy_lr"]):
        rows.append(
            [
                f"{PRIOR_MODELS.get(model, model)} ({model})",
                f"{lr:g}",
                len(runs),
                ", ".join(f"{x:.2f}" for x in runs.sort_values("seed").sampled_success),
                f"{runs.sampled_success.mean():.3f}",
                f"{runs.sampled_return.mean():.3f}",
            ]
        )
    header = [
        "model",
        "policy lr",
        "pick seeds",
        "sampled success per seed",
        "mean sampled success",
        "mean sampled return / optimal (tie-break)",
    ]
    return table(header, rows)


def prior_final(root: Path) -> str:
    """Pretrained against random-init weights on Tomato Salad, 10 seeds each at the rate each model picked."""
    df = archived_runs(root / PRIOR)
    if df.empty:
        return "Not run yet: `python experiments/studies.py prior`.\n"
    rows, by_model = [], {}
    for model, runs in df.groupby("model"):
        runs = runs.sort_values("seed")
        by_model[model] = runs
        rows.append(
            [
                f"{PRIOR_MODELS.get(model, model)} ({model})",
                ", ".join(sorted({f"{x:g}" for x in runs.policy_lr})),
                len(runs),
                est(runs.sampled_success),
                est(runs.sampled_return),
                *reached_cells(runs),
            ]
        )
    header = [
        "model",
        "policy lr (picked)",
        "seeds",
        "sampled success, IQM [95% CI]",
        "sampled return / optimal, IQM [95% CI]",
        f"greedy reaches {TARGET:.0%} of optimal",
        "steps to it (median)",
    ]
    out = table(header, rows)
    if set(by_model) == set(PRIOR_MODELS):
        a, b = by_model["tiny-household"], by_model["tiny-household-random"]
        e = poi(a.sampled_return, b.sampled_return)
        out += (
            f"\nP(pretrained > random init), sampled return / optimal: {e.text()}, {status(e, min(len(a), len(b)))}.\n"
        )
    return out


POAD_ARMS = [
    ("PPO", "word", "PPO (word), TWOSOME"),
    ("POAD", "trie", "POAD (trie)"),
    ("PPO", "trie", "PPO (trie), ablation"),
]


def poad_ten_seeds(root: Path) -> str:
    """POAD against TWOSOME's PPO and action-level PPO on POAD's trie policy, 10 seeds per arm and task."""
    rows, claims = [], []
    for task in ("tomato_salad", "food_preparation"):
        df = archived_runs(root / "docs/data/poad_ten_seeds" / task)
        if df.empty:
            continue
        arms = {label: df[(df.algorithm == a) & (df.norm == n)].sort_values("seed") for a, n, label in POAD_ARMS}
        for label, runs in arms.items():
            if runs.empty:
                continue
            rows.append(
                [
                    task.replace("_", " ") if label == POAD_ARMS[0][2] else "",
                    label,
                    len(runs),
                    est(runs.sampled_success),
                    est(runs.sampled_return),
                    est(runs.greedy),
                    *reached_cells(runs),
                    f"{runs.wall_seconds.median():.0f}",
                ]
            )
        poad_runs = arms["POAD (trie)"]
        for other in ("PPO (word), TWOSOME", "PPO (trie), ablation"):
            if len(poad_runs) and len(arms[other]):
                e = poi(poad_runs.sampled_return, arms[other].sampled_return)
                seeds = min(len(poad_runs), len(arms[other]))
                claims.append([task.replace("_", " "), f"POAD > {other}", e.text(), status(e, seeds)])
    if not rows:
        return "Not run yet: `python experiments/studies.py poad`.\n"
    header = [
        "task",
        "algorithm (policy)",
        "seeds",
        "sampled success, IQM [95% CI]",
        "sampled return / optimal, IQM [95% CI]",
        "greedy return / optimal, IQM [95% CI]",
        f"greedy reaches {TARGET:.0%} of optimal",
        "steps to it (median)",
        "wall seconds per run (median)",
    ]
    out = table(header, rows)
    if claims:
        out += "\n" + table(
            ["task", "comparison (sampled return / optimal)", "P(improvement) [95% CI]", "status"], claims
        )
    return out


def gigpo_ten_seeds(directory: str) -> Callable[[Path], str]:
    """Issue 32: GiGPO (no critic) against PPO (TWOSOME's) and POAD on the same tasks, seeds and budgets, 10 seeds
    per arm; PPO and POAD are the POAD study's runs. Steps to 95% of optimal from the training episodes, as in
    lora_check (a seed that never gets there counts as its budget: a lower bound)."""
    return lambda root: _gigpo_ten_seeds(root, directory)


def _gigpo_ten_seeds(root: Path, directory: str) -> str:
    rows, claims = [], []
    for task in ("tomato_salad", "food_preparation"):
        old = archived_runs(root / "docs/data/poad_ten_seeds" / task)
        new = archived_runs(root / "docs/data" / directory / task)
        if new.empty or old.empty:
            continue
        arms = {
            "PPO (word), TWOSOME": old[(old.algorithm == "PPO") & (old.norm == "word")],
            "POAD (trie)": old[(old.algorithm == "POAD") & (old.norm == "trie")],
            "GiGPO (word), no critic": new[new.algorithm == "GiGPO"],
        }
        steps = {}
        for label, runs in arms.items():
            runs = arms[label] = runs.sort_values("seed")
            reached = [steps_to_fraction(m, o, LORA_TARGET) for m, o in zip(runs.metrics, runs.optimal)]
            steps[label] = [b if np.isnan(x) else x for x, b in zip(reached, runs.env_steps)]
            rows.append(
                [
                    task.replace("_", " ") if label.startswith("PPO") else "",
                    label,
                    len(runs),
                    est(runs.sampled_success),
                    est(runs.sampled_return),
                    f"{sum(not np.isnan(x) for x in reached)}/{len(runs)}",
                    interval(steps[label]).text(digits=0),
                    trained_share(runs),
                    f"{runs.wall_seconds.median():.0f}",
                ]
            )
        gigpo = arms["GiGPO (word), no critic"]
        for other in ("PPO (word), TWOSOME", "POAD (trie)"):
            seeds = min(len(gigpo), len(arms[other]))
            e = poi(gigpo.sampled_return, arms[other].sampled_return)
            claims.append([task.replace("_", " "), f"GiGPO ends better than {other}", e.text(), status(e, seeds)])
            e = poi([-x for x in steps["GiGPO (word), no critic"]], [-x for x in steps[other]])
            claims.append([task.replace("_", " "), f"GiGPO learns faster than {other}", e.text(), status(e, seeds)])
    if not rows:
        return "Not run yet: `python experiments/studies.py gigpo` (and `poad`).\n"
    header = [
        "task",
        "algorithm (policy)",
        "seeds",
        "sampled success, IQM [95% CI]",
        "sampled return / optimal, IQM [95% CI]",
        f"reach {LORA_TARGET:.0%} of optimal (training episodes)",
        "steps to it, IQM [95% CI]",
        "decisions trained on (mean)",
        "wall seconds per run (median)",
    ]
    out = table(header, rows)
    return out + "\n" + table(["task", "comparison", "P(improvement) [95% CI]", "status"], claims)


def trained_share(runs: pd.DataFrame) -> str:
    """The share of a rollout's decisions an update trains on, averaged over updates and seeds: all of them for
    PPO and POAD, those of complete episodes for GiGPO."""
    shares = [m["charts/trained_decisions"].dropna().mean() for m in runs.metrics if "charts/trained_decisions" in m]
    return f"{np.mean(shares):.2f}" if shares else "1 (all)"


LORA_ARMS = [("all", "every block (30)"), ("top15", "top 15 blocks"), ("top8", "top 8 blocks")]
LORA_TARGET = 0.95  # issue 29: steps to 95% of the optimal return


def steps_to_fraction(metrics: pd.DataFrame, optimal: float, fraction: float, window: int = 1024) -> float:
    """The first step at which the training episodes (actions sampled from the policy) that ended in the last
    ``window`` steps average ``fraction`` of the optimal discounted return; NaN if never. Finer than the greedy
    evaluations (every 2,048 steps) and about the sampled policy, as the success claims are."""
    for step in metrics.dropna(subset=["charts/episodes"]).global_step:
        if training_return(metrics, int(step), window) >= fraction * optimal:
            return float(step)
    return np.nan


def steps_to_target(df: pd.DataFrame) -> tuple[list[float], list[float]]:
    """Each run's steps to LORA_TARGET of optimal (NaN: never), and the same with a run that never gets there
    counted as its budget (a lower bound)."""
    steps = [steps_to_fraction(m, o, LORA_TARGET) for m, o in zip(df.metrics, df.optimal)]
    return steps, [b if np.isnan(x) else x for x, b in zip(steps, df.env_steps)]


def lora_check(root: Path) -> str:
    """Issue 29's learning check: SmolLM2 TWOSOME (word) on Tomato Salad with LoRA on every block, the top 15, the
    top 8. Steps to 95% of optimal: a seed that never gets there counts as the run's budget (a lower bound)."""
    rows, arms = [], {}
    for arm, label in LORA_ARMS:
        df = archived_runs(root / "docs/data/lora_check" / arm)
        if df.empty:
            continue
        df = df.sort_values("seed")
        steps, censored = steps_to_target(df)
        arms[arm] = (df, censored)
        sps = [float(m["charts/SPS"].median()) for m in df.metrics]
        rows.append(
            [
                label,
                len(df),
                f"{sum(not np.isnan(x) for x in steps)}/{len(df)}",
                interval(censored).text(digits=0),
                est(df.sampled_success),
                est(df.sampled_return),
                f"{np.median(sps):.1f}",
                f"{df.wall_seconds.median() / 60:.1f}",
            ]
        )
    if not rows:
        return "Not run yet: `python experiments/studies.py lora_check`.\n"
    header = [
        "LoRA on",
        "seeds",
        f"reach {LORA_TARGET:.0%} of optimal",
        "steps to it, IQM [95% CI]",
        "final sampled success, IQM [95% CI]",
        "final sampled return / optimal, IQM [95% CI]",
        "env steps/s (median)",
        "minutes per run (median)",
    ]
    out = table(header, rows)
    claims = []
    if "all" in arms:
        for arm, label in LORA_ARMS[1:]:
            if arm not in arms:
                continue
            (a, a_steps), (b, b_steps) = arms[arm], arms["all"]
            seeds = min(len(a), len(b))
            faster = poi([-x for x in a_steps], [-x for x in b_steps])
            better = poi(a.sampled_return, b.sampled_return)
            claims.append([f"{label} learns faster than every block", faster.text(), status(faster, seeds)])
            claims.append([f"{label} ends better than every block", better.text(), status(better, seeds)])
    if claims:
        out += "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)
    return out


WORD_TOKEN_TASKS = [("food_preparation", "Food Preparation"), ("entertainment", "Entertainment")]


def word_token(root: Path) -> str:
    """Issue 29, item 4: SmolLM2 TWOSOME at its default LoRA blocks, word against token normalization, on the tasks
    where SmolLM2 splits action words into several tokens. Steps to 95% of optimal as in lora_check (a seed that never
    gets there counts as its budget); each seed's final sampled success with its Wilson interval over its episodes."""
    rows, claims = [], []
    for task, name in WORD_TOKEN_TASKS:
        arms = {}
        for norm in ("word", "token"):
            df = archived_runs(root / "docs/data/word_token" / task / norm)
            if df.empty:
                continue
            df = df.sort_values("seed")
            steps, censored = steps_to_target(df)
            arms[norm] = (df, censored)
            per_seed = "; ".join(
                f"s{seed}: {count(successes(rate, n), int(n))}"
                for seed, rate, n in zip(df.seed, df.sampled_success, df.sampled_episodes)
            )
            rows.append(
                [
                    name,
                    norm,
                    len(df),
                    f"{sum(not np.isnan(x) for x in steps)}/{len(df)}",
                    interval(censored).text(digits=0),
                    est(df.sampled_success),
                    est(df.sampled_return),
                    per_seed,
                ]
            )
        if len(arms) == 2:
            (w, w_steps), (t, t_steps) = arms["word"], arms["token"]
            seeds = min(len(w), len(t))
            faster = poi([-x for x in w_steps], [-x for x in t_steps])
            better = poi(w.sampled_success, t.sampled_success)
            claims.append([f"{name}: word learns faster than token", faster.text(), status(faster, seeds)])
            claims.append(
                [f"{name}: word ends with more sampled success than token", better.text(), status(better, seeds)]
            )
    if not rows:
        return "Not run yet: `python experiments/studies.py word_token`.\n"
    header = [
        "task",
        "norm",
        "seeds",
        f"reach {LORA_TARGET:.0%} of optimal",
        "steps to it, IQM [95% CI]",
        "final sampled success, IQM [95% CI]",
        "final sampled return / optimal, IQM [95% CI]",
        "per seed: sampled successes [Wilson 95%]",
    ]
    out = table(header, rows)
    if claims:
        out += "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)
    return out


EXACT_SUCCESS = "docs/data/exact_success"
EXACT_EPISODES = 100  # "in 100 episodes": about the 5,000 steps by which 3f's failed seeds had collapsed


def episodes_before_first_success(metrics: pd.DataFrame) -> str:
    """Training episodes logged before the first log row with a success ("never (N)": none in N episodes)."""
    m = metrics.dropna(subset=["charts/episodes"])
    hit = m["charts/success_rate"].to_numpy() > 0
    if not hit.any():
        return f"never ({m['charts/episodes'].sum():.0f})"
    return f"{m['charts/episodes'].to_numpy()[: hit.argmax()].sum():.0f}"


def exact_success(root: Path) -> str:
    """The exact probability that a policy sampled over the task succeeds within the horizon
    (analysis/exact_success.py: every reachable state scored once, backward induction), for the untrained policy of
    each normalization in 3f, and for each trained seed beside its 100 sampled final episodes (an instrument check:
    the exact value should lie in the sampled count's Wilson interval about 95% of the time)."""
    untrained_csv, trained_csv = (root / EXACT_SUCCESS / f"word_token_{m}.csv" for m in ("untrained", "trained"))
    if not untrained_csv.exists():
        return "Not run yet: `python analysis/exact_success.py RUN_DIR ... --untrained --out ...` (3f).\n"
    untrained = pd.read_csv(untrained_csv)
    trained = pd.read_csv(trained_csv) if trained_csv.exists() else pd.DataFrame(columns=untrained.columns)
    rows = []
    for task, name in WORD_TOKEN_TASKS:
        for norm in ("word", "token"):
            runs = archived_runs(root / "docs/data/word_token" / task / norm)
            u = untrained[untrained.run_name.isin(runs.run_name)] if len(runs) else untrained.iloc[:0]
            if u.empty:
                continue
            runs = runs.sort_values("seed")
            if u.p_success.nunique() != 1:
                raise ValueError(f"{untrained_csv}: the untrained {task} {norm} policies differ: {list(u.p_success)}")
            p = float(u.p_success.iloc[0])
            first = "; ".join(
                f"s{seed}: {episodes_before_first_success(m)}" for seed, m in zip(runs.seed, runs.metrics)
            )
            runs = runs.set_index("run_name")
            t = trained[trained.run_name.isin(runs.index)].sort_values("seed")
            per_seed, inside = [], 0
            for run_name, seed, exact in zip(t.run_name, t.seed, t.p_success):
                n = int(runs.sampled_episodes[run_name])
                k = successes(runs.sampled_success[run_name], n)
                lo, hi = wilson(k, n)
                inside += lo <= exact <= hi
                per_seed.append(f"s{seed}: {exact:.3g} ({k}/{n})")
            rows.append(
                [
                    name,
                    norm,
                    f"{p:.3g} (1 in {1 / p:,.0f})",
                    f"{1 - (1 - p) ** EXACT_EPISODES:.3g}",
                    first,
                    "; ".join(per_seed) or "not computed",
                    f"{inside}/{len(t)}" if len(t) else "",
                ]
            )
    header = [
        "task",
        "norm",
        "untrained: P(success within 50 steps), exact",
        f"untrained: P(a success in {EXACT_EPISODES} episodes)",
        "training episodes before the first success, per seed",
        "trained seeds: P(success), exact (sampled successes)",
        "exact value inside the sampled Wilson 95%",
    ]
    return table(header, rows)


def invalid_share(metrics: pd.DataFrame, start: int, stop: int) -> float:
    """Invalid decisions over all decisions of the training episodes that ended in steps (start, stop]."""
    m = metrics.dropna(subset=["charts/episodes"])
    m = m[(m.global_step > start) & (m.global_step <= stop)]
    decisions = (m["charts/episodic_length"] * m["charts/episodes"]).sum()
    invalid = (m["charts/invalid_action_rate"] * m["charts/episodic_length"] * m["charts/episodes"]).sum()
    return float(invalid / decisions) if decisions else np.nan


def summary_of(run: Path) -> dict:
    return RunDir(run).read_summary()


def generate_rl(root: Path) -> str:
    """Issue 31: the tiny model writing its actions, trained by reward (agent=generate_rl, POAD's token-level
    update), against TWOSOME scoring the valid ones (word), Tomato Salad, the same budget and PPO settings. Steps to
    95% of optimal as in lora_check (a seed that never gets there counts as the run's budget: a lower bound)."""
    arms = [
        ("TWOSOME (word): scores the valid actions", root / "docs/data/ten_seeds/tomato_salad", "twosome"),
        ("generate_rl: writes its action, trained by reward", root / "docs/data/generate_rl", "generate_rl"),
    ]
    writer = archived_runs(arms[1][1]) if arms[1][1].is_dir() else pd.DataFrame()
    if writer.empty:
        return "Not run yet: `python experiments/studies.py generate_rl`.\n"
    seeds = sorted(writer.seed)
    rows, steps_by_arm = [], {}
    for label, directory, agent in arms:
        df = archived_runs(directory)
        df = df[(df.agent == agent) & (df.norm.isin(["word", "-"])) & df.seed.isin(seeds)].sort_values("seed")
        budget = int(df.env_steps.max())
        steps = [steps_to_fraction(m, o, LORA_TARGET) for m, o in zip(df.metrics, df.optimal)]
        censored = [b if np.isnan(x) else x for x, b in zip(steps, df.env_steps)]
        steps_by_arm[agent] = censored
        if agent == "twosome":
            first = last = sampled_invalid = "0 (by construction)"
        else:
            first = f"{np.mean([invalid_share(m, 0, 1024) for m in df.metrics]):.2f}"
            last = f"{np.mean([invalid_share(m, budget - 1024, budget) for m in df.metrics]):.2f}"
            sampled_invalid = est([summary_of(directory / r)["sampled/invalid_action_rate"] for r in df.run_name])
        rows.append(
            [
                label,
                len(df),
                fmt_steps(budget),
                f"{sum(not np.isnan(x) for x in steps)}/{len(df)}",
                interval(censored).text(digits=0),
                est(df.sampled_success),
                sampled_invalid,
                first,
                last,
                f"{np.median([summary_of(directory / r)['sampled/episodic_length'] for r in df.run_name]):.0f}",
            ]
        )
    header = [
        "agent",
        "seeds",
        "env steps",
        f"reach {LORA_TARGET:.0%} of optimal (training episodes)",
        "steps to it, IQM [95% CI]",
        "final sampled success, IQM [95% CI]",
        "final sampled invalid decisions / decisions, IQM [95% CI]",
        "training invalid share, first 1,024 steps (mean)",
        "training invalid share, last 1,024 steps (mean)",
        "decisions per sampled episode (median)",
    ]
    out = table(header, rows)
    faster = poi([-x for x in steps_by_arm["twosome"]], [-x for x in steps_by_arm["generate_rl"]])
    n = len(steps_by_arm["generate_rl"])
    claims = [["TWOSOME reaches 95% of optimal sooner than the writer", faster.text(), status(faster, n)]]
    return out + "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)


PILOT_WINDOWS = ((0, 512), (1280, 1792))  # every pilot ran at least 1,792 steps


def generate_rl_pilot(root: Path) -> str:
    """Issue 31: how the writer's update was chosen. One seed (0) per setting on Tomato Salad: the invalid share of
    the training episodes early and late in a common window, and the length of what it wrote."""
    rows = []
    for run in sorted((root / "docs/data/generate_rl_pilot").glob("*/metrics.csv")):
        cfg = _config(run.parent)
        m = pd.read_csv(run)
        late = m[(m.global_step > PILOT_WINDOWS[1][0]) & (m.global_step <= PILOT_WINDOWS[1][1])]
        rows.append(
            [
                cfg["algo"].get("credit", "token"),  # runs from before the option: BAD's per-token credit
                f"{cfg['ppo']['ent_coef']:g}",
                f"{cfg['ppo']['policy_lr']:g}",
                f"{int(m.global_step.max()):,}",
                *(f"{invalid_share(m, a, b):.2f}" for a, b in PILOT_WINDOWS),
                f"{late['charts/tokens_per_action'].dropna().mean():.1f}",
            ]
        )
    if not rows:
        return "Not run yet.\n"
    header = ["credit", "entropy coefficient", "policy lr", "steps run", "invalid share, steps 1-512",
              "invalid share, steps 1,281-1,792", "tokens per action, steps 1,281-1,792"]  # fmt: skip
    return table(header, rows)


MISALIGNMENT_TASKS = {  # env id -> the task's name in the table, in the order of the papers
    "twosome/Overcooked-TomatoSalad-v0": "Tomato Salad",
    "twosome/Overcooked-TomatoLettuceSalad-v0": "Tomato-Lettuce Salad",
    "twosome/VirtualHome-FoodPreparation-v0": "Food Preparation",
    "twosome/VirtualHome-Entertainment-v0": "Entertainment",
    "twosome/BabyAI-GoTo-v0": "BabyAI-Text GoTo",
}


def misalignment(root: Path) -> str:
    """Issue 31: the LM writing its action (agent=generate, greedy, zero-shot): the share of decisions that name no
    valid action, success with its Wilson interval over the episodes, and the texts it wrote most often."""
    rows = []
    summaries = [json.loads(p.read_text()) for p in sorted((root / "docs/data/misalignment").glob("*/summary.json"))]
    order = list(MISALIGNMENT_TASKS)
    summaries.sort(key=lambda s: (order.index(s["env_id"]) if s["env_id"] in order else len(order), s["run_name"]))
    for s in summaries:
        episodes = int(s["eval/episodes"])
        successes = round(s["eval/success_rate"] * episodes)
        low, high = wilson(successes, episodes)
        texts = "; ".join(f'"{t}" ({c})' for t, c in s["generate/top_invalid_texts"][:3]) or "none"
        rows.append(
            [
                MISALIGNMENT_TASKS.get(s["env_id"], s["env_id"]),
                s["model"],
                s["run_name"].rsplit("-", 2)[-2],  # the decoding (run_label's last part)
                episodes,
                f"{s['eval/success_rate']:.2f} [{low:.2f}, {high:.2f}]",
                f"{s['eval/invalid_action_rate']:.2f}",
                f"{s['generate/lenient_invalid_rate']:.2f}" if "generate/lenient_invalid_rate" in s else "not read",
                f"{s['eval/episodic_length']:.1f}",
                texts,
            ]
        )
    if not rows:
        return "Not run yet: `python experiments/studies.py misalignment`.\n"
    header = [
        "task",
        "model",
        "decoding",
        "episodes",
        "success [Wilson 95%]",
        "invalid decisions / decisions, exact match (upper bound)",
        "... lenient reading (lower bound)",
        "decisions per episode",
        "most frequent invalid texts (count)",
    ]
    return table(header, rows)


def prompt_robustness(csv_name: str) -> Callable[[Path], str]:
    """Issue 31: success per wording and the sensitivity, each seed's spread across wordings (max - min, standard
    deviation). The seed is the unit for the trained runs (each run's 100 sampled episodes give one number); their
    untrained twins are one agent (the same base model, evaluated on the same episodes), so it is one row with a
    Wilson interval over its episodes, and its spread is one number."""

    def make(root: Path) -> str:
        path = root / "docs/data" / csv_name
        if not path.exists():
            return f"Not run yet: docs/data/{csv_name} is missing.\n"
        df = pd.read_csv(path)
        df = df[df.applicable]
        order = list(dict.fromkeys(df.wording))
        trained, twin = df[df.agent == "twosome"], df[df.agent == "zeroshot"]
        twin = twin[twin.seed == twin.seed.min()]  # every twin is the same agent: one of them
        twin_label = "untrained twin" if len(trained) else f"untrained TWOSOME ({twin.model.iloc[0]}, zero-shot)"
        rows = []
        for wording in order:
            cell = [wording + (" (the original's)" if wording == "canonical" else "")]
            if len(trained):
                cell.append(est(trained[trained.wording == wording].sort_values("seed").success_rate))
            if len(twin):
                row = twin[twin.wording == wording].iloc[0]
                low, high = wilson(round(row.success_rate * row.episodes), int(row.episodes))
                cell.append(f"{row.success_rate:.2f} [{low:.2f}, {high:.2f}]")
            rows.append(cell)
        for name, fn in (("spread: max - min over wordings", np.ptp), ("spread: std over wordings", np.std)):
            cell = [f"**{name}**"]
            if len(trained):
                cell.append(est(trained.groupby("seed").success_rate.agg(fn)))
            if len(twin):
                cell.append(f"{fn(twin.success_rate.to_numpy()):.2f}")
            rows.append(cell)
        header = ["wording"]
        if len(trained):
            header.append(f"trained TWOSOME (word): success, IQM over {trained.seed.nunique()} seeds [95% CI]")
        if len(twin):
            header.append(f"{twin_label}: success over {int(twin.episodes.iloc[0])} episodes [Wilson 95%]")
        return table(header, rows)

    return make


LEARNED = 0.5  # a seed "learned" its task at this sampled success on the canonical wording
MIN_SPREAD_SEEDS = 3  # fewer learning seeds in an arm: the spread comparison is not made
TRAINING_WORDINGS = 3  # env.wording=random draws from each family's first three paraphrases (envs/wording.py)


def wording_training(csv_name: str) -> Callable[[Path], str]:
    """Issue 31, part 3: TWOSOME trained on the canonical wording against trained on a random training paraphrase
    per episode, each evaluated in every wording (100 sampled episodes per run and wording). Spread per seed over
    the wordings neither arm trained on (canonical counts: both were evaluated on it; the random arm never saw it
    alone but its paraphrases' actions are the canonical ones reworded) and over all of them."""

    def make(root: Path) -> str:
        path = root / "docs/data" / csv_name
        if not path.exists():
            return f"Not run yet: docs/data/{csv_name} is missing.\n"
        df = pd.read_csv(path)
        df = df[df.applicable & (df.agent == "twosome")]
        order = list(dict.fromkeys(df.wording))
        paraphrases = [w for w in order if w not in ("canonical", "shuffled")]
        pool, held_out = paraphrases[:TRAINING_WORDINGS], paraphrases[TRAINING_WORDINGS:]
        arms = {"canonical": "trained on canonical", "random": "trained on random training paraphrases"}
        runs = {arm: df[df.train_wording == arm] for arm in arms}
        rows = []
        for wording in order:
            note = " (the original's)" if wording == "canonical" else ""
            note = " (training pool of random)" if wording in pool else " (held out)" if wording in held_out else note
            cell = [wording + note]
            for arm in arms:
                cell.append(est(runs[arm][runs[arm].wording == wording].sort_values("seed").success_rate))
            rows.append(cell)
        unseen = ["canonical", *held_out]
        # A spread means something only for a seed that learned its task: a seed that succeeds nowhere has none.
        # Learned: sampled success >= LEARNED on the canonical wording, on which both arms were evaluated.
        learned = {
            arm: set(runs[arm][(runs[arm].wording == "canonical") & (runs[arm].success_rate >= LEARNED)].seed)
            for arm in arms
        }
        spreads = {}
        for label, subset in (("held out and canonical", unseen), ("all wordings", order)):
            for name, fn in (("max - min", np.ptp), ("std", np.std)):
                cell = [f"spread ({name}), {label}, seeds that learned"]
                for arm in arms:
                    kept = runs[arm][runs[arm].wording.isin(subset) & runs[arm].seed.isin(learned[arm])]
                    per_seed = kept.groupby("seed").success_rate.agg(fn)
                    spreads[(arm, label, name)] = list(per_seed.sort_index())
                    cell.append(est(per_seed.sort_index()) if len(per_seed) else "no seed learned")
                rows.append(cell)
        seeds = {arm: runs[arm].seed.nunique() for arm in arms}
        header = [
            "wording",
            *(f"{label}: success, IQM over {seeds[arm]} seeds [95% CI]" for arm, label in arms.items()),
        ]
        out = table(header, rows)
        out += "\nSeeds that learned (sampled success >= {:g} on the canonical wording): {}.\n".format(
            LEARNED, "; ".join(f"{arms[arm]} {len(learned[arm])}/{seeds[arm]}" for arm in arms)
        )
        for arm in arms:
            per_seed = runs[arm].pivot_table(index="seed", columns="wording", values="success_rate")
            out += (
                f"\n{arms[arm].capitalize()}, sampled success per seed: "
                + "; ".join(
                    f"seed {seed}: " + ", ".join(f"{w} {row[w]:.2f}" for w in order)
                    for seed, row in per_seed.iterrows()
                )
                + ".\n"
            )
        n = min(seeds.values())
        claims = []
        n_learned = min(len(v) for v in learned.values())
        for label in ("held out and canonical", "all wordings"):
            what = f"random paraphrases narrow the spread (max - min, {label}, seeds that learned)"
            if n_learned < MIN_SPREAD_SEEDS:
                claims.append([what, f"not made: {n_learned} seeds learned in one arm", "—"])
                continue
            narrower = poi([-x for x in spreads[("random", label, "max - min")]],
                           [-x for x in spreads[("canonical", label, "max - min")]])  # fmt: skip
            claims.append([what, narrower.text(), status(narrower, n_learned)])
        canonical = {arm: runs[arm][runs[arm].wording == "canonical"].sort_values("seed").success_rate for arm in arms}
        better = poi(canonical["random"], canonical["canonical"])
        claims.append(["random paraphrases succeed more on the canonical wording", better.text(), status(better, n)])
        return out + "\n" + table(["comparison", "P(improvement) [95% CI]", "status"], claims)

    return make


TABLES: dict[str, Callable[[Path], str]] = {
    "ten_seeds_tomato_salad": ten_seed_comparison("tomato_salad"),
    "ten_seeds_food_preparation": ten_seed_comparison("food_preparation"),
    "ten_seeds_entertainment": ten_seed_comparison("entertainment"),
    "ten_seeds_claims": ten_seed_claims,
    "main_job": main_job,
    "ten_seeds_aggregate": ten_seed_aggregate,
    "ten_seeds_generalization": ten_seed_generalization,
    "entertainment_seed_stream": entertainment_seed_stream,
    "prior_pick": prior_pick,
    "prior_final": prior_final,
    "poad_ten_seeds": poad_ten_seeds,
    "gigpo_ten_seeds": gigpo_ten_seeds("gigpo_ten_seeds"),
    "gigpo_ten_seeds_stream": gigpo_ten_seeds("gigpo_ten_seeds_stream"),
    "lora_check": lora_check,
    "word_token": word_token,
    "exact_success": exact_success,
    "misalignment": misalignment,
    "generate_rl": generate_rl,
    "generate_rl_pilot": generate_rl_pilot,
    "prompt_robustness_tomato_salad": prompt_robustness("prompt_robustness_tomato_salad.csv"),
    "prompt_robustness_smollm2_tomato_salad": prompt_robustness("prompt_robustness_smollm2_tomato_salad.csv"),
    "wording_training_tomato_salad": wording_training("wording_training_tomato_salad.csv"),
    "wording_training_food_preparation": wording_training("wording_training_food_preparation.csv"),
    "smollm2_tomato_salad": smollm2_gpu("smol-ts-"),
    "smollm2_food_preparation": smollm2_gpu("smol-fp-"),
    "smollm2_generalization": smollm2_generalization,
    "smollm2_retention": smollm2_retention,
    "zero_shot": zero_shot,
    "poad": poad,
    "household_generalization": household_generalization,
    "household_cross_task": lambda root: household_generalization(root, "generalization_entertainment_household.csv"),
    "glam_windows": glam_windows,
    "glam_trained_vs_untrained": glam_trained_vs_untrained,
    "glam_language": glam_language,
    "glam_robustness": glam_robustness,
}
