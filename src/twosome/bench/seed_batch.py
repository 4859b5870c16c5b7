"""Seeds batched through one model against separate processes: the same total work both ways.

    python -m twosome.bench.seed_batch --out results/bench_seed_batch --seeds 2 --models tiny,smollm2_fp32 --updates 4

N seeds of one configuration (the end-to-end benchmark's Overcooked Tomato Salad case, laptop preset, no KL stop)
run (a) as N ``src/run.py`` processes at once, sharing the cores (each ``cores / N`` threads), and (b) as one seed
group (``hydra/launcher=seed_batch``) using every core. Measured: aggregate env steps/s (``charts/SPS`` of every seed's
last update, summed: steps since training started, evaluation included), the same from the wall clock of the whole
command (process start and model loading included), and the peak resident memory of all processes together (VmRSS of
each process and its children, sampled every 0.1 s). Writes ``seed_batch.csv`` (with the CPU flags) and prints it.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pandas as pd

from twosome.bench.end_to_end import ROOT, case_overrides, rss_bytes
from twosome.lm.dtype import cpu_flags
from twosome.run_dir import RunDir


def gpu_name() -> str:
    """The GPU's name where CUDA is available (runs given trainer=gpu use it), else an empty string."""
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else ""


def run_all(commands: list[list[str]], threads: int, timeout: float) -> tuple[float, int, list[int]]:
    """Run ``commands`` at once; (wall seconds, peak summed RSS in bytes, exit codes)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": str(threads), "HF_HUB_OFFLINE": "1"}
    start, peak = time.time(), 0
    procs = [
        subprocess.Popen(c, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    while any(p.poll() is None for p in procs) and time.time() - start < timeout:
        peak = max(peak, rss_bytes([p.pid for p in procs if p.poll() is None]))
        time.sleep(0.1)
    for p in procs:
        if p.poll() is None:
            p.kill()
        p.wait()
    codes = [p.returncode for p in procs]
    for p, code in zip(procs, codes):
        if code != 0:
            print(f"    failed: {p.stderr.read().strip().splitlines()[-1:]}", flush=True)
    return time.time() - start, peak, codes


def summed_sps(run_dirs: list[Path]) -> tuple[float, int]:
    """(sum over runs of the last update's charts/SPS, total env steps); NaN when a run wrote no metrics."""
    sps, steps = 0.0, 0
    for run_dir in run_dirs:
        path = RunDir(run_dir).metrics
        if not path.exists():
            return float("nan"), 0
        last = pd.read_csv(path).dropna(subset=["charts/SPS"]).iloc[-1]
        sps += float(last["charts/SPS"])
        steps += int(last["global_step"])
    return sps, steps


def phase_seconds(run_dirs: list[Path], way: str) -> tuple[float, float]:
    """Wall seconds per update (the first, a warm-up, left out) in the rollout and in the updates (value + policy):
    separate processes run at once (the mean over seeds); a group collects all rollouts in one and runs the seeds'
    updates one after another (their sum)."""
    frames = [pd.read_csv(RunDir(d).metrics).dropna(subset=["charts/rollout_seconds"]).iloc[1:] for d in run_dirs]
    rollout = sum(f["charts/rollout_seconds"].mean() for f in frames) / len(frames)
    updates = [f["charts/update_seconds"].mean() for f in frames]
    return rollout, sum(updates) if way == "batched" else sum(updates) / len(updates)


def measure(args, model: str) -> list[dict]:
    seeds, updates, cores, out, timeout = args.seeds, args.updates, args.cores, args.out, args.timeout
    overrides = case_overrides("overcooked", model, "shared", updates, args.num_envs, args.num_steps) + args.extra
    python = [sys.executable, "src/run.py", *overrides]
    rows = []
    separate_dirs = [out / model / "separate" / f"seed{s}" for s in range(seeds)]
    threads = max(cores // seeds, 1)
    commands = [
        [*python, f"seed={s}", f"hydra.run.dir={d}", f"++trainer.num_threads={threads}"]
        for s, d in enumerate(separate_dirs)
    ]
    sweep = out / model / "batched"
    batched = [
        [
            *python[:2],
            "-m",
            *overrides,
            "seed=" + ",".join(map(str, range(seeds))),
            "hydra/launcher=seed_batch",
            f"hydra.sweep.dir={sweep}",
            f"++trainer.num_threads={cores}",
        ]
    ]
    ways = (("separate", commands, threads), ("batched", batched, cores))
    for way, cmds, per_process in (w for w in ways if w[0] in args.ways):
        print(f"  {model}, {seeds} seeds, {way}: {len(cmds)} process(es) of {per_process} thread(s)", flush=True)
        wall, peak, codes = run_all(cmds, per_process, timeout)
        dirs = separate_dirs if way == "separate" else sorted(p for p in sweep.glob("[0-9]*_*") if p.is_dir())
        sps, steps = summed_sps(dirs)
        rollout, updates = phase_seconds(dirs, way) if steps else (float("nan"), float("nan"))
        rows.append(
            {
                "model": model,
                "seeds": seeds,
                "way": way,
                "processes": len(cmds),
                "threads_per_process": per_process,
                "updates": updates,
                "env_steps": steps,
                "env_steps_per_second": sps,
                "wall_seconds": wall,
                "wall_env_steps_per_second": steps / wall if steps else float("nan"),
                "rollout_seconds_per_update": rollout,
                "update_seconds_per_update": updates,
                "peak_rss_gib": peak / 2**30,
                "ok": all(c == 0 for c in codes),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--models", default="tiny", help="comma-separated, from twosome.bench.end_to_end.MODELS")
    parser.add_argument("--updates", type=int, default=4)
    parser.add_argument("--cores", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--num-steps", type=int, default=32)
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--ways", default="separate,batched", help="separate, batched or both (comma-separated)")
    parser.add_argument("--extra", nargs="*", default=[], help="overrides for every run, e.g. trainer=gpu")
    args = parser.parse_args(argv)
    args.ways = args.ways.split(",")
    if not args.ways or set(args.ways) - {"separate", "batched"}:
        parser.error(f"--ways {args.ways} is not valid; valid: separate, batched or both")
    from twosome.bench.end_to_end import MODELS

    models = args.models.split(",")
    unknown = [m for m in models if m not in MODELS]
    if unknown or args.seeds < 1 or args.updates < 1:
        parser.error(f"--models {unknown} not in {sorted(MODELS)}, or --seeds/--updates below 1")
    from twosome.checked import ConfigError
    from twosome.config import compose_run_config

    try:  # every run is src/run.py's: refuse what it would refuse before any runs or anything is written
        for model in models:
            overrides = case_overrides("overcooked", model, "shared", args.updates, args.num_envs, args.num_steps)
            compose_run_config(overrides + args.extra)
    except ConfigError as err:
        parser.error(f"--extra {args.extra} is not valid: {err}")
    args.out.mkdir(parents=True, exist_ok=True)
    rows = [row for model in models for row in measure(args, model)]
    df = pd.DataFrame(rows)
    df.insert(0, "date", date.today().isoformat())
    df.insert(1, "machine", f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores")
    df["gpu"] = gpu_name()
    df["cpu"] = cpu_flags()
    df.to_csv(args.out / "seed_batch.csv", index=False)
    print(df.drop(columns=["date", "machine"]).to_string(index=False))
    return df


if __name__ == "__main__":
    main()
