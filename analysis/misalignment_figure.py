"""The LM writing its action (action misalignment): the share of decisions that name no executable action, per
task, model and decoding, from the runs of the plan ``studies/misalignment/plan_misalignment.yaml`` (campaign.py local).

    python analysis/misalignment_figure.py studies/misalignment/data/misalignment --out docs/figures/misalignment

Reads each run's summary.json (``eval/invalid_action_rate``, ``eval/episodes``) and writes ``<out>.png``: one bar
per model and decoding within each task. TWOSOME's scoring policy would be a bar of height 0 everywhere.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd
from plots import save_png  # analysis/ (this script's directory) is on sys.path

TASKS = {  # env id -> the task's name, in the papers' order
    "twosome/Overcooked-TomatoSalad-v0": "Tomato Salad",
    "twosome/Overcooked-TomatoLettuceSalad-v0": "Tomato-Lettuce Salad",
    "twosome/VirtualHome-FoodPreparation-v0": "Food Preparation",
    "twosome/VirtualHome-Entertainment-v0": "Entertainment",
    "twosome/BabyAI-GoTo-v0": "BabyAI-Text GoTo",
}


def rows(directory: Path) -> pd.DataFrame:
    """One row per run: task, model, decoding, invalid share and episodes."""
    out = []
    for path in sorted(directory.glob("*/summary.json")):
        s = json.loads(path.read_text())
        if "eval/invalid_action_rate" not in s:
            raise ValueError(f"{path} has no eval/invalid_action_rate: is it a run of agent=generate?")
        decoding = s["run_name"].rsplit("-", 2)[-2]  # generate-<model>-<task>-<decoding>-s<seed>
        out.append(
            {
                "task": TASKS.get(s["env_id"], s["env_id"]),
                "model": s["model"],
                "decoding": decoding,
                "invalid_share": s["eval/invalid_action_rate"],
                "episodes": s["eval/episodes"],
            }
        )
    if not out:
        raise ValueError(f"no run summaries under {directory}")
    return pd.DataFrame(out)


def figure(df: pd.DataFrame, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    df = df.assign(agent=df.model + ", " + df.decoding)
    order = [t for t in TASKS.values() if t in set(df.task)]
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(1.9 * len(order) + 2.5, 3.6))
    sns.barplot(df, x="task", y="invalid_share", hue="agent", order=order, ax=ax)
    ax.set(ylim=(0, 1.05), xlabel="", ylabel="invalid decisions / decisions")
    ax.set_title("The LM writing its action, zero-shot: decisions that name no executable action")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, title="model, decoding")
    fig.tight_layout()
    return save_png(fig, out)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", type=Path, help="a directory of archived agent=generate runs")
    parser.add_argument("--out", type=Path, required=True, help="figure path without suffix")
    args = parser.parse_args(argv)
    try:
        df = rows(args.runs)
    except ValueError as err:
        raise SystemExit(str(err)) from None
    path = figure(df, args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
