"""Zero-shot prior table: evaluation-only runs (untrained TWOSOME, uniform random) by task, model and normalization.

    python analysis/zero_shot_table.py multirun/zeroshot --out docs/figures/zero_shot_prior

Every ``summary.json`` below the given paths with ``env_steps == 0`` is one evaluation; the table has a row per
(task, agent, model, norm) with success rate, episodic and discounted return and the number of episodes. Writes
a CSV, a Markdown table and a bar chart of the success rates.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import pandas as pd

from twosome.run_dir import SUMMARY

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

COLUMNS = ["task", "agent", "model", "norm", "episodes", "success_rate", "episodic_return", "discounted_return"]


def load(paths: list[Path]) -> pd.DataFrame:
    rows = []
    for root in paths:
        root = Path(root)
        if not root.exists():
            raise SystemExit(f"{root} does not exist")
        for summary_path in sorted([root] if root.is_file() else root.rglob(SUMMARY)):
            try:
                s = json.loads(summary_path.read_text())
            except json.JSONDecodeError as err:
                raise SystemExit(
                    f"{summary_path} is not valid JSON ({err}); delete it or rerun that evaluation"
                ) from err
            if s.get("env_steps", 0) != 0:
                continue  # a trained run: not a zero-shot evaluation
            agent = s.get("agent", "?")
            rows.append(
                {
                    "task": s["env_id"].split("/")[-1].removesuffix("-v0"),
                    "agent": agent,
                    "model": "-" if agent == "random" else s.get("model", "?"),
                    "norm": "-" if agent == "random" else s.get("norm", "?"),
                    "episodes": int(s.get("eval/episodes", 0)),
                    "success_rate": s.get("eval/success_rate"),
                    "episodic_return": s.get("eval/episodic_return"),
                    "discounted_return": s.get("eval/discounted_return"),
                }
            )
    if not rows:
        raise SystemExit(f"no zero-shot evaluations (summary.json with env_steps 0) under {[str(p) for p in paths]}")
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["task", "agent", "model", "norm"]).reset_index(drop=True)


def plot(table: pd.DataFrame, path: Path) -> None:
    data = table.assign(policy=table.agent.where(table.agent == "random", table.model + " (" + table.norm + ")"))
    sns.set_theme(style="whitegrid")
    data = data.assign(task=data.task.str.split("-", n=1).str[-1])  # "Overcooked-TomatoSalad" -> "TomatoSalad"
    fig, ax = plt.subplots(figsize=(max(6, 1.8 * data.task.nunique()), 4))
    sns.barplot(data=data, x="task", y="success_rate", hue="policy", ax=ax)
    ax.set_ylim(0, 1)
    ax.tick_params(axis="x", labelrotation=20)
    ax.set_ylabel("success rate (sampled actions)")
    ax.set_title("Zero-shot policies, no training")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, default=Path("figures/zero_shot_prior"))
    args = ap.parse_args(argv)
    table = load(args.paths)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(table.to_markdown(index=False, floatfmt=".3f") + "\n")
    plot(table, args.out.with_suffix(".png"))
    print(table.to_string(index=False))
    print(f"Wrote {args.out}.csv, .md and .png")
    return table


if __name__ == "__main__":
    main()
