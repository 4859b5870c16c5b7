"""GPU benchmarks for a researcher with a GPU: the measurements this suite could not take on CPUs. Each step writes
``<step>.csv``, ``<step>.log`` and ``<step>_environment.json`` (torch, CUDA, the device) under ``--out``; run
directories stay under ``--work``; ``--budget-s`` stops a step from starting more work after that long.

    python experiments/gpu_benchmark.py levers --out results/gpu   # 7B paper preset: chunk 4 / auto / top-8 LoRA
    python experiments/gpu_benchmark.py scoring --out results/gpu  # scoring, 7B shape, 8 and 42 actions, 4 / 16 envs
    python experiments/gpu_benchmark.py seeds --out results/gpu    # 10 SmolLM2 seeds in one group: env steps/s

``--smoke`` runs the same steps on the CPU with the tiny model and tiny budgets (tests/test_gpu_benchmark.py), so no GPU
time is spent finding a typo.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from twosome.run_dir import RunDir

ROOT = Path(__file__).resolve().parent.parent
PAPER = ["experiment=twosome_paper_tomato_salad"]
SMOKE = ["trainer=cpu", "trainer.num_threads=1", "rollout.num_envs=2", "rollout.num_steps=8",
         "ppo.policy_minibatch_size=8", "ppo.value_minibatch_size=8"]  # fmt: skip
LEVERS = {  # name: overrides on top of the paper preset (same mathematics unless the name says otherwise)
    "chunk4": ["ppo.policy_chunk_size=4"],  # the paper's, as in the first 7B GPU measurement (docs/BENCHMARKS.md)
    "auto": ["ppo.policy_chunk_size=auto"],  # the whole minibatch of 32, halved on out-of-memory
    "auto_top8_other_math": ["ppo.policy_chunk_size=auto", "agent.policy.lora_layers=8"],  # + trunk cache
}


COLUMNS = [f"charts/{c}_seconds" for c in ("rollout", "value", "policy", "update")]
COLUMNS += ["charts/SPS", "charts/gpu_peak_memory_gb", "charts/policy_chunk_size", "global_step"]


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def run(cmd: list[str], log: Path, timeout: float) -> int:
    """Run ``cmd``, its output appended to ``log`` (one log per step)."""
    say(" ".join(str(c) for c in cmd[1:]))
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1"}
    with open(log, "a") as f:
        f.write(f"\n$ {' '.join(str(c) for c in cmd[1:])}\n")
        f.flush()
        try:
            return subprocess.run(
                cmd, cwd=ROOT, env=env, stdout=f, stderr=subprocess.STDOUT, timeout=timeout
            ).returncode
        except subprocess.TimeoutExpired:
            say(f"  timed out after {timeout:.0f} s (log: {log.name})")
            return 124


def matmul_tflops(seconds: float = 2.0) -> float:
    """bf16 matmul rate of this device (8192^3, CUDA) in TFLOP/s: the denominator of every floor. NaN on a CPU."""
    import torch

    if not torch.cuda.is_available():
        return float("nan")
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn_like(a)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    n, start = 0, time.time()
    while time.time() - start < seconds:
        a @ b
        n += 1
    torch.cuda.synchronize()
    return 2 * 8192**3 * n / (time.time() - start) / 1e12


def levers(out: Path, work: Path, smoke: bool, budget_s: float) -> pd.DataFrame:
    """The paper preset on the 7B shape for three updates per lever (the first a warm-up)."""
    model = "model=tiny" if smoke else "model=llama7b_random"
    base = [sys.executable, "src/run.py", *PAPER, model, "eval.every_updates=0", "eval.episodes=2", "eval.num_envs=2",
            "eval.final_sampled_episodes=0",  # the updates are measured: no 100 sampled episodes at the end
            "checkpoint.every_updates=0", "logger.tensorboard=false"]  # fmt: skip
    base += [*SMOKE, "rollout.total_env_steps=48"] if smoke else ["rollout.total_env_steps=384"]
    rows, start = [], time.time()
    for name, overrides in LEVERS.items():
        if time.time() - start > budget_s:
            say(f"{name}: skipped, the step's budget is spent")
            continue
        run_dir = work / "levers" / name
        shutil.rmtree(run_dir, ignore_errors=True)
        if smoke:  # the tiny model has 4 blocks
            overrides = [o.replace("lora_layers=8", "lora_layers=2") for o in overrides]
        code = run([*base, *overrides, f"hydra.run.dir={run_dir}"], out / "levers.log", budget_s)
        metrics = RunDir(run_dir).metrics
        if not metrics.exists():
            rows.append({"lever": name, "exit": code})
            continue
        m = pd.read_csv(metrics).dropna(subset=["charts/rollout_seconds"])
        for i in range(len(m)):
            row = {"lever": name, "exit": code, "update": i + 1, "warm_up": i == 0}
            for c in COLUMNS:
                row[c.split("/")[-1]] = m[c].iloc[i] if c in m else float("nan")
            rows.append(row)
    df = pd.DataFrame(rows)
    df["matmul_tflops"] = matmul_tflops()
    try:
        flops = update_flops(work / "levers" / "chunk4")
    except (OSError, ValueError) as err:  # the chunk-4 run failed before writing its config: no floor, say why
        say(f"no floor: {err}")
        flops = float("nan")
    df["floor_update_seconds"] = flops / (df.matmul_tflops * 1e12)
    steps = df.groupby("lever").global_step.diff().fillna(df.global_step)  # env steps of each update
    df["floor_env_steps_per_second"] = steps / df.floor_update_seconds
    return df


def update_flops(run_dir: Path) -> float:
    """The arithmetic of one update, the floor's numerator: every decision's prompt and candidates run forward once
    in the rollout and forward and backward (about twice the forward: the frozen base's input gradients) in the
    policy phase, 2 FLOPs per body parameter per token; tokens from the task's first state and the run's tokenizer.
    Attention scores, the LM head and memoized states are left out, so the floor is a lower bound on time."""
    import gymnasium as gym
    from omegaconf import OmegaConf
    from transformers import AutoConfig, AutoTokenizer

    import twosome.envs  # noqa: F401

    cfg = OmegaConf.load(RunDir(run_dir).config)
    model_dir = Path(cfg.model.path)
    c = AutoConfig.from_pretrained(model_dir)  # the 7B random model's directory holds its config alone
    body = c.num_hidden_layers * (4 * c.hidden_size**2 + 3 * c.hidden_size * c.intermediate_size)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    _, info = gym.make(cfg.env.id).reset(seed=0)
    tokens = len(tokenizer(info["prompt"])["input_ids"]) + sum(
        len(tokenizer(" " + a, add_special_tokens=False)["input_ids"]) for a in info["actions"]
    )
    decisions = cfg.rollout.num_envs * cfg.rollout.num_steps
    return decisions * 2 * body * tokens * (1 + 2)


def scoring(out: Path, work: Path, smoke: bool, budget_s: float) -> pd.DataFrame:
    """The scoring benchmark at 8 and 42 actions, 4 and 16 environments per call, both shared kernels timed apart
    (whether the scorer's CPU-measured choice between them holds on a GPU); cases that do not fit are recorded as out
    of memory."""
    frames = []
    for envs in (4, 16):
        target = work / f"scoring_envs{envs}"
        cmd = [sys.executable, "-m", "twosome.bench.scoring", "--actions", "8,42", "--prompt-lengths", "150",
               "--kernels", "auto,one_pass,prefix_cache",
               "--envs", str(envs), "--out", str(target)]  # fmt: skip
        cmd += ["--repeats", "1"] if smoke else ["--model", "llama7b-random", "--device", "cuda", "--dtype", "bfloat16",
                                                  "--repeats", "3"]  # fmt: skip
        run(cmd, out / "scoring.log", budget_s / 2)
        for csv in target.glob("*.csv"):
            frames.append(pd.read_csv(csv).assign(envs=envs))
    return pd.concat(frames) if frames else pd.DataFrame()


def seeds(out: Path, work: Path, smoke: bool, budget_s: float) -> pd.DataFrame:
    """10 SmolLM2 TWOSOME seeds on Tomato Salad as one seed group on the GPU (hydra/launcher=seed_batch)."""
    cmd = [sys.executable, "-m", "twosome.bench.seed_batch", "--out", str(work / "seeds"), "--ways", "batched"]
    if smoke:
        cmd += ["--seeds", "2", "--models", "tiny", "--updates", "2", "--num-envs", "2", "--num-steps", "8"]
    else:
        cmd += ["--seeds", "10", "--models", "smollm2_bf16", "--updates", "6", "--extra", "trainer=gpu"]
    run(cmd, out / "seeds.log", budget_s)
    csv = work / "seeds" / "seed_batch.csv"
    return pd.read_csv(csv) if csv.exists() else pd.DataFrame()


STEPS = {"levers": levers, "scoring": scoring, "seeds": seeds}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", choices=sorted(STEPS))
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget-s", type=float, default=540, help="the step stops starting work after this")
    parser.add_argument("--work", type=Path, default=ROOT / "multirun" / "gpu_benchmark", help="run directories")
    parser.add_argument("--smoke", action="store_true", help="the same on a CPU, tiny model and budgets")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    environment = {"python": sys.version.split()[0], "smoke": args.smoke}
    try:
        import torch

        environment.update(torch=torch.__version__, cuda=torch.version.cuda,
                           gpu=torch.cuda.get_device_name(0) if torch.cuda.is_available() else None)  # fmt: skip
    except ImportError:
        pass
    (args.out / f"{args.step}_environment.json").write_text(json.dumps(environment, indent=1))
    df = STEPS[args.step](args.out, args.work, args.smoke, args.budget_s)
    df.to_csv(args.out / f"{args.step}.csv", index=False)
    say(f"{args.step}: {len(df)} rows in {args.out / (args.step + '.csv')}")
    if not df.empty:
        print(df.to_string(index=False, max_colwidth=40))


if __name__ == "__main__":
    main()
