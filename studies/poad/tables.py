"""POAD's token-level credit assignment against TWOSOME's PPO and action-level PPO on POAD's trie policy: 10
seeds per arm (raw data studies/poad/data/poad_ten_seeds/) and the greedy evaluations along training
(studies/poad/data/poad/)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import (
    ARM_COLUMNS,
    TARGET,
    archived_runs,
    claim_status,
    est,
    optimal_discounted,
    planned_seeds,
    poi,
    reached_cells,
    table,
)

POAD_ROWS = [
    ("twosome", "word", "PPO (word), TWOSOME"),
    ("twosome+POAD", "trie", "POAD (trie)"),
    ("twosome", "trie", "PPO (trie), ablation"),
]


def poad(root: Path) -> str:
    """Greedy evaluations every 2,048 steps, per run (the tidy CSVs behind docs/figures/poad_*.png)."""
    rows = []
    for task in ("tomato_salad", "food_preparation"):
        curves = pd.read_csv(root / f"studies/poad/data/poad/{task}_curves.csv")
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


POAD_ARMS = [
    ("PPO", "word", "PPO (word), TWOSOME"),
    ("POAD", "trie", "POAD (trie)"),
    ("PPO", "trie", "PPO (trie), ablation"),
]


def poad_ten_seeds(root: Path) -> str:
    """POAD against TWOSOME's PPO and action-level PPO on POAD's trie policy, 10 seeds per arm and task."""
    rows, claims = [], []
    for task in ("tomato_salad", "food_preparation"):
        df = archived_runs(root / "studies/poad/data/poad_ten_seeds" / task)
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
                x, y = list(poad_runs.sampled_return), list(arms[other].sampled_return)
                e = poi(x, y)
                n = planned_seeds(root, "studies/poad/plan.yaml", sweep=f"{task}-poad_trie")
                claims.append([task.replace("_", " "), f"POAD > {other}", e.text(), claim_status(e, x, y, (n, n))])
    if not rows:
        return "Not run yet: `python experiments/campaign.py local studies/poad/plan.yaml`.\n"
    header = [
        *ARM_COLUMNS,
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


TABLES: dict[str, Callable[[Path], str]] = {
    "poad_ten_seeds": poad_ten_seeds,
    "poad": poad,
}
