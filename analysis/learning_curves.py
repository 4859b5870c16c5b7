"""Learning curves from run directories: return vs environment steps, IQM (or mean) and 95% CI over seeds.

    python analysis/learning_curves.py multirun/2026-11-21_03-10-00 --out figures/tomato_salad

Every directory below the given paths that holds a ``summary.json`` and ``metrics.csv`` is one run; runs are
grouped by configuration (env, agent, model, norm and every other setting of their config.yaml but the seed) and
seeds are aggregated; configurations that differ in other settings are drawn apart, labelled with those settings.
Evaluation-only runs (zero-shot, random) are drawn as horizontal lines, at their greedy evaluation or, with
``--untrained sampled``, their sampled one (the training curves' actions are sampled: compare like with like).
The line is the interquartile mean over seeds at each step (``--estimator iqm``, Agarwal et al. 2021; ``mean`` as
before) and the band its 95% bootstrap interval over seeds (seaborn's, seeded: the same runs draw the same figure).
Writes a PNG, a PDF and the tidy CSV behind them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib
import pandas as pd
from scipy.stats import trim_mean

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import seaborn as sns  # noqa: E402

from twosome.fileio import damaged_files
from twosome.run_dir import SUMMARY, RunDir

CURVES = {"charts": "training episodes", "eval": "evaluation (greedy)"}
TRAINING = CURVES["charts"]
KEYS = ["env", "agent", "model", "norm", "variant"]  # one configuration; its seeds are pooled
# Settings that do not make runs different configurations: where the run is written, how often it saves, threads.
NOT_CONFIG = ("seed", "run_name", "paths.", "checkpoint.", "logger.", "trainer.num_threads", "hydra.")
# "Reaches the optimum": a greedy return of at least this fraction of the optimal one. Not 0.95: on VirtualHome each
# extra decision multiplies the return by gamma = 0.95 exactly, so a plan one decision too long sits at 95.0% and
# would pass or fail by floating-point rounding. 0.97 excludes it; on Overcooked (gamma 0.99 per primitive step) it
# admits plans at most 3 primitive steps longer than the optimal one.
TARGET_FRACTION = 0.97
ESTIMATORS = {"iqm": lambda x: float(trim_mean(x, 0.25)), "mean": "mean"}


def run_settings(run: Path) -> dict:
    """The run's settings that define its configuration (flattened config.yaml), {} without a config."""
    config = RunDir(run).config
    if not config.exists():
        return {}
    from omegaconf import OmegaConf

    from twosome.config import load_run_config  # keys a config may omit read as their defaults

    flat = pd.json_normalize(OmegaConf.to_container(load_run_config(config)), sep=".").iloc[0].to_dict()
    return {k: str(v) for k, v in flat.items() if not k.startswith(NOT_CONFIG)}


def variants(runs: dict[str, dict], groups: dict[str, tuple]) -> dict[str, str]:
    """For each run, the settings that set its configuration apart from other runs of the same (env, agent, model,
    norm): '' when there is one configuration, else e.g. 'ppo.policy_lr=0.01'."""
    out = {}
    by_group: dict[tuple, list[str]] = {}
    for run, group in groups.items():
        by_group.setdefault(group, []).append(run)
    for members in by_group.values():
        keys = sorted({k for r in members for k in runs[r]})
        differing = [k for k in keys if len({runs[r].get(k) for r in members}) > 1]
        for r in members:
            out[r] = ", ".join(f"{k}={runs[r].get(k)}" for k in differing)
    return out


def agent_label(agent: str, settings: dict) -> str:
    """The agent's name, with its learning algorithm when that is not PPO (e.g. 'twosome+POAD')."""
    algorithm = settings.get("algo._target_", "twosome.rl.ppo.PPO").rsplit(".", 1)[-1]
    return agent if algorithm == "PPO" else f"{agent}+{algorithm}"


def load_runs(paths: list[Path], metric: str = "discounted_return") -> pd.DataFrame:
    """One tidy frame: a row per (run, global_step, curve) with the chosen metric in column ``return``.

    ``discounted_return`` (gamma per primitive step, from the episode's start) is what optimality is measured in;
    ``episodic_return`` is the plain sum of the macro actions' rewards, as the original code logged it.
    """
    METRICS = {f"{prefix}/{metric}": label for prefix, label in CURVES.items()}
    frames, settings, groups = [], {}, {}
    for root in paths:
        for summary_path in sorted(Path(root).rglob(SUMMARY)):
            run = summary_path.parent
            if not RunDir(run).metrics.exists():
                continue
            summary = json.loads(summary_path.read_text())
            metrics = pd.read_csv(RunDir(run).metrics)
            settings[str(run)] = run_settings(run)
            agent = agent_label(summary["agent"], settings[str(run)])
            model = run_model(run, summary)
            groups[str(run)] = (summary["env_id"], agent, model, summary["norm"])
            for column, label in METRICS.items():
                if column not in metrics:
                    continue
                part = metrics[["global_step", column]].dropna().rename(columns={column: "return"})
                part = part.assign(
                    curve=label,
                    run=str(run),
                    seed=summary["seed"],
                    env=summary["env_id"],
                    agent=agent,
                    norm=summary["norm"],
                    model=model,
                    gamma=run_gamma(run),
                )
                frames.append(part)
    if not frames:
        raise SystemExit(f"no run directories (summary.json + metrics.csv) under {[str(p) for p in paths]}")
    df = pd.concat(frames, ignore_index=True)
    return df.assign(variant=df.run.map(variants(settings, groups)))


def run_model(run: Path, summary: dict) -> str:
    """The LM the run's agent reads with, "-" for agents that read no text (PPO from scratch, random): older
    summaries name the config's default model for those too."""
    config = RunDir(run).config
    if config.exists():
        from omegaconf import OmegaConf

        if OmegaConf.select(OmegaConf.load(config), "agent.uses_lm", default=True) is False:
            return "-"
    return summary.get("model", "?")


def run_gamma(run: Path) -> float:
    """The run's per-step discount (``env.gamma`` in its resolved config), NaN if the config is missing."""
    config = RunDir(run).config
    if not config.exists():
        return float("nan")
    from omegaconf import OmegaConf

    return float(OmegaConf.select(OmegaConf.load(config), "env.gamma", default=float("nan")))


def fill_gaps(df: pd.DataFrame) -> pd.DataFrame:
    """Carry each run's last training return over updates in which no episode ended (a stuck policy ends none
    within a rollout), up to the configuration's last step, so that seeds are averaged at every step instead of
    whichever happened to log there (at the last step, only the runs whose episode ended in the final update)."""
    train = df[df.curve == TRAINING]
    parts = [df[df.curve != TRAINING]]
    for _, group in train.groupby(KEYS):
        grid = sorted(group.global_step.unique())
        for _, run in group.groupby("run"):
            run = run.set_index("global_step")
            full = run.reindex([x for x in grid if x >= run.index.min()]).ffill()
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


def summary_table(
    df: pd.DataFrame, metric: str = "discounted_return", fraction: float = TARGET_FRACTION
) -> pd.DataFrame:
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
                "variant": data.variant.iloc[0],
                "seed": data.seed.iloc[0],
                "final_return": data["return"].iloc[-1],
                "optimal": optimal.get(env, float("nan")),
                "steps_to_target": reached.iloc[0] if len(reached) else float("nan"),
            }
        )
    per_run = pd.DataFrame(rows)
    if per_run.empty:  # no evaluation curves in these runs
        return pd.DataFrame(columns=[*KEYS, "seeds", "final_return", "steps_to_target"])
    return (
        per_run.groupby(KEYS)
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


EVALUATIONS = {"greedy": "eval", "sampled": "sampled"}  # an evaluation-only run's line -> its summary's prefix


def eval_only_table(
    paths: list[Path], metric: str = "discounted_return", fraction: float = TARGET_FRACTION, evaluation: str = "greedy"
) -> pd.DataFrame:
    """Runs that only evaluate (zero-shot, random): their evaluation return, in the summary table's columns.
    ``evaluation``: the greedy evaluation (``eval/``) or the sampled one (``sampled/``, actions drawn from the policy
    as in the training episodes); a run without it is left out. The column ``evaluation`` names which."""
    key = f"{EVALUATIONS[evaluation]}/{metric}"
    rows = []
    for root in paths:
        for summary_path in sorted(Path(root).rglob(SUMMARY)):
            summary = json.loads(summary_path.read_text())
            if summary.get("env_steps", 0) != 0 or key not in summary:
                continue
            rows.append(
                {
                    "env": summary["env_id"],
                    "agent": summary["agent"],
                    "model": run_model(summary_path.parent, summary),
                    "norm": summary["norm"],
                    "seed": summary["seed"],
                    "final_return": summary[key],
                    "gamma": run_gamma(summary_path.parent),
                    "run": str(summary_path.parent),
                }
            )
    if not rows:
        return pd.DataFrame()
    df = pd.DataFrame(rows)
    groups = {r.run: (r.env, r.agent, r.model, r.norm) for r in df.itertuples()}
    df["variant"] = df.run.map(variants({run: run_settings(Path(run)) for run in df.run}, groups))
    optimal = optimal_returns(sorted(df.env.unique()), metric, df.groupby("env")["gamma"].first().to_dict())
    out = (
        df.groupby(KEYS)
        .agg(
            seeds=("seed", "nunique"),
            final_return=("final_return", "mean"),
            final_return_std=("final_return", "std"),
        )
        .reset_index()
    )
    out["evaluation"] = evaluation
    out["optimal"] = out.env.map(optimal)
    out["reached"] = (out.final_return >= fraction * out.optimal).astype(int) * out.seeds
    out["steps_to_target"] = float("nan")  # no training: 0 steps if it is already there, else never
    out.loc[out.reached > 0, "steps_to_target"] = 0.0
    return out


def series_label(d: pd.DataFrame, with_model: bool) -> pd.Series:
    """'twosome (word)', 'ppo', ...; the model is named only when a panel mixes models, the settings that set a
    configuration apart (``variant``) when there are several of one agent."""
    norm = d.norm.where(d.norm.isin(["word", "token", "none", "trie"]), "")
    label = d.agent + norm.map(lambda n: f" ({n})" if n else "")
    label = label + d.model.map(lambda m: f" {m}" if with_model and m != "-" else "")
    variant = d.variant.fillna("") if "variant" in d else pd.Series("", index=d.index)
    return label + variant.map(lambda v: f" [{v}]" if v else "")


def merge_identical(data: pd.DataFrame) -> pd.DataFrame:
    """Series with the same points, seed for seed (token normalization trains word's weights where every action
    word is one token), would hide one another: one line, labelled with every name ("a = b")."""
    points = {
        s: tuple(map(tuple, d.sort_values(["seed", "global_step"])[["seed", "global_step", "return"]].to_numpy()))
        for s, d in data.groupby("series")
    }
    groups: dict[tuple, list[str]] = {}
    for s in sorted(points):
        groups.setdefault(points[s], []).append(s)
    rename = {name: " = ".join(names) for names in groups.values() for name in names}
    kept = data[data.series.isin([names[0] for names in groups.values()])]
    return kept.assign(series=kept.series.map(rename))


def plot(
    df: pd.DataFrame,
    out: Path,
    metric: str = "discounted_return",
    curves: str = "train",
    untrained: pd.DataFrame | None = None,
    estimator: str = "iqm",
) -> list[tuple[str, list[str]]]:
    """One panel per task; a line per configuration, mean and 95% CI over seeds (a plain line for one seed).
    ``curves``: ``train`` (smoothed training episodes, the paper's style), ``eval`` (greedy evaluations, marked
    points) or ``both``. ``untrained``: evaluation-only runs (eval_only_table), drawn as dotted horizontal lines. The
    x axis is logarithmic when one agent's budget is over 4x another's (PPO from scratch next to TWOSOME). Returns
    each panel's title, legend entries and number of marked evaluation points."""
    sns.set_theme(style="whitegrid")
    keep = {"train": [CURVES["charts"]], "eval": [CURVES["eval"]], "both": list(CURVES.values())}[curves]
    df = df[df.curve.isin(keep)]
    if df.empty:
        other = {"train": "eval", "eval": "train"}.get(curves, "eval")
        raise SystemExit(f"no {' or '.join(keep)} points in these runs (no episode ended?): try --curves {other}")
    envs = sorted(df.env.unique())
    optimal = optimal_returns(envs, metric, env_gammas(df))
    fig, axes = plt.subplots(1, len(envs), figsize=(6.5 * len(envs), 4.8), squeeze=False)
    for ax, env_id in zip(axes[0], envs):
        data = df[df.env == env_id]
        series = series_label(data, data.model[data.model != "-"].nunique() > 1)
        if curves == "both":
            series = series + " " + data.curve
        data = merge_identical(data.assign(series=series))
        order = sorted(data.series.unique())
        seeds_per_series = data.groupby("series")["seed"].nunique()
        n_seeds, fewest = seeds_per_series.max(), seeds_per_series.min()
        sns.lineplot(
            data=data,
            x="global_step",
            y="return",
            hue="series",
            hue_order=order,
            estimator=ESTIMATORS[estimator],
            errorbar=("ci", 95) if n_seeds > 1 else None,
            seed=0,
            ax=ax,
        )
        evals = data[data.curve == CURVES["eval"]]
        if not evals.empty:  # evaluations are few points: marked, so that a single evaluation is still seen
            means = evals.groupby(["series", "global_step"], as_index=False)["return"].mean()
            sns.scatterplot(
                data=means, x="global_step", y="return", hue="series", hue_order=order, legend=False, s=30, ax=ax
            )
        if env_id in optimal:
            ax.axhline(optimal[env_id], color="black", ls="--", lw=1, label="optimal")
        if untrained is not None and not untrained.empty:  # one line per value: equal ones are labelled together
            rows = untrained[untrained.env == env_id]
            lines: dict[float, list[str]] = {}
            with_model = rows.model.nunique() > 1  # two untrained models' lines would otherwise share a label
            evaluation = rows.evaluation.iloc[0] if "evaluation" in rows and len(rows) else "greedy"
            for row in rows.itertuples():
                label = series_label(pd.DataFrame([row._asdict()]), with_model).iloc[0]
                lines.setdefault(round(float(row.final_return), 9), []).append(label)
            for i, (value, labels) in enumerate(lines.items()):
                ax.axhline(value, color=f"C{(len(order) + i) % 10}", ls=":", lw=1.5,
                           label=f"{' = '.join(labels)} (untrained; {evaluation} evaluation return)")  # fmt: skip
        budgets = data.groupby("series")["global_step"].max()
        if budgets.max() > 4 * budgets.min():
            ax.set_xscale("log")
        name = "IQM" if estimator == "iqm" else "mean"
        spread = "no CI" if n_seeds == 1 else f"{name} and 95% CI" if fewest > 1 else "95% CI where more than 1 seed"
        seeds = f"{fewest}-{n_seeds} seeds" if fewest < n_seeds else f"{n_seeds} seed{'s' if n_seeds > 1 else ''}"
        ax.set_title(f"{env_id.split('/')[-1]} ({seeds}, {spread})")
        ax.set_xlabel("environment steps")
        ax.set_ylabel(metric.replace("_", " ") + (" (training episodes)" if curves == "train" else ""))
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=8, frameon=False)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out.with_suffix(".png"), dpi=130, bbox_inches="tight")
    fig.savefig(out.with_suffix(".pdf"), bbox_inches="tight")
    panels = [(ax.get_title(), [t.get_text() for t in ax.get_legend().get_texts()]) for ax in axes[0][: len(envs)]]
    marked = [
        sum(len(c.get_offsets()) for c in ax.collections if type(c).__name__ == "PathCollection") for ax in axes[0]
    ]
    plt.close(fig)
    return [(title, legend, n) for (title, legend), n in zip(panels, marked)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path, help="run or sweep directories")
    ap.add_argument("--out", type=Path, default=Path("figures/learning_curves"))
    ap.add_argument("--smooth", type=int, default=10, help="rolling window (updates) for training returns")
    ap.add_argument(
        "--metric", default="discounted_return", choices=["discounted_return", "episodic_return", "success_rate"]
    )
    ap.add_argument("--curves", default="train", choices=["train", "eval", "both"], help="which curves to draw")
    ap.add_argument("--estimator", default="iqm", choices=sorted(ESTIMATORS), help="the line: over seeds, per step")
    ap.add_argument("--untrained", default="greedy", choices=sorted(EVALUATIONS),
                    help="evaluation-only runs' lines: their greedy or their sampled evaluation (sampled matches the "
                    "training curves, whose actions are sampled)")  # fmt: skip
    args = ap.parse_args(argv)
    try:
        df = smooth(load_runs(args.paths, args.metric), args.smooth)
    except (ValueError, KeyError, OSError) as err:  # a damaged summary or metrics file: name it
        damaged = damaged_files(args.paths)
        if not damaged:
            raise
        raise SystemExit(f"{type(err).__name__}: {err}; damaged data files:\n  " + "\n  ".join(damaged)) from err
    args.out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out.with_suffix(".csv"), index=False)
    untrained = eval_only_table(args.paths, args.metric, evaluation=args.untrained)
    plot(df, args.out, args.metric, args.curves, untrained, args.estimator)
    table = pd.concat([summary_table(df, args.metric), untrained], ignore_index=True)
    table.to_csv(args.out.with_name(args.out.name + "_summary.csv"), index=False)
    print(table.to_string(index=False))
    print(f"Wrote {args.out.with_suffix('.png')}, .pdf, .csv and _summary.csv ({df.run.nunique()} runs)")


if __name__ == "__main__":
    main()
