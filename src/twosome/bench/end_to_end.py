"""End-to-end training throughput: env steps per second, split into rollout, value phase and policy phase.

    python -m twosome.bench.end_to_end --out results/bench_e2e                      # the full grid, this code
    python -m twosome.bench.end_to_end --out results/bench_e2e --ref c85a641        # and the same grid on a commit
    python -m twosome.bench.end_to_end --envs babyai_goto --models tiny --updates 3

Each case is a real training run (``src/run.py``, the laptop PPO preset: minibatches as the preset sets them in
each tree, no KL stop so every tree makes the same optimizer steps) for a fixed number of updates, in its own
process so that cases do not share caches or threads; the first update is a warm-up and is left out of the rates
when there are more. ``--ref`` checks out a commit in a temporary git worktree and runs the same cases on it, so
before/after ratios come from one invocation on one machine. Writes ``e2e.csv``, ``e2e.md`` and ``e2e.png``.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import pandas as pd

from twosome.lm.dtype import cpu_flags
from twosome.processes import descendants
from twosome.run_dir import RunDir

ROOT = Path(__file__).resolve().parents[3]

ENVS = {
    "overcooked": ["env=overcooked", "env.task=tomato_salad", "agent=twosome"],
    "babyai_goto": ["env=babyai_text", "env.task=goto", "agent=glam"],
    "virtualhome": ["env=virtualhome", "env.task=entertainment", "agent=twosome"],
}
MODELS = {
    "tiny": ["model=tiny"],
    "smollm2_fp32": ["model=smollm2", "model.dtype=float32"],
    "smollm2_bf16": ["model=smollm2", "model.dtype=bfloat16"],
}
SCORERS = ("shared", "naive")
PHASES = ("rollout", "value", "policy")


def rollout_group(tree: Path) -> str:
    """Where ``tree``'s config keeps the rollout's shape: ``rollout``, or ``ppo`` in a commit from before that group."""
    laptop = tree / "conf" / "ppo" / "laptop.yaml"
    return "rollout" if not laptop.exists() or "rollout:" in laptop.read_text() else "ppo"


def case_overrides(
    env: str, model: str, scorer: str, updates: int, num_envs: int, num_steps: int, tree: Path = ROOT
) -> list[str]:
    overrides = [*ENVS[env], *MODELS[model], f"scorer.mode={scorer}", "ppo=laptop"]
    if model.startswith("smollm2"):  # one converted copy for every tree (a ref's worktree has no artifacts/)
        overrides.append(f"model.path={ROOT / 'artifacts' / 'models' / 'smollm2-135m-instruct'}")
    batch = num_envs * num_steps
    if batch < 32:  # below the preset's minibatch sizes (tests): one minibatch of everything
        overrides += [
            f"ppo.{k}={batch}" for k in ("value_minibatch_size", "policy_minibatch_size", "policy_chunk_size")
        ]
    group = rollout_group(tree)
    return overrides + [
        f"{group}.num_envs={num_envs}",
        f"{group}.num_steps={num_steps}",
        f"{group}.total_env_steps={updates * batch}",
        "ppo.target_kl=null",  # every update makes the same number of policy steps, in every tree
        "eval.every_updates=0",
        "eval.episodes=1",
        "eval.num_envs=1",
        "eval.final_sampled_episodes=0",  # training is what is measured
        "checkpoint.every_updates=0",
        "logger.tensorboard=false",
    ]


def rss_bytes(pids: list[int]) -> int:
    """Resident memory of ``pids`` and all their descendants, now (from /proc)."""
    total = 0
    for pid in {p for root in pids for p in (root, *descendants(root))}:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def run_case(tree: Path, overrides: list[str], run_dir: Path, timeout: float, threads: int) -> dict[str, float]:
    """Train one case in ``tree`` (a source checkout); return its phase seconds and steps, NaN on failure."""
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "OMP_NUM_THREADS": str(threads)}
    command = [sys.executable, "src/run.py", *overrides, f"hydra.run.dir={run_dir}", f"++trainer.num_threads={threads}"]
    start, peak = time.time(), 0
    with tempfile.TemporaryFile("w+") as stderr:
        proc = subprocess.Popen(command, cwd=tree, env=env, stdout=subprocess.DEVNULL, stderr=stderr, text=True)
        while proc.poll() is None and time.time() - start < timeout:
            peak = max(peak, rss_bytes([proc.pid]))
            time.sleep(0.1)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
            error = [f"timed out after {timeout:.0f} s"]
        else:
            stderr.seek(0)
            error = None if proc.returncode == 0 else stderr.read().strip().splitlines()[-1:]
    out: dict[str, float] = {"wall_seconds": time.time() - start, "peak_rss_gib": peak / 2**30}
    metrics_csv = RunDir(run_dir).metrics
    if error or not metrics_csv.exists():
        print(f"    failed: {error}", flush=True)
        return {**out, "error": " ".join(error or ["no metrics.csv"])}
    rows = pd.read_csv(metrics_csv).dropna(subset=["charts/rollout_seconds"])
    steps_per_update = rows["global_step"].diff().fillna(rows["global_step"].iloc[0])
    measured = rows.iloc[1:] if len(rows) > 1 else rows  # the first update warms caches and allocators up
    out["updates_measured"] = float(len(measured))
    out["env_steps"] = float(steps_per_update.loc[measured.index].sum())
    for phase in PHASES:
        out[f"{phase}_seconds"] = float(measured[f"charts/{phase}_seconds"].sum())
    total = sum(out[f"{phase}_seconds"] for phase in PHASES)
    out["env_steps_per_second"] = out["env_steps"] / total
    for phase in PHASES:
        out[f"{phase}_share"] = out[f"{phase}_seconds"] / total
    return out


def checkout(ref: str, into: Path) -> Path:
    subprocess.run(["git", "worktree", "add", "--detach", str(into), ref], cwd=ROOT, check=True, capture_output=True)
    return into


def measure(args) -> pd.DataFrame:
    trees = {"this": ROOT}
    scratch = Path(tempfile.mkdtemp(prefix="twosome-e2e-"))
    try:
        if args.ref:
            trees[args.ref] = checkout(args.ref, scratch / "ref")
        rows = []
        for env in args.envs:
            for model in args.models:
                for scorer, layers in ((s, n) for s in args.scorers for n in args.lora_layers):
                    for name, tree in trees.items():
                        overrides = case_overrides(
                            env, model, scorer, args.updates, args.num_envs, args.num_steps, tree
                        )
                        overrides.append(f"agent.policy.lora_layers={'null' if layers == 'all' else layers}")
                        print(f"{env:12s} {model:13s} {scorer:6s} lora_layers={layers} {name}", flush=True)
                        run_dir = scratch / "runs" / f"{name}-{env}-{model}-{scorer}-{layers}"
                        result = run_case(tree, overrides, run_dir, args.timeout, args.threads)
                        case = {"env": env, "model": model, "scorer": scorer, "lora_layers": layers, "code": name}
                        rows.append({**case, **result})
                        if "env_steps_per_second" in result:
                            split = " ".join(f"{p} {result[f'{p}_share']:.0%}" for p in PHASES)
                            print(f"    {result['env_steps_per_second']:.2f} env steps/s ({split})", flush=True)
        return pd.DataFrame(rows)
    finally:
        if args.ref:
            subprocess.run(["git", "worktree", "remove", "--force", str(scratch / "ref")], cwd=ROOT, check=False)
        shutil.rmtree(scratch, ignore_errors=True)


def ratios(df: pd.DataFrame, ref: str) -> pd.DataFrame:
    """This code's rate over the reference's, per case (and over the reference's naive scorer)."""
    keys = ["env", "model", "scorer", *(["lora_layers"] if "lora_layers" in df else [])]
    wide = df.pivot_table(index=keys, columns="code", values="env_steps_per_second")
    wide = wide.reset_index()
    wide["speedup"] = wide["this"] / wide[ref]
    return wide


def plot(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    data = df.dropna(subset=["env_steps_per_second"])
    layers = data["lora_layers"].astype(str) if "lora_layers" in data else pd.Series("all", index=data.index)
    top = ("\nLoRA on top " + layers + " blocks").where(layers != "all", "")
    data = data.assign(case=data.env + "\n" + data.model + top, run=data.code + " / " + data.scorer)
    if data.empty:
        return
    sns.set_theme(style="whitegrid")
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * data.case.nunique()) + 2, 4))
    sns.barplot(data=data, x="case", y="env_steps_per_second", hue="run", ax=ax)
    ax.set_yscale("log")
    sns.move_legend(ax, "upper left", bbox_to_anchor=(1.01, 1), title="code / scorer")
    ax.set_ylabel("env steps / s (log)")
    ax.set_xlabel("")
    ax.set_title(f"Training throughput ({data.machine.iloc[0]}, {data.date.iloc[0]})")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench_e2e"))
    parser.add_argument("--envs", type=lambda s: s.split(","), default=list(ENVS))
    parser.add_argument("--models", type=lambda s: s.split(","), default=list(MODELS))
    parser.add_argument("--scorers", type=lambda s: s.split(","), default=list(SCORERS))
    parser.add_argument("--updates", type=int, default=3, help="updates per case (the first is a warm-up)")
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--num-steps", type=int, default=32)
    parser.add_argument(
        "--lora-layers",
        type=lambda s: s.split(","),
        default=["all"],
        help="comma-separated agent.policy.lora_layers of each case: all (every block) or N (the top N)",
    )
    parser.add_argument("--ref", help="also run every case on this git commit (before/after ratios)")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds per case before it counts as failed")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--replot", action="store_true", help="redraw e2e.png from an existing e2e.csv")
    args = parser.parse_args(argv)
    for name, given, valid in (
        ("env", args.envs, ENVS),
        ("model", args.models, MODELS),
        ("scorer", args.scorers, SCORERS),
    ):
        bad = [g for g in given if g not in valid]
        if bad:
            parser.error(f"--{name}s {bad} not valid; valid: {list(valid)}")
    if args.updates < 1:
        parser.error(f"--updates {args.updates} is not valid; valid: >= 1")
    bad = [n for n in args.lora_layers if n != "all" and not (n.isdigit() and int(n) >= 1)]
    if bad:
        parser.error(f"--lora-layers {bad} not valid; valid: all or an integer >= 1")
    if args.replot:
        df = pd.read_csv(args.out / "e2e.csv")
        plot(df, args.out / "e2e.png")
        return df
    df = measure(args)
    args.out.mkdir(parents=True, exist_ok=True)
    df.insert(0, "date", str(date.today()))
    df.insert(1, "machine", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    df["cpu"] = cpu_flags()
    df.to_csv(args.out / "e2e.csv", index=False)
    cols = ["env", "model", "scorer", "lora_layers", "code", "env_steps_per_second", *(f"{p}_share" for p in PHASES)]
    table = df[[c for c in cols if c in df]].round(3)
    text = table.to_markdown(index=False)
    if args.ref and "env_steps_per_second" in df:
        text += "\n\n" + ratios(df, args.ref).round(2).to_markdown(index=False)
    (args.out / "e2e.md").write_text(text + "\n")
    plot(df, args.out / "e2e.png")
    print(text)
    print(f"wrote {args.out / 'e2e.csv'}, e2e.md, e2e.png")
    return df


if __name__ == "__main__":
    main()
