"""Success per wording (prompt sensitivity): one dot per seed and wording, the trained runs beside their untrained twin.

    python analysis/wording_figure.py studies/misalignment/data/prompt_robustness_tomato_salad.csv \
        --out docs/figures/prompt_robustness_tomato_salad

Reads the rows of ``python -m twosome.evaluation.generalization ... --suite prompt_robustness`` and writes
``<out>.png``: the wordings in the order evaluated (the canonical one first), each seed's sampled success as a dot,
the interquartile mean over seeds as a bar. The untrained twins of several runs are one agent: drawn once. Runs
trained in different wordings (``env.wording``: the ``train_wording`` column) are drawn as separate agents.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from plots import save_png  # analysis/ (this script's directory) is on sys.path

LABELS = {"twosome": "trained TWOSOME", "zeroshot": "untrained twin"}


def labelled(rows: pd.DataFrame) -> pd.DataFrame:
    """The applicable rows, each with the label of the agent it is drawn as (``agent``)."""
    df = rows[rows.applicable].copy()
    twin = df.agent == "zeroshot"
    df = df[~twin | (df.seed == df[twin].seed.min())]  # every twin is the same agent: one of them
    df["agent"] = df.agent.map(LABELS).fillna(df.agent)
    if "train_wording" in df and df.train_wording.nunique() > 1:  # arms that trained in other wordings
        trained = df.agent != LABELS["zeroshot"]
        df.loc[trained, "agent"] = df.agent.str.removeprefix("trained ") + " trained on " + df.train_wording.astype(str)
    return df


def figure(rows: pd.DataFrame, out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    from twosome.evaluation.statistics import iqm

    df = labelled(rows)
    order = list(dict.fromkeys(df.wording))
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(1.1 * len(order) + 2, 3.6))
    sns.barplot(df, x="wording", y="success_rate", hue="agent", order=order, estimator=iqm, errorbar=None,
                alpha=0.35, ax=ax)  # fmt: skip
    sns.stripplot(df, x="wording", y="success_rate", hue="agent", order=order, dodge=True, size=4, ax=ax,
                  legend=False)  # fmt: skip
    ax.set(ylim=(-0.03, 1.03), xlabel="wording (env.wording)", ylabel="sampled success per seed")
    task = df.train_task.iloc[0].split("/")[-1] if len(df) else ""
    ax.set_title(f"{task}: the same agents in other words (bar: IQM over seeds)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    fig.tight_layout()
    return save_png(fig, out)


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", type=Path, help="generalization.csv of a prompt_robustness evaluation")
    parser.add_argument("--out", type=Path, required=True, help="figure path without suffix")
    args = parser.parse_args(argv)
    if not args.csv.is_file():
        raise SystemExit(f"no such file: {args.csv}")
    rows = pd.read_csv(args.csv)
    if "wording" not in rows:
        raise SystemExit(
            f"{args.csv} has no wording column: evaluate with --suite prompt_robustness (or @<wording> tasks)"
        )
    path = figure(rows, args.out)
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    main()
