"""The paper's comparison at 10 seeds with the embedded default model (raw data studies/ten_seeds/data/ten_seeds/): the
comparison per task, its aggregate over tasks, the claims as probabilities of improvement, the main job (`make
train`) seed by seed, the Food Preparation agents on unseen tasks, the Entertainment seed stream; and the
unseen-task generalization of the 3-seed comparison before it (docs/data/generalization_*_household.csv)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import (
    TARGET,
    TEN_SEEDS,
    archived_runs,
    claim_status,
    count,
    count_rows,
    est,
    fmt_steps,
    identical,
    planned_seeds,
    poi,
    reached_cells,
    successes,
    table,
    training_return,
)

from twosome.evaluation.statistics import interval, probability_of_improvement

PLAN = "studies/ten_seeds/plan.yaml"  # each arm's planned n: its sweep's ``seeds:``
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


def ten_seed_planned(root: Path, task: str, arm: str = "twosome-word") -> int:
    """The seeds the plan names for an arm of the comparison on ``task`` (its sweep ``<task>-<arm>``)."""
    return planned_seeds(root, PLAN, sweep=f"{task}-{arm}")


def ten_seed_runs(root: Path, task: str) -> pd.DataFrame:
    """One row per archived run of the 10-seed comparison on ``task``."""
    return archived_runs(root / TEN_SEEDS / task)


def ten_seed_comparison(task: str) -> Callable[[Path], str]:
    def make(root: Path) -> str:
        df = ten_seed_runs(root, task)
        if df.empty:
            return (
                f"No run archived yet: `python experiments/campaign.py local {PLAN}` is to run (its sweeps {task}-*).\n"
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
            n = ten_seed_planned(root, task)
            verdict = claim_status(e, xa, xb, (n, n))
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
            n = {t: ten_seed_planned(root, t) for t in tasks}
            a, b = {t: word[t] for t in tasks}, {t: other[t] for t in tasks}
            rows.append(
                [
                    f"all {len(tasks)} tasks",
                    f"TWOSOME (word) > {label}, {metric}"
                    + ("" if column == "sampled_success" else " (beside the pre-specified metric)"),
                    f"{seeds} per task",
                    f"{means[0]:.2f} vs {means[1]:.2f}",
                    e.text(),
                    claim_status(e, a, b, (n, n)),
                ]
            )
    return rows


# --- unseen-task generalization of the 3-seed comparison ------------------------------------------------------------
GENERALIZATION_AGENTS = {
    "twosome": "TWOSOME (word)",
    "zeroshot": "untrained TWOSOME (word)",
    "saycan": "SayCan",
    "ppo": "PPO from scratch",
}


def household_generalization(root: Path, csv: str = "generalization_food_preparation_household.csv") -> str:
    """Unseen-task generalization: the agents of the 3-seed comparison on unseen tasks, sampled episodes per run and
    task; the seed is the unit (mean of per-seed rates, 95% bootstrap interval over the 3 seeds)."""
    df = pd.read_csv(root / "studies/ten_seeds/data" / csv)
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
    """Why the first 3-seed Entertainment result did not reproduce: a bisect over the code between then and
    now (TWOSOME word, 12,800 steps, one thread), each row one run."""
    df = pd.read_csv(
        root / "studies/ten_seeds/data/entertainment_seed_stream.csv", dtype={"first_success_step": "Int64"}
    )
    before = {"4ce0b30", "c1b9d4e", "972a345"}
    rows = []
    for r in df.sort_values(["seed", "commit"]).itertuples():
        code = "before 3afa783" if r.commit in before else "3afa783 or later"
        if r.dataloader_draw_restored:
            code += ", the DataLoader's draw restored"
        first = "never" if pd.isna(r.first_success_step) else f"{r.first_success_step:,}"
        rows.append([r.seed, r.commit, code, r.updates_with_a_success, first])
    return table(["seed", "commit", "code", "updates with a successful training episode", "first at step"], rows)


TABLES: dict[str, Callable[[Path], str]] = {
    "ten_seeds_tomato_salad": ten_seed_comparison("tomato_salad"),
    "ten_seeds_food_preparation": ten_seed_comparison("food_preparation"),
    "ten_seeds_entertainment": ten_seed_comparison("entertainment"),
    "ten_seeds_claims": ten_seed_claims,
    "main_job": main_job,
    "ten_seeds_aggregate": ten_seed_aggregate,
    "ten_seeds_generalization": ten_seed_generalization,
    "entertainment_seed_stream": entertainment_seed_stream,
    "household_generalization": household_generalization,
    "household_cross_task": lambda root: household_generalization(root, "generalization_entertainment_household.csv"),
}
