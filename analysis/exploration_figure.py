"""How each arm of an exploration study explores over training: the policy's entropy as a fraction of log(valid
actions), the probability it gives the environment's optimal next actions in the states it visits, and its training
success, one thin line per seed and a thick one for the arm's mean (studies/exploration/README.md).

    python analysis/exploration_figure.py studies/exploration/data/exploration_pilot --out
    docs/figures/exploration_pilot.png

Every arm is a folder of archived runs (analysis/archive_runs.py) under the given directory; ``superseded`` folders
are left out.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

PANELS = {
    "explore/entropy_fraction": "entropy / log(valid actions)",
    "explore/optimal_prob_mean": "probability of an optimal next action",
    "charts/success_rate": "training success (episodes ending in the update)",
}


def arms(directory: Path) -> dict[str, list[pd.DataFrame]]:
    """Each arm's runs' metrics, by the arm's folder name (relative to ``directory``)."""
    out: dict[str, list[pd.DataFrame]] = {}
    for metrics in sorted(directory.glob("**/metrics.csv")):
        arm = metrics.parent.parent.relative_to(directory)
        if "superseded" in arm.parts or not (metrics.parent / "summary.json").is_file():
            continue
        out.setdefault(str(arm), []).append(pd.read_csv(metrics))
    return out


def on_grid(runs: list[pd.DataFrame], column: str, grid: np.ndarray) -> np.ndarray:
    """Each run's column interpolated on ``grid`` (environment steps), NaN where a run has no value."""
    rows = []
    for m in runs:
        m = m.dropna(subset=[column]) if column in m else m.iloc[0:0]
        rows.append(np.interp(grid, m.global_step, m[column], left=np.nan, right=np.nan) if len(m) else grid * np.nan)
    return np.array(rows)


def seeds(n: int) -> str:
    return f"{n} seed{'s' * (n != 1)}"


def single_runs(pairs: list[str]) -> dict[str, list[pd.DataFrame]]:
    """``LABEL=RUN`` pairs: one archived run, kept elsewhere, drawn as an arm of its own."""
    out = {}
    for pair in pairs:
        label, sep, run = pair.partition("=")
        if not sep or not (Path(run) / "metrics.csv").is_file():
            raise SystemExit(f"--run {pair!r}: expected LABEL=RUN, RUN an archived run with a metrics.csv")
        out[label] = [pd.read_csv(Path(run) / "metrics.csv")]
    return out


def draw(directory: Path, out: Path, by_row: bool = False, runs: list[str] = ()) -> None:
    """``by_row``: each arm on its own row of panels, with its own step axis (arms of different tasks and budgets);
    ``runs``: ``LABEL=RUN`` single runs archived elsewhere, drawn after the directory's arms."""
    found = {**arms(directory), **single_runs(list(runs))}
    if not found:
        raise SystemExit(f"no archived run with metrics under {directory}")
    n_rows = len(found) if by_row else 1
    fig, axes = plt.subplots(n_rows, len(PANELS), figsize=(5.2 * len(PANELS), 3.4 * n_rows + 0.4), squeeze=False)
    colours = plt.get_cmap("tab10")
    for i, (arm, runs) in enumerate(found.items()):
        row_axes = axes[i if by_row else 0]
        # the baseline black and dashed, on top: a mechanism that never binds draws exactly over it
        colour, style, order = ("black", "--", 5) if arm == "baseline" else (colours(i % 10), "-", 3)
        end = max(float(m.global_step.max()) for m in runs)
        grid = np.linspace(0, end, 200)
        for ax, (column, label) in zip(row_axes, PANELS.items()):
            values = on_grid(runs, column, grid)
            for row in values:
                ax.plot(grid, row, color=colour, alpha=0.2, linewidth=0.8)
            with warnings.catch_warnings():  # a step no run reached has no mean: drawn as a gap
                warnings.simplefilter("ignore", RuntimeWarning)
                mean = np.nanmean(values, axis=0)
            ax.plot(
                grid,
                mean,
                color=colour,
                linestyle=style,
                zorder=order,
                linewidth=2,
                label=f"{arm} ({seeds(len(runs))})",
            )
            ax.set_title(f"{arm}: {label}" if by_row else label, fontsize=10)
            ax.set_xlabel("environment steps")
            ax.set_ylim(-0.02, 1.02)
    for row_axes in axes if by_row else axes[:1]:
        row_axes[0].legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120)
    print(f"wrote {out}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, help="a study's archive: one folder of runs per arm")
    parser.add_argument("--out", type=Path, required=True, help="the PNG to write")
    parser.add_argument("--by-row", action="store_true", help="each arm on its own row, with its own step axis")
    parser.add_argument(
        "--run",
        action="append",
        default=[],
        metavar="LABEL=RUN",
        help="one archived run kept elsewhere, drawn as its own arm (repeatable)",
    )
    args = parser.parse_args(argv)
    draw(args.directory, args.out, args.by_row, args.run)


if __name__ == "__main__":
    main()
