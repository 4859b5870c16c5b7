"""Performance profiles (Agarwal et al. 2021): for each agent, the fraction of its runs, over every task, whose score
exceeds a threshold tau, with a 95% stratified bootstrap band (seeds resampled within each task).

    python analysis/performance_profiles.py studies/ten_seeds/data/ten_seeds --out docs/figures/ten_seeds_profiles

Reads the runs archived under each task directory (analysis/archive_runs.py); the score is a run's final sampled
success rate (``--score sampled_success``) or its sampled discounted return as a fraction of the optimal one
(``sampled_return``). Writes a PNG and the CSV behind it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]  # analysis/, studies
from doctables.common import archived_runs  # noqa: E402

from studies.ten_seeds.tables import AGENT_ROWS  # noqa: E402
from twosome.evaluation.statistics import interval  # noqa: E402

TAUS = np.linspace(0.0, 1.0, 41)


def profiles(root: Path, score: str, complete_only: bool = True) -> pd.DataFrame:
    """One row per (agent, tau): the fraction of runs above tau and its interval."""
    tasks = {p.name: archived_runs(p) for p in sorted(root.iterdir()) if p.is_dir()}
    if complete_only:  # every agent on the same tasks: drop tasks where an agent's runs are still missing
        counts = {
            t: [int(((df.agent == a) & (df.norm == n)).sum()) for a, n, _ in AGENT_ROWS] for t, df in tasks.items()
        }
        full = [t for t, c in counts.items() if min(c) == max(c) > 0]
        tasks = {t: tasks[t] for t in full} or tasks
    rows = []
    for agent, norm, label in AGENT_ROWS:
        scores = {
            task: list(df[(df.agent == agent) & (df.norm == norm)][score])
            for task, df in tasks.items()
            if not df.empty and ((df.agent == agent) & (df.norm == norm)).any()
        }
        if not scores:
            continue
        for tau in TAUS:
            above = {task: [float(v > tau) for v in values] for task, values in scores.items()}
            e = interval(above, "mean")
            rows.append(
                {
                    "agent": label,
                    "tau": tau,
                    "fraction": e.value,
                    "low": e.low,
                    "high": e.high,
                    "tasks": len(scores),
                    "runs": sum(len(v) for v in scores.values()),
                }
            )
    if not rows:
        raise SystemExit(f"no archived runs under {root}")
    return pd.DataFrame(rows)


def plot(df: pd.DataFrame, out: Path, score: str) -> None:
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for i, (agent, part) in enumerate(df.groupby("agent", sort=False)):
        color = f"C{i % 10}"
        ax.plot(part.tau, part.fraction, color=color, label=f"{agent} ({part.runs.iloc[0]} runs)")
        ax.fill_between(
            part.tau, part.low.fillna(part.fraction), part.high.fillna(part.fraction), color=color, alpha=0.15
        )
    label = {"sampled_success": "sampled success rate", "sampled_return": "sampled return / optimal"}[score]
    ax.set_xlabel(f"{label} (tau)")
    ax.set_ylabel("fraction of runs above tau")
    ax.set_title(f"Performance profiles over {df.tasks.max()} tasks (95% stratified bootstrap bands)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, fontsize=8, frameon=False)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out.with_suffix(".png"), dpi=130, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="a directory of task directories of archived runs")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--score", default="sampled_success", choices=["sampled_success", "sampled_return"])
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        raise SystemExit(f"no such directory: {args.root}")
    df = profiles(args.root, args.score)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out.with_suffix(".csv"), index=False)
    plot(df, args.out, args.score)
    print(f"Wrote {args.out.with_suffix('.png')} and .csv ({df.agent.nunique()} agents)")
    return df


if __name__ == "__main__":
    main()
