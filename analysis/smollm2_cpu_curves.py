"""Learning curves of the SmolLM2-135M CPU campaign, seed by seed: one panel per task and trained arm.

    python analysis/smollm2_cpu_curves.py studies/smollm2_cpu/data/smollm2_cpu --out docs/figures/smollm2_cpu_curves

Reads each archived run's ``metrics.csv`` (analysis/archive_runs.py) under ``<campaign>/<task>/<arm>/`` and draws,
for every trained arm, each seed's training success over environment steps: the training episodes (actions sampled
from the policy) that ended in the last ``--window`` steps, successes / episodes, as the tables count them
(``charts/success_rate`` x ``charts/episodes``). A seed's line starts once an episode has ended. Beside, dotted: the
arm's untrained twin (its sampled evaluation, mean over its sampling seeds) where the campaign ran one, and on GoTo
the uniform random policy's sampled success (studies/smollm2_cpu/data/glam_goto/random_uniform): sampled against
sampled. Dashed, on the cooking and household tasks: PPO from scratch's training success in the same window, the mean
of its seeds (the ten-seed study's runs), the sample-efficiency claims' comparator: training against training.
"""

from __future__ import annotations

import argparse
import functools
import json
import textwrap
from pathlib import Path

import doctables  # noqa: F401  (analysis/, this script's folder, is on sys.path; doctables puts the repository there)
import numpy as np
import pandas as pd
from plots import save_png

from studies.smollm2_cpu.tables import ARMS, TASKS, ppo_from_scratch  # noqa: E402

REPOSITORY = Path(__file__).resolve().parents[1]
UNIFORM_GOTO = (
    REPOSITORY / "studies/smollm2_cpu/data/glam_goto/random_uniform/summary.json"
)  # one agent: its sampled GoTo success


def windowed_success(metrics: pd.DataFrame, window: int) -> pd.DataFrame:
    """At each step where an episode ended: successes / episodes over the episodes that ended in the last
    ``window`` steps (``step - window < ended <= step``)."""
    m = metrics.dropna(subset=["charts/episodes"])
    steps = m.global_step.to_numpy()
    wins = np.cumsum(m["charts/success_rate"].to_numpy() * m["charts/episodes"].to_numpy())
    episodes = np.cumsum(m["charts/episodes"].to_numpy())
    first = np.searchsorted(steps, steps - window, side="right")  # the first row inside each window
    before = np.where(first > 0, first - 1, -1)
    w = wins - np.where(before >= 0, wins[before], 0.0)
    n = episodes - np.where(before >= 0, episodes[before], 0.0)
    return pd.DataFrame({"step": steps, "success": np.divide(w, n, out=np.full_like(w, np.nan), where=n > 0)})


def trained_arms(campaign: Path) -> list[tuple[str, str, Path]]:
    """(task, arm, folder) of every arm with a trained run archived, in the tables' order."""
    out = []
    for task in TASKS:
        for arm in ARMS:
            folder = campaign / task / arm
            if any(json.loads(p.read_text()).get("env_steps", 0) > 0 for p in folder.glob("*/summary.json")):
                out.append((task, arm, folder))
    return out


def reference(campaign: Path, task: str, arm: str) -> tuple[float, str] | None:
    """The dotted line of a panel: the untrained twin's mean sampled success, or chance on GoTo."""
    twin = campaign / task / ("untrained_" + arm.split("_")[0])
    summaries = [json.loads(p.read_text()) for p in sorted(twin.glob("*/summary.json"))]
    rates = [s["sampled/success_rate"] for s in summaries if "sampled/success_rate" in s]
    if rates:
        return float(np.mean(rates)), f"untrained twin, sampled ({len(rates)} sampling seeds)"
    if task == "glam_goto" and UNIFORM_GOTO.is_file():
        return float(json.loads(UNIFORM_GOTO.read_text())["eval/success_rate"]), "uniform random policy, sampled"
    return None


@functools.lru_cache  # read once per task, drawn in each of its panels
def scratch_curve(task: str, window: int) -> tuple[pd.DataFrame, int] | None:
    """PPO from scratch's windowed training success on ``task``: at each step, the mean over its seeds of each one's
    latest value (from the step every seed has one), and its number of seeds; None where it has no runs (GoTo's PPO
    is symbolic, read elsewhere)."""
    runs = ppo_from_scratch(REPOSITORY, task) if task != "glam_goto" else pd.DataFrame()
    if runs.empty:
        return None
    curves = [windowed_success(m, window).set_index("step").success for m in runs.metrics]
    mean = pd.concat(curves, axis=1).sort_index().ffill().dropna().mean(axis=1)
    return mean.rename("success").reset_index(), len(curves)


def figure(campaign: Path, out: Path, window: int = 1024) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    arms = trained_arms(campaign)
    if not arms:
        raise SystemExit(f"no trained run archived under {campaign}/<task>/<arm>/")
    sns.set_theme(style="whitegrid")
    cols = min(4, len(arms))
    rows = -(-len(arms) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.2 * rows), squeeze=False)
    handles = {}
    for ax, (task, arm, folder) in zip(axes.flat, arms):
        runs = sorted(folder.glob("*/summary.json"), key=lambda p: json.loads(p.read_text())["seed"])
        last = 0
        for summary in runs:
            seed = json.loads(summary.read_text())["seed"]
            curve = windowed_success(pd.read_csv(summary.parent / "metrics.csv"), window)
            (handles[f"seed {seed}"],) = ax.plot(curve.step, curve.success, lw=1.1, color=f"C{seed % 10}")
            last = max(last, int(curve.step.max()))
        scratch = scratch_curve(task, window)
        if scratch is not None:  # up to the arm's last step: the same budget
            curve, n = scratch[0][scratch[0].step <= last], scratch[1]
            (handles[f"PPO from scratch (mean of {n} seeds)"],) = ax.plot(
                curve.step, curve.success, color="0.3", ls="--", lw=1.2, zorder=4
            )
        line = reference(campaign, task, arm)
        if line is not None:  # labelled on the panel: its meaning differs between panels
            ax.axhline(line[0], color="black", ls=":", lw=1.3)
            below = line[0] > 0.85
            ax.annotate(line[1], (0.99, line[0]), xycoords=("axes fraction", "data"), ha="right",
                        va="top" if below else "bottom", fontsize=6.5, xytext=(0, -2 if below else 2),
                        textcoords="offset points", zorder=5,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))  # fmt: skip
        ax.set(ylim=(-0.03, 1.03))
        seeds = f"{len(runs)}\N{NO-BREAK SPACE}seed{'' if len(runs) == 1 else 's'}"
        title = f"{TASKS[task]}: {ARMS[arm]} ({seeds})"  # a long one wraps, not overlaps
        ax.set_title(textwrap.fill(title, 60, break_on_hyphens=False), fontsize=8.5)
        ax.set_xlabel("environment steps", fontsize=8)
        ax.set_ylabel(f"training success, last {window:,} steps", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(arms) :]:
        ax.set_visible(False)
    seeds = sorted((n for n in handles if n.startswith("seed ")), key=lambda name: int(name.split()[-1]))
    order = seeds + sorted(n for n in handles if not n.startswith("seed "))
    legend = "each seed's colour; dotted: untrained twin or chance, sampled; dashed: PPO from scratch, training"
    fig.legend([handles[n] for n in order], order, loc="lower center", ncol=len(order), fontsize=8, frameon=False,
               title=legend, title_fontsize=8)  # fmt: skip
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return save_png(fig, out)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("campaign", type=Path, help="the campaign's archive, e.g. studies/smollm2_cpu/data/smollm2_cpu")
    parser.add_argument("--out", type=Path, required=True, help="figure path without suffix")
    parser.add_argument("--window", type=int, default=1024, help="steps over which training episodes are counted")
    args = parser.parse_args(argv)
    if not args.campaign.is_dir():
        raise SystemExit(f"no such directory: {args.campaign}")
    path = figure(args.campaign, args.out, args.window)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
