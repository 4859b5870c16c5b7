"""Peak memory of a training update against ``ppo.policy_chunk_size``: how many decisions one forward and backward
may hold before the kernel kills the run.

    python -m twosome.bench.update_memory --chunks 4,8 --out docs/benchmarks -- \
        env=textworld model=smollm2 model.dtype=float32 norm=word

A CPU raises no out-of-memory error: a run whose update outgrows the machine is killed by the kernel (a SmolLM2
TextWorld run at the laptop preset's 32 decisions per chunk was, at 19.8 GB on a 24 GB machine beside another run).
Each case is one real training run (``src/run.py``) of a single update with one short greedy evaluation, in its own
process; the kernel's record of that process (``os.wait4``) gives its peak resident memory, and its metrics the
update's seconds. Memory that does not grow with the chunk (the model, the environments) is the same in every case,
so the difference between cases is what the chunk's decisions hold. Appends to ``update_memory.csv``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from twosome.bench import append_rows
from twosome.checked import ConfigError
from twosome.config import compose_run_config
from twosome.lm.dtype import cpu_flags, cpu_model
from twosome.run_dir import RunDir

ROOT = Path(__file__).resolve().parents[3]
# Every append in this order (a failed case has no seconds)
COLUMNS = ["overrides", "threads", "decisions", "chunk", "peak_rss_gib", "outcome", "wall_seconds", "rollout_seconds",
           "update_seconds", "cpu"]  # fmt: skip


def case_overrides(overrides: list[str], chunk: int, threads: int, num_envs: int, num_steps: int) -> list[str]:
    """The run's overrides, then the single update of ``num_envs`` x ``num_steps`` decisions at ``chunk``."""
    decisions = num_envs * num_steps
    return [
        *overrides,
        f"rollout.num_envs={num_envs}", f"rollout.num_steps={num_steps}", f"rollout.total_env_steps={decisions}",
        f"ppo.policy_minibatch_size={decisions}", f"ppo.value_minibatch_size={decisions}",
        f"ppo.policy_chunk_size={chunk}", f"trainer.num_threads={threads}",
        "eval.episodes=1", "eval.num_envs=1", "eval.every_updates=0", "eval.final_sampled_episodes=0",
        "logger.tensorboard=false",
    ]  # fmt: skip


def case(overrides: list[str], chunk: int, threads: int, num_envs: int, num_steps: int, run_dir: Path) -> dict:
    """One update at ``chunk`` decisions per forward and backward: peak resident memory (GiB) and seconds."""
    cmd = [
        sys.executable, str(ROOT / "src" / "run.py"),
        *case_overrides(overrides, chunk, threads, num_envs, num_steps), f"hydra.run.dir={run_dir}",
    ]  # fmt: skip
    start = time.time()
    log_path = run_dir.parent / f"{run_dir.name}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - start
    if proc.returncode != 0:  # a kill by the kernel is this benchmark's answer too: say so, keep the row
        outcome = f"exit {proc.returncode}" + (" (killed: out of memory?)" if proc.returncode == -9 else "")
        tail = log_path.read_text(errors="replace").splitlines()[-15:]  # the log goes with its temporary directory
        print(f"chunk {chunk}: the run ended with {outcome}; the end of its output:", *tail, sep="\n  ", flush=True)
        return {"peak_rss_gib": usage.ru_maxrss / 2**20, "outcome": outcome, "wall_seconds": wall}
    metrics = pd.read_csv(RunDir(run_dir).metrics).iloc[-1]
    return {
        "peak_rss_gib": usage.ru_maxrss / 2**20,  # Linux reports KiB
        "outcome": "finished",
        "wall_seconds": wall,
        "rollout_seconds": float(metrics["charts/rollout_seconds"]),
        "update_seconds": float(metrics["charts/update_seconds"]),
    }


def run(args) -> pd.DataFrame:
    rows = []
    with tempfile.TemporaryDirectory(prefix="update-memory-") as tmp:
        for chunk in args.chunks:
            row = case(args.overrides, chunk, args.threads, args.num_envs, args.num_steps, Path(tmp) / f"c{chunk}")
            rows.append({
                "overrides": " ".join(args.overrides), "threads": args.threads,
                "decisions": args.num_envs * args.num_steps, "chunk": chunk, **row,
                "cpu": f"{cpu_model()}; {cpu_flags()}",
            })  # fmt: skip
            print(f"chunk {chunk:3d}: peak {row['peak_rss_gib']:.2f} GiB, {row['outcome']}", flush=True)
    return pd.DataFrame(rows).reindex(columns=COLUMNS)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", default="4,8", help="ppo.policy_chunk_size values, comma-separated")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--num-steps", type=int, default=8, help="steps per environment: the update's decisions")
    parser.add_argument("--out", type=Path, default=Path("results/update_memory"))
    parser.add_argument("overrides", nargs="*", help="the run's overrides (after --), e.g. env=textworld model=smollm2")
    args = parser.parse_args(argv)
    try:
        args.chunks = [int(c) for c in args.chunks.split(",")]
    except ValueError:
        parser.error(f"--chunks {args.chunks} is not valid; valid: integers >= 1, comma-separated")
    for name in ("threads", "num_envs", "num_steps"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} {getattr(args, name)} is not valid; valid: an integer >= 1")
    decisions = args.num_envs * args.num_steps
    bad = [c for c in args.chunks if not 1 <= c <= decisions]
    if bad:
        parser.error(f"--chunks {bad} is not valid; valid: 1 to the update's {decisions} decisions (--num-envs x "
                     "--num-steps)")  # fmt: skip
    try:  # every case is a run of src/run.py: refuse a setting it would refuse before any case runs
        for chunk in args.chunks:
            compose_run_config(case_overrides(args.overrides, chunk, args.threads, args.num_envs, args.num_steps))
    except ConfigError as err:
        parser.error(f"the run's overrides {args.overrides} are not valid: {err}")
    df = run(args)
    path = append_rows(df, args.out, "update_memory.csv")
    print(f"appended to {path}")
    return df


if __name__ == "__main__":
    main()
