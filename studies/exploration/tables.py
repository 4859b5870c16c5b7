"""The exploration study (studies/exploration/README.md): the mechanisms' pilot and screening on the default model,
with each
run's exploration measured on its own decisions (the ``explore/*`` columns of its metrics). Raw data:
studies/exploration/data/exploration_pilot/ and studies/exploration/data/exploration_screening/."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from doctables.common import archived_runs, est, exploration_at, poi, short_cpu, table

PILOT = "studies/exploration/data/exploration_pilot"
# The pilot's arms: mechanism -> the folders of its settings, smallest first (a tie goes to the smaller setting).
PILOT_SETTINGS = {
    "uniform mixture (explore.uniform_mix)": ("uniform_mix_0.1", "uniform_mix_0.3"),
    "entropy floor (explore.entropy_floor)": ("entropy_floor_0.3", "entropy_floor_0.6"),
    "KL to the untrained policy (explore.prior_kl_coef)": ("prior_kl_0.01", "prior_kl_0.1"),
}
PILOT_SEEDS = 2


def arm_exploration(runs: pd.DataFrame, column: str, where: str) -> str:
    """The mean over seeds of each seed's measure (``exploration_at``)."""
    values = [exploration_at(m, column, where) for m in runs.metrics] if "metrics" in runs else []
    values = [v for v in values if not np.isnan(v)]
    return f"{np.mean(values):.2f}" if values else "n/a"


def won_and_played(metrics: pd.DataFrame) -> tuple[int, int]:
    """Training episodes that ended in success, and all that ended, over all updates (each update's count times its
    success rate): whether a run ever met the reward it trains on."""
    m = metrics.dropna(subset=["charts/episodes", "charts/success_rate"])
    return round(float((m["charts/episodes"] * m["charts/success_rate"]).sum())), int(m["charts/episodes"].sum())


def arm_episodes_won(runs: pd.DataFrame) -> str:
    """Training episodes won over all of an arm's seeds, and in how many seeds any was won."""
    counts = [won_and_played(m) for m in runs.get("metrics", []) if isinstance(m, pd.DataFrame)]
    if not counts:
        return "n/a"
    won, played = map(sum, zip(*counts))
    return f"{won}/{played} ({sum(c[0] > 0 for c in counts)} of {len(counts)} seeds)"


def per_seed(runs: pd.DataFrame) -> str:
    return ", ".join(f"s{s}: {x:.2f}" for s, x in zip(runs.seed, runs.sampled_success))


def pilot_choice(root: Path) -> dict[str, str | None]:
    """Each mechanism's setting by the pilot's rule: the higher mean final sampled success over its seeds, a tie to
    the smaller setting; None until both settings have every seed."""
    chosen = {}
    for mechanism, folders in PILOT_SETTINGS.items():
        means = []
        for folder in folders:
            runs = archived_runs(root / PILOT / folder)
            means.append(runs.sampled_success.mean() if len(runs) == PILOT_SEEDS else None)
        if any(m is None for m in means):
            chosen[mechanism] = None
        else:
            chosen[mechanism] = folders[int(np.argmax(means))]  # argmax: the first (smaller) of equal means
    return chosen


def exploration_pilot(root: Path) -> str:
    """One setting per mechanism, on the default model's Entertainment (24,576 steps, seeds 100 and 101)."""
    rows = []
    chosen = pilot_choice(root)
    for mechanism, folders in PILOT_SETTINGS.items():
        for folder in folders:
            runs = archived_runs(root / PILOT / folder)
            if runs.empty:
                rows.append([mechanism, folder.rsplit("_", 1)[1], f"0/{PILOT_SEEDS}", "", "", "", "", "", ""])
                continue
            runs = runs.sort_values("seed")
            mark = "**chosen**" if chosen[mechanism] == folder else ("" if chosen[mechanism] else "pending")
            rows.append(
                [
                    mechanism,
                    folder.rsplit("_", 1)[1],
                    f"{len(runs)}/{PILOT_SEEDS}",
                    per_seed(runs),
                    f"{runs.sampled_success.mean():.2f}",
                    f"{arm_exploration(runs, 'entropy_fraction', 'first')} → "
                    f"{arm_exploration(runs, 'entropy_fraction', 'last')}",
                    arm_exploration(runs, "optimal_prob_mean", "last"),
                    f"{runs.wall_seconds.median() / 60:.1f}",
                    mark,
                ]
            )
    header = [
        "mechanism",
        "setting",
        "seeds",
        "final sampled success per seed",
        "mean",
        "entropy fraction, first update → last quarter",
        "optimal action's probability, last quarter",
        "minutes per seed (median)",
        "pilot's rule",
    ]
    return table(header, rows)


SCREENING = "studies/exploration/data/exploration_screening"
SCREENING_TASKS = ("entertainment", "tomato_salad", "textworld")
SCREENING_SEEDS = 5


def exploration_screening(root: Path) -> str:
    """The screening (pre-registered in studies/exploration/README.md): every arm's final sampled success per task, its
    exploration beside, and each mechanism against the baseline (probability of improvement over seeds), with how many
    of its seeds ended with the baseline's weights, bit for bit: there the mechanism never changed an update."""
    rows = []
    for task in SCREENING_TASKS:
        folder = root / SCREENING / task
        arms = sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []
        if "baseline" not in arms:
            continue
        base = archived_runs(folder / "baseline").sort_values("seed")
        for arm in ["baseline", *(a for a in arms if a != "baseline")]:
            runs = archived_runs(folder / arm).sort_values("seed")
            against = "" if arm == "baseline" else poi(runs.sampled_success, base.sampled_success).text()
            pairs = runs.merge(base, on="seed", suffixes=("", "_base"))
            same = (
                ""
                if arm == "baseline"
                else f"{int((pairs.digest.notna() & (pairs.digest == pairs.digest_base)).sum())}"
            )
            rows.append(
                [
                    task.replace("_", " ") if arm == "baseline" else "",
                    arm.replace("_", " "),
                    f"{len(runs)}/{SCREENING_SEEDS}",
                    est(runs.sampled_success, "mean"),
                    against,
                    same,
                    arm_episodes_won(runs),
                    f"{arm_exploration(runs, 'entropy_fraction', 'last')}",
                    arm_exploration(runs, "optimal_prob_mean", "last"),
                    f"{runs.wall_seconds.median() / 60:.1f}",
                    short_cpu(runs.cpu),
                ]
            )
    header = [
        "task",
        "arm",
        "seeds",
        "final sampled success, mean [95% CI]",
        "P(arm > baseline)",
        "seeds trained to the baseline's weights (a mechanism that never acted)",
        "training episodes won, all seeds (seeds with any)",
        "entropy fraction, last quarter",
        "optimal action's probability, last quarter",
        "minutes per seed (median)",
        "CPU (one thread)",
    ]
    return table(header, rows) if rows else "No screening run is archived yet.\n"


TABLES: dict[str, Callable[[Path], str]] = {
    "exploration_pilot": exploration_pilot,
    "exploration_screening": exploration_screening,
}
