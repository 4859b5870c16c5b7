"""The unseen-task generalization table and bar chart (TWOSOME, Fig. 6 style).

    python analysis/generalization_table.py results/generalization/generalization.csv   # writes its table beside it
    python analysis/generalization_table.py A/generalization.csv B/generalization.csv --out table   # joined

Reads the rows written by ``python -m twosome.evaluation.generalization``; writes ``<out>.csv``, ``<out>.md`` and a
bar chart ``<out>.png`` / ``.pdf``. One row per task, one column per agent (TWOSOME per normalization); each cell is
the success rate ``mean ± standard error`` over the pooled evaluation episodes of all seeds, and ``n/a`` with the
reason where the agent cannot be run on the task (PPO from scratch on a task with other objects).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from twosome.fileio import input_file  # noqa: E402

AGENT_ORDER = ["twosome", "zeroshot", "saycan", "ppo"]


def short_task(env_id: str) -> str:
    return env_id.removeprefix("twosome/").removesuffix("-v0").replace("VirtualHome-", "").replace("Overcooked-", "")


def agent_label(row) -> str:
    norm = row.get("norm")
    return (
        f"{row['agent']} ({norm})"
        if row["agent"] in ("twosome", "zeroshot") and isinstance(norm, str) and norm
        else row["agent"]
    )


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, agent): pooled success and return, mean and standard error, or the n/a reason, and the
    success relative to the agent's own on its training task (GLAM's measure: -0.13 is 13% below it). Agents of
    different models (a pretrained LM and its random-weight twin), or trained by different algorithms (PPO, GiGPO), are
    told apart by the model's or algorithm's name."""
    rows = rows.copy()
    rows["agent_label"] = rows.apply(agent_label, axis=1)
    for column in ("model", "algorithm"):  # older files have no algorithm column
        values = rows[column].fillna("") if column in rows else pd.Series("", index=rows.index)
        if values[values != ""].nunique() > 1:
            rows["agent_label"] = [f"{a} [{v}]" if v else a for a, v in zip(rows["agent_label"], values, strict=True)]
    rows["task_name"] = rows["task"].map(short_task)
    out = []
    for (task, label), group in rows.groupby(["task_name", "agent_label"], sort=False):
        ok = group[group["applicable"].astype(bool)]
        record = {
            "task": task,
            "agent": label,
            "seeds": group["seed"].nunique(),
            "trained_on": short_task(group["train_task"].iloc[0]),
        }
        if ok.empty:
            record.update(applicable=False, note=group["note"].iloc[0])
        else:
            n = ok["episodes"].to_numpy()
            p = float((ok["success_rate"] * n).sum() / n.sum())
            # pooled episodes: the per-run variance plus the spread of the run means
            var = float(
                (ok["success_se"] ** 2 * n * (n - 1) + n * (ok["success_rate"] - p) ** 2).sum() / max(n.sum() - 1, 1)
            )
            ret = float((ok["return_mean"] * n).sum() / n.sum())
            record.update(
                applicable=True,
                note="",
                success_rate=p,
                success_se=math.sqrt(var / n.sum()),
                return_mean=ret,
                episodes=int(n.sum()),
            )
        out.append(record)
    summary = pd.DataFrame(out)
    if "success_rate" not in summary:
        summary["success_rate"] = float("nan")
    own = summary[summary["task"] == summary["trained_on"]].set_index("agent")["success_rate"]
    summary["relative"] = summary["success_rate"] / summary["agent"].map(own) - 1
    return summary


def markdown(summary: pd.DataFrame) -> str:
    labels = sorted(
        summary["agent"].unique(),
        key=lambda a: (AGENT_ORDER.index(a.split(" ")[0]) if a.split(" ")[0] in AGENT_ORDER else 99, a),
    )
    tasks = list(dict.fromkeys(summary["task"]))
    lines = ["| task | " + " | ".join(labels) + " |", "|---" * (len(labels) + 1) + "|"]
    for task in tasks:
        cells = []
        for label in labels:
            hit = summary[(summary["task"] == task) & (summary["agent"] == label)]
            if hit.empty:
                cells.append("")
            elif not hit["applicable"].iloc[0]:
                cells.append(f"n/a ({hit['note'].iloc[0]})")
            else:
                r = hit.iloc[0]
                relative = (
                    f" ({r['relative']:+.0%})" if task != r["trained_on"] and math.isfinite(r["relative"]) else ""
                )
                cells.append(f"{r['success_rate']:.2f} ± {r['success_se']:.2f}{relative}")
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return (
        "\n".join(lines)
        + "\n\nSuccess rate (actions sampled from the policy), mean ± standard error over all evaluation episodes "
        + "of all seeds; in brackets, relative to the same agent's success on its training task.\n"
    )


def bar_chart(summary: pd.DataFrame, path: Path) -> None:
    data = summary[summary["applicable"]]
    tasks = list(dict.fromkeys(summary["task"]))
    labels = sorted(
        summary["agent"].unique(),
        key=lambda a: (AGENT_ORDER.index(a.split(" ")[0]) if a.split(" ")[0] in AGENT_ORDER else 99, a),
    )
    fig, ax = plt.subplots(figsize=(max(6.0, 1.3 * len(tasks)), 3.8))
    sns.barplot(data=data, x="task", y="success_rate", hue="agent", order=tasks, hue_order=labels, ax=ax, errorbar=None)
    width = 0.8 / max(len(labels), 1)
    for i, label in enumerate(labels):
        for j, task in enumerate(tasks):
            hit = data[(data["task"] == task) & (data["agent"] == label)]
            if not hit.empty:
                x = j - 0.4 + width * (i + 0.5)
                ax.errorbar(
                    x, hit["success_rate"].iloc[0], yerr=hit["success_se"].iloc[0], color="black", capsize=2, lw=1
                )
    for _, r in summary[~summary["applicable"]].iterrows():  # say so on the chart too, not just leave a gap
        if r["agent"] in labels:
            x = tasks.index(r["task"]) - 0.4 + width * (labels.index(r["agent"]) + 0.5)
            ax.text(x, 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="grey")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate")
    ax.set_xlabel("")
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right", rotation_mode="anchor")
    caveat = "; n/a: cannot read the task" if not summary["applicable"].all() else ""
    ax.set_title(f"Generalization to unseen tasks (mean ± s.e.{caveat})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)  # beside the axes: never on a bar or label
    fig.tight_layout()
    for suffix in (".png", ".pdf"):
        fig.savefig(path.with_suffix(suffix), dpi=150)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "csv", type=Path, nargs="+", help="generalization.csv files from twosome.evaluation.generalization (joined)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="output stem (<out>.csv, .md, .png, .pdf); default: table beside the one input CSV, required when joining",
    )
    args = parser.parse_args(argv)
    paths = [input_file(c, "generalization.csv", "python -m twosome.evaluation.generalization") for c in args.csv]
    if args.out is None:
        if len(paths) > 1:
            raise SystemExit(f"joining {len(paths)} files: say where the joined table goes with --out")
        args.out = paths[0].parent / "table"
    rows = pd.concat([pd.read_csv(p, keep_default_na=False, na_values=[""]) for p in paths], ignore_index=True)
    if rows.empty:
        raise SystemExit(f"{', '.join(map(str, paths))} has no rows: no run was evaluated")
    repeated = rows[rows.duplicated(["run", "agent", "task"], keep=False)]
    if not repeated.empty:
        raise SystemExit(f"the same run, agent and task appear more than once (joined twice?):\n{repeated.head()}")
    if "sampling" in rows and rows.sampling.nunique() > 1:
        raise SystemExit(f"greedy and sampled evaluations cannot share a table: {sorted(rows.sampling.unique())}")
    summary = summarize(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    summary.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(markdown(summary))
    bar_chart(summary, args.out)
    print(markdown(summary))
    print(f"wrote {args.out.with_suffix('.csv')}, .md, .png, .pdf")


if __name__ == "__main__":
    main()
