"""Learning curves from run directories: return vs environment steps, mean and 95% CI over seeds.

    python analysis/learning_curves.py multirun/2026-11-21_03-10-00 --out figures/tomato_salad

Every directory below the given paths that holds a ``summary.json`` and ``metrics.csv`` is one run; runs are
grouped by (env, agent, norm) and seeds are aggregated. Writes a PNG, a PDF and the tidy CSV behind them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import pandas as pd

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

CURVES = {"charts": "training episodes", "eval": "evaluation (greedy)"}
TRAINING = CURVES["charts"]


def load_runs(paths: list[Path], metric: str = "discounted_return") -> pd.DataFrame:
    """One tidy frame: a row per (run, global_step, curve) with the chosen metric in column ``return``.

    ``discounted_return`` (gamma per primitive step, from the episode's start) is what optimality is measured in;
    ``episodic_return`` is the plain sum of the macro actions' rewards, as the original code logged it.
    """
    METRICS = {f"{prefix}/{metric}": label for prefix, label in CURVES.items()}
    frames = []
    for root in paths:
        for summary_path in sorted(Path(root).rglob("summary.json")):
            run = summary_path.parent
            if not (run / "metrics.csv").exists():
                continue
            summary = json.loads(summary_path.read_text())
            metrics = pd.read_csv(run / "metrics.csv")
            for column, label in METRICS.items():
                if column not in metrics:
                    continue
                part = metrics[["global_step", column]].dropna().rename(columns={column: "return"})
                part = part.assign(
                    curve=label,
                    run=str(run),
                    seed=summary["seed"],
                    env=summary["env_id"],
                    agent=summary["agent"],
                    norm=summary["norm"],
                    model=summary.get("model", "?"),
                    gamma=run_gamma(run),
                )
                frames.append(part)
    if not frames:
        raise SystemExit(f"no run directories (summary.json + metrics.csv) under {[str(p) for p in paths]}")
    return pd.concat(frames, ignore_index=True)


def run_gamma(run: Path) -> float:
    """The run's per-step discount (``env.gamma`` in its resolved config), NaN if the config is missing."""
    config = run / "config.yaml"
    if not config.exists():
        return float("nan")
    from omegaconf import OmegaConf

    return float(OmegaConf.load(config).env.get("gamma", float("nan")))


def fill_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Carry each run's last training return over updates in which no episode ended (a stuck policy ends none
    within a rollout), so that seeds are averaged at every step instead of whichever happened to log there."""
    train = df[df.curve == TRAINING]
    parts = [df[df.curve != TRAINING]]
    for _, group in train.groupby(["env", "agent", "model", "norm"]):
        grid = sorted(group.global_step.unique())
        for _, run in group.groupby("run"):
            run = run.set_index("global_step")
            full = run.reindex([x for x in grid if x >= run.index.min() and x <= run.index.max()]).ffill()
            parts.append(full.reset_index())
    return pd.concat(parts, ignore_index=True)


def smooth(df: pd.DataFrame, window: int) -> pd.DataFrame:
    """Rolling mean of the training curve per run (episode returns in one rollout are few and noisy)."""
    out = fill_gaps(df)
    train = out.curve == TRAINING
    out.loc[train, "return"] = (
        out[train].groupby("run")["return"].transform(lambda s: s.rolling(window, min_periods=1).mean())
    )
    return out


def optimal_returns(envs, metric: str, gammas: dict[str, float] | None = None) -> dict[str, float]:
    """The optimal plan's return in ``metric``, where the environment provides an optimal plan.

    VirtualHome pays 1 at the end of its shortest plan of ``optimal_steps`` decisions, so its optimal discounted
    return is ``gamma ** (optimal_steps - 1)`` with the runs' gamma.
    """
    out = {}
    try:
        import gymnasium as gym

        from twosome.envs.overcooked import optimal_return
        from twosome.envs.virtualhome.tasks import TASKS as VIRTUALHOME
    except ImportError:
        return out
    for env_id in envs:
        if metric == "success_rate":
            out[env_id] = 1.0
        elif env_id in VIRTUALHOME:
            gamma = (gammas or {}).get(env_id, float("nan"))
            out[env_id] = gamma ** (VIRTUALHOME[env_id].optimal_steps - 1) if metric == "discounted_return" else 1.0
        elif "Overcooked" in env_id:
            best, plan, _ = optimal_return(env_id)
            env = gym.make(env_id)
            env.reset(seed=0)
            out[env_id] = best if metric == "discounted_return" else sum(env.step(a)[1] for a in plan)
    return out


def env_gammas(df: pd.DataFrame) -> dict[str, float]:
    if "gamma" not in df:
        return {}
    return df.dropna(subset=["gamma"]).groupby("env")["gamma"].first().to_dict()


def summary_table(df: pd.DataFrame, metric: str = "discounted_return", fraction: float = 0.95) -> pd.DataFrame:
    """Per (env, agent, model, norm): final evaluation return and environment steps until the evaluation curve
    first reaches ``fraction`` of the optimal return (NaN where a seed never did), mean over seeds."""
    optimal = optimal_returns(sorted(df.env.unique()), metric, env_gammas(df))
    evals = df[df.curve == CURVES["eval"]]
    rows = []
    for _, data in evals.groupby("run"):
        data = data.sort_values("global_step")
        env = data.env.iloc[0]
        target = fraction * optimal[env] if env in optimal else float("nan")
        reached = data[data["return"] >= target]["global_step"]
        rows.append(
            {
                "env": env,
                "agent": data.agent.iloc[0],
                "model": data.model.iloc[0],
                "norm": data.norm.iloc[0],
                "seed": data.seed.iloc[0],
                "final_return": data["return"].iloc[-1],
                "optimal": optimal.get(env, float("nan")),
                "steps_to_target": reached.iloc[0] if len(reached) else float("nan"),
            }
        )
    per_run = pd.DataFrame(rows)
    keys = ["env", "agent", "model", "norm"]
    if per_run.empty:  # no evaluation curves in these runs
        return pd.DataFrame(columns=[*keys, "seeds", "final_return", "steps_to_target"])
    return (
        per_run.groupby(keys)
        .agg(
            seeds=("seed", "nunique"),
            final_return=("final_return", "mean"),
            final_return_std=("final_return", "std"),
            optimal=("optimal", "first"),
            reached=("steps_to_target", lambda s: int(s.notna().sum())),
            steps_to_target=("steps_to_target", "mean"),
        )
        .reset_index()
    )


def eval_only_table(paths: list[Path], metric: str = "discounted_return", fraction: float = 0.95) -> pd.DataFrame:
    """Runs that only evaluate (zero-shot, random): their evaluation return, in the summary table's columns."""
    rows = []
    for root in paths:
        for summary_path in sorted(Path(root).rglob("summary.json")):
            summary = json.loads(summary_path.read_text())
            if summary.get("env_steps", 0) != 0 or f"eval/{metric}" not in summary:
                continue
            rows.append(
                {
                    "env": summary["env_id"],
                    "agent": summary["agent"],
                    "model": summary.get("model", "?"),
                    "norm": summary["norm"],
                    "seed": summary["seed"],
                    "final_return": summary[f"eval/{metric}"],
                    "gamma": run_gamma(summary_path.parent),
                }
            )
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    optimal = optimal_returns(sorted(df.env.unique()), metric, df.groupby("env")["gamma"].first().to_dict())
    out = (
        df.groupby(["env", "agent", "model", "norm"])
        .agg(
            seeds=("seed", "nunique"),
            final_return=("final_return", "mean"),
            final_return_std=("final_return", "std"),
        )
        .reset_index()
    )
    out["optimal"] = out.env.map(optimal)
    out["reached"] = (out.final_return >= fraction * out.optimal).astype(int) * out.seeds
    out["steps_to_target"] = float("nan")  # no training: 0 steps if it is already there, else never
    out.loc[out.reached > 0, "steps_to_target"] = 0.0
    return out


def series_label(d: pd.DataFrame, with_model: bool) -> pd.Series:
    """'twosome (word)', 'ppo', ...; the model is named only when a panel mixes models."""
    norm = d.norm.where(d.norm.isin(["word", "token", "none"]), "")
    label = d.agent + norm.map(lambda n: f" ({n})" if n else "")
    return label + " " + d.model if with_model else label


def plot(df: pd.DataFrame, out: Path, metric: str = "discounted_return", curves: str = "train") -> None:
    """One panel per task; a line per agent (and normalization), mean and 95% CI over seeds. ``curves``: ``train``
    (smoothed training episodes, the paper's style), ``eval`` (greedy evaluations) or ``both``. The x axis is
    logarithmic when one agent's budget is over 4x another's (PPO from scratch next to TWOSOME)."""
    sns.set_theme(style="whitegrid")
    keep = {"train": [CURVES["charts"]], "eval": [CURVES["eval"]], "both": list(CURVES.values())}[curves]
    df = df[df.curve.isin(keep)]
    envs = sorted(df.env.unique())
    optimal = optimal_returns(envs, metric, env_gammas(df))
    fig, axes = plt.subplots(1, len(envs), figsize=(6.5 * len(envs), 4.8), squeeze=False)
    for ax, env_id in zip(axes[0], envs):
        data = df[df.env == env_id]
        series = series_label(data, data.model[data.agent != "ppo"].nunique() > 1)
        if curves == "both":
            series = series + " " + data.curve
        data = data.assign(series=series)
        order = sorted(data.series.unique())
        sns.lineplot(data=data, x="global_step", y="return", hue="series", hue_order=order, errorbar=("ci", 95), ax=ax)
        if env_id in optimal:
            ax.axhline(optimal[env_id], color="black", ls="--", lw=1, label="optimal")
        budgets = data.groupby("series")["global_step"].max()
        if budgets.max() > 4 * budgets.min():
            ax.set_xscale("log")
        n_seeds = data.groupby("series")["seed"].nunique().max()
        ax.set_title(f"{env_id.split('/')[-1]} ({n_seeds} seeds, mean and 95% CI)")
        ax.set_xlabel("environment steps")
        ax.set_ylabel(metric.replace("_", " ") + (" (training episodes)" if curves == "train" else ""))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out.with_suffix(".png"), dpi=130, bbox_inches="tight")
    fig.savefig(out.with_suffix(".pdf"), bbox_inches="tight")
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path, help="run or sweep directories")
    ap.add_argument("--out", type=Path, default=Path("figures/learning_curves"))
    ap.add_argument("--smooth", type=int, default=10, help="rolling window (updates) for training returns")
    ap.add_argument(
        "--metric", default="discounted_return", choices=["discounted_return", "episodic_return", "success_rate"]
    )
    ap.add_argument("--curves", default="train", choices=["train", "eval", "both"], help="which curves to draw")
    args = ap.parse_args(argv)
    df = smooth(load_runs(args.paths, args.metric), args.smooth)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out.with_suffix(".csv"), index=False)
    plot(df, args.out, args.metric, args.curves)
    table = pd.concat([summary_table(df, args.metric), eval_only_table(args.paths, args.metric)], ignore_index=True)
    table.to_csv(args.out.with_name(args.out.name + "_summary.csv"), index=False)
    print(table.to_string(index=False))
    print(f"Wrote {args.out.with_suffix('.png')}, .pdf, .csv and _summary.csv ({df.run.nunique()} runs)")


if __name__ == "__main__":
    main()
