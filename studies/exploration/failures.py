"""The real LLM's failures, rerun with the exploration columns (studies/exploration/plan_failures.yaml): each rerun
beside the archived run it repeats (same seed and settings), whether it trained to the same weights, and how it
explored on its own decisions."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
from doctables.common import archived_runs, first_to_last, short_cpu, table

from experiments.campaign_plan import load_plan
from studies.exploration.tables import won_and_played

PLAN = "studies/exploration/plan_failures.yaml"
ORIGINALS = {  # each rerun's sweep -> (what failed, the archive of the run it repeats)
    "tomato-salad": ("Tomato Salad, TWOSOME (word)", "studies/smollm2_cpu/data/smollm2_cpu/tomato_salad/word"),
    "entertainment": ("Entertainment at 50,000 steps", "studies/smollm2_cpu/data/smollm2_cpu/entertainment/word_50k"),
    "textworld": ("TextWorld cooking games, 1,024 steps", "studies/textworld/data/textworld_cpu/smollm2/word"),
}
# Failures whose campaign run already logged the exploration columns: read as they are, not rerun.
LOGGED = {  # what failed -> (its archive, the seed)
    "BabyAI-Text GoTo, GLAM pretrained": ("studies/smollm2_cpu/data/smollm2_cpu/glam_goto/pretrained", 7),
}


def episodes_won(metrics: pd.DataFrame) -> str:
    won, played = won_and_played(metrics)
    return f"{won}/{played}"


def exploration_cells(r: pd.Series) -> list[str]:
    """Training episodes won, entropy, optimal action's probability and rank-1 rate (first -> last quarter), minutes."""
    return [episodes_won(r.metrics), first_to_last(r.metrics, "entropy_fraction"),
            first_to_last(r.metrics, "optimal_prob_mean"), first_to_last(r.metrics, "optimal_top1_rate"),
            f"{r.wall_seconds / 60:.0f}"]  # fmt: skip


def exploration_failures(root: Path) -> str:
    """One row per failure: the archived run's and the rerun's final sampled success, whether they trained to the
    same weights, and the rerun's exploration from its first update to the last quarter of its updates."""
    plan = load_plan(root / PLAN if (root / PLAN).is_file() else Path(__file__).with_name("plan_failures.yaml"))
    rows = []
    for sweep in plan.sweeps:
        what, original = ORIGINALS[sweep.name]
        seed = sweep.seeds[0]
        before = archived_runs(root / original)
        before = before[before.seed == seed] if len(before) else before
        rerun = archived_runs(root / "studies/exploration/data" / sweep.archive)
        if rerun.empty:
            rows.append([what, seed, f"{before.sampled_success.iloc[0]:.2f}" if len(before) else "-", "not run yet",
                         *[""] * 7])  # fmt: skip
            continue
        r = rerun.iloc[0]
        same = "yes" if len(before) and r.digest is not None and r.digest == before.digest.iloc[0] else "no"
        rows.append([
            what, seed, f"{before.sampled_success.iloc[0]:.2f}" if len(before) else "-", f"{r.sampled_success:.2f}",
            same, *exploration_cells(r), short_cpu(rerun.cpu),
        ])  # fmt: skip
    for what, (archive, seed) in LOGGED.items():
        runs = archived_runs(root / archive)
        runs = runs[runs.seed == seed] if len(runs) else runs
        if runs.empty or "metrics" not in runs:
            rows.append([what, seed, "not run yet", "", *[""] * 7])
            continue
        r = runs.iloc[0]
        rows.append([what, seed, f"{r.sampled_success:.2f}", "(the campaign's run, logged with the columns)",
                     "(the same run)", *exploration_cells(r), short_cpu(runs.cpu)])  # fmt: skip
    header = ["failure", "seed", "archived run: final sampled success", "rerun: final sampled success",
              "same weights as the archived run", "training episodes won",
              "entropy fraction, first update → last quarter", "optimal action's probability, first → last quarter",
              "optimal action ranked first, first → last quarter",
              "minutes", "CPU (one thread)"]  # fmt: skip
    return table(header, rows)


TABLES: dict[str, Callable[[Path], str]] = {"exploration_failures": exploration_failures}
