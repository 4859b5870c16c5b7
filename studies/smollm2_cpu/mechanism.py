"""The exploration screening's mechanism on the real LLM (README, "The exploration mechanism on SmolLM2"): each
comparison's question, arms and metric were fixed here before the mechanism's first seed, and its status is read
once both arms have the seeds their plan names ("interim, n of N" before). The mechanism's arms are archived beside
the campaign's others, studies/smollm2_cpu/data/smollm2_cpu/<task>/<arm>_mechanism/; TextWorld's is the TextWorld
study's (studies/textworld/tables.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from doctables.common import archived_runs, claim_status, est, table

from studies.smollm2_cpu.tables import ARMS, CAMPAIGN, TASKS, planned, ppo_from_scratch, ppo_planned, returns_at
from twosome.evaluation.statistics import probability_of_improvement

SAMPLED = "final sampled success"
EFFICIENCY = "training return / optimal over the last 2,048 steps up to TWOSOME's budget"
PPO_FROM_SCRATCH = "ppo_from_scratch"  # studies/ten_seeds' PPO from scratch on the same task, its own schedule
COMPARISONS = [  # (task, arm, other arm, metric, the question): fixed before the mechanism's data
    ("glam_goto", "pretrained_mechanism", "random_mechanism", SAMPLED,
     "GLAM's claim on the pair that differs in weights alone: pretrained > random init, both with the mechanism"),
    ("glam_goto", "pretrained_mechanism", "pretrained", SAMPLED,
     "beside: does the mechanism move GoTo's pretrained seeds?"),
    ("entertainment", "word_50k_mechanism", PPO_FROM_SCRATCH, EFFICIENCY,
     "is the reversal of the sample-efficiency claim undone: TWOSOME with the mechanism > PPO from scratch?"),
    ("entertainment", "word_50k_mechanism", "word_50k", SAMPLED, "beside: the mechanism against none"),
    ("tomato_salad", "word_mechanism", "saycan", SAMPLED,
     "does a claim that holds today hold with the mechanism: better than SayCan?"),
    ("tomato_salad", "word_mechanism", "untrained_word", SAMPLED, "... better than the untrained LLM?"),
    ("tomato_salad", "word_mechanism", "word", SAMPLED, "beside: the mechanism against none"),
]  # fmt: skip


def arm_runs(root: Path, task: str, arm: str) -> pd.DataFrame:
    """The archived runs of one arm, in seed order (PPO from scratch: the ten-seed study's)."""
    runs = ppo_from_scratch(root, task) if arm == PPO_FROM_SCRATCH else archived_runs(root / CAMPAIGN / task / arm)
    return runs.sort_values("seed", ignore_index=True) if not runs.empty else runs


def scores(runs: pd.DataFrame, metric: str, budget: int) -> list[float]:
    """One value per seed: its final sampled success, or its training return / optimal at ``budget``."""
    if runs.empty:
        return []
    return [float(v) for v in runs.sampled_success] if metric == SAMPLED else returns_at(runs, budget)


def label(arm: str) -> str:
    return "PPO from scratch" if arm == PPO_FROM_SCRATCH else ARMS[arm]


def arm_planned(root: Path, task: str, arm: str) -> int:
    return ppo_planned(root, task) if arm == PPO_FROM_SCRATCH else planned(root, task, arm)


def smollm2_cpu_mechanism(root: Path) -> str:
    """Each pre-registered comparison: both arms' IQM over seeds on its metric, P(the mechanism's arm better) with its
    interval, and its status at the planned seeds. The status rule was set before this data, so it carries no
    "(rule set after the data)"."""
    rows = []
    for task, arm, other, metric, question in COMPARISONS:
        runs, others = arm_runs(root, task, arm), arm_runs(root, task, other)
        budget = int(runs.env_steps.max()) if not runs.empty else 0  # the step both are read at: the arm's budget
        a, b = scores(runs, metric, budget), scores(others, metric, budget)
        cells = [TASKS[task], question, f"{label(arm)} > {label(other)}", metric]
        if not (a and b):
            n = f"{len(runs)} and {len(others)} seeds"
            rows.append([*cells, f"- ({len(runs)})", f"- ({len(others)})", "", f"not run yet ({n})"])
            continue
        e = probability_of_improvement(a, b)
        n = (arm_planned(root, task, arm), arm_planned(root, task, other))
        status = claim_status(e, a, b, n, late=False)
        rows.append([*cells, f"{est(a)} ({len(a)})", f"{est(b)} ({len(b)})", e.text(), status])
    header = ["task", "question", "comparison", "metric", "with the mechanism: IQM [95% CI] (seeds)",
              "the other arm: IQM [95% CI] (seeds)", "P(first better) [95% CI]", "status"]  # fmt: skip
    return table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {"smollm2_cpu_mechanism": smollm2_cpu_mechanism}
