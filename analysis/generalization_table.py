"""The unseen-task generalization table and bar chart (TWOSOME, Fig. 6 style).

    python analysis/generalization_table.py results/generalization/generalization.csv   # writes its table beside it
    python analysis/generalization_table.py A/generalization.csv B/generalization.csv --out table   # joined

Reads the rows written by ``python -m twosome.evaluation.generalization``; writes ``<out>.csv``, ``<out>.md`` and a
bar chart ``<out>.png`` / ``.pdf``. One row per task, one column per agent (TWOSOME per normalization). The seed is
the unit: with several seeds a cell is the mean over seeds (and the IQM from 5 seeds) of each seed's success rate,
with a 95% bootstrap interval over seeds; with one seed, that seed's success over its episodes with a 95% Wilson
interval (one agent: the interval says nothing of another seed). ``n/a`` with the reason where the agent cannot be
run on the task (PPO from scratch on a task with other objects).
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from twosome.evaluation.statistics import interval, wilson  # noqa: E402
from twosome.fileio import input_file  # noqa: E402

IQM_SEEDS = 5  # the IQM is given from this many seeds (under it, a quarter cut from each end leaves too little)
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


def success_estimate(ok: pd.DataFrame) -> dict:
    """Several seeds: each seed's success (its episodes pooled), their mean and (from IQM_SEEDS seeds) IQM with 95%
    bootstrap intervals over seeds. One seed: its success over its episodes with the Wilson interval."""
    n = ok["episodes"].to_numpy()
    per_seed = (ok["success_rate"] * n).groupby(ok["seed"]).sum() / pd.Series(n, index=ok.index).groupby(
        ok["seed"]
    ).sum()
    if len(per_seed) == 1:
        k = int(round(float((ok["success_rate"] * n).sum())))
        low, high = wilson(k, int(n.sum()))
        return dict(unit="episodes", success_rate=k / n.sum(), success_low=low, success_high=high)
    mean = interval(list(per_seed), "mean")
    out = dict(unit="seeds", success_rate=mean.value, success_low=mean.low, success_high=mean.high)
    if len(per_seed) >= IQM_SEEDS:
        iqm = interval(list(per_seed), "iqm")
        out.update(iqm=iqm.value, iqm_low=iqm.low, iqm_high=iqm.high)
    return out


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per (task, agent): success with its interval (success_estimate: seeds, or one seed's episodes), the
    mean return, or the n/a reason, and the success relative to the agent's own on its training task (GLAM's
    measure: -0.13 is 13% below it). Agents of different models (a pretrained LM and its random-weight twin), or
    trained by different algorithms (PPO, GiGPO), are told apart by the model's or algorithm's name."""
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
            record.update(applicable=True, note="", **success_estimate(ok))
            n = ok["episodes"].to_numpy()
            record.update(return_mean=float((ok["return_mean"] * n).sum() / n.sum()), episodes=int(n.sum()))
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
                cells.append(cell(r) + relative)
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return (
        "\n".join(lines)
        + "\n\nSuccess rate (actions sampled from the policy). Several seeds: the mean over seeds of each seed's rate "
        + f"[95% bootstrap interval over seeds], and from {IQM_SEEDS} seeds the IQM; the seed is the unit. One seed: "
        + "its success over its episodes [95% Wilson interval], which says nothing of another seed. In parentheses, "
        + "relative to the same agent's success on its training task.\n"
    )


def cell(r) -> str:
    if r["unit"] == "episodes":
        where = f"(1 seed, {r['episodes']} episodes, Wilson)"
        return f"{r['success_rate']:.2f} [{r['success_low']:.2f}, {r['success_high']:.2f}] {where}"
    text = f"mean {r['success_rate']:.2f} [{r['success_low']:.2f}, {r['success_high']:.2f}]"
    if "iqm" in r and not pd.isna(r["iqm"]):
        text += f", IQM {r['iqm']:.2f} [{r['iqm_low']:.2f}, {r['iqm_high']:.2f}]"
    return text + f" ({r['seeds']} seeds)"


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
                r = hit.iloc[0]
                below, above = r["success_rate"] - r["success_low"], r["success_high"] - r["success_rate"]
                if np.isfinite(below):
                    ax.errorbar(x, r["success_rate"], yerr=[[below], [above]], color="black", capsize=2, lw=1)
    for _, r in summary[~summary["applicable"]].iterrows():  # say so on the chart too, not just leave a gap
        if r["agent"] in labels:
            x = tasks.index(r["task"]) - 0.4 + width * (labels.index(r["agent"]) + 0.5)
            ax.text(x, 0.02, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="grey")
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("success rate")
    ax.set_xlabel("")
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right", rotation_mode="anchor")
    caveat = "; n/a: cannot read the task" if not summary["applicable"].all() else ""
    units = set(data["unit"]) if "unit" in data else set()
    bars = "mean over seeds, 95% bootstrap" if units == {"seeds"} else "95% CI: over seeds, or Wilson for one seed"
    ax.set_title(f"Generalization to unseen tasks ({bars}{caveat})")
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
