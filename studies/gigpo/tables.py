"""GiGPO, critic-free group advantages over candidate lists, against PPO (TWOSOME's) and POAD at 10 seeds (raw
data studies/gigpo/data/gigpo_ten_seeds/ and studies/gigpo/data/gigpo_ten_seeds_stream/, beside the POAD study's
runs)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import (
    ARM_COLUMNS,
    LORA_TARGET,
    archived_runs,
    claim_status,
    est,
    planned_seeds,
    poi,
    steps_to_fraction,
    table,
)

from twosome.evaluation.statistics import interval

PLAN = "studies/gigpo/plan.yaml"  # the stream variant's runs share its seeds per arm
POAD_PLAN = "studies/poad/plan.yaml"


def gigpo_ten_seeds(directory: str) -> Callable[[Path], str]:
    """Critic-free group advantages: GiGPO (no critic) against PPO (TWOSOME's) and POAD on the same tasks, seeds and
    budgets, 10 seeds per arm; PPO and POAD are the POAD study's runs. Steps to 95% of optimal from the training
    episodes, as in lora_check (a seed that never gets there counts as its budget: a lower bound)."""
    return lambda root: _gigpo_ten_seeds(root, directory)


def _gigpo_ten_seeds(root: Path, directory: str) -> str:
    rows, claims = [], []
    for task in ("tomato_salad", "food_preparation"):
        old = archived_runs(root / "studies/poad/data/poad_ten_seeds" / task)
        new = archived_runs(root / "studies/gigpo/data" / directory / task)
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
        n = (
            planned_seeds(root, PLAN, archive=f"gigpo_ten_seeds/{task}"),
            planned_seeds(root, POAD_PLAN, sweep=f"{task}-ppo_word"),
        )
        for other in ("PPO (word), TWOSOME", "POAD (trie)"):
            x, y = list(gigpo.sampled_return), list(arms[other].sampled_return)
            e = poi(x, y)
            claims.append(
                [task.replace("_", " "), f"GiGPO ends better than {other}", e.text(), claim_status(e, x, y, n)]
            )
            x, y = [-x for x in steps["GiGPO (word), no critic"]], [-x for x in steps[other]]
            e = poi(x, y)
            claims.append(
                [task.replace("_", " "), f"GiGPO learns faster than {other}", e.text(), claim_status(e, x, y, n)]
            )
    if not rows:
        plan = "studies/gigpo/plan.yaml"
        return f"Not run yet: `python experiments/campaign.py local {plan}` (and `poad_ten_seeds.yaml`).\n"
    header = [
        *ARM_COLUMNS,
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


TABLES: dict[str, Callable[[Path], str]] = {
    "gigpo_ten_seeds": gigpo_ten_seeds("gigpo_ten_seeds"),
    "gigpo_ten_seeds_stream": gigpo_ten_seeds("gigpo_ten_seeds_stream"),
}
