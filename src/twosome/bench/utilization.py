"""How close to the machine's limit does training run? Model FLOP utilization per phase of an update, on the CPU.

    python -m twosome.bench.utilization --model smollm2_fp32 --env food_preparation --lora-layers 15 --threads 1
    python -m twosome.bench.utilization --model tiny --env tomato_salad --updates 3 --out results/utilization

Three measurements in one process, on the same threads: (1) the floating-point operations of each phase of a real
update (rollout scoring, value phase, policy phase), counted by torch's own counter (``torch.utils.flop_counter``)
over the real calls of a short training run; (2) the same run again, uncounted, for each phase's seconds (seeded:
the same prompts, though not bit for bit, since under the counter attention takes torch's reference path);
(3) the machine's matrix-product rate at the run's dtype and threads, over the shapes the model's layers multiply
(a minibatch's tokens by each projection). Per phase: GFLOP, seconds, GFLOP/s, and utilization, the phase's rate
over the best measured matrix-product rate. The first update is a warm-up and is left out. Appends to
``utilization.csv`` (one row per phase, CPU flags and threads beside).
"""

from __future__ import annotations

import argparse
import contextlib
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import torch
from torch.utils.flop_counter import FlopCounterMode

from twosome.bench import append_rows
from twosome.lm.dtype import cpu_flags, cpu_model

PHASES = ("rollout", "value", "policy")
ENVS = {
    "tomato_salad": ["env=overcooked", "env.task=tomato_salad", "agent=twosome"],
    "food_preparation": ["env=virtualhome", "env.task=food_preparation", "agent=twosome"],
    "babyai_goto": ["env=babyai_text", "env.task=goto", "agent=glam", "ppo.policy_chunk_size=8"],
}
MODELS = {
    "tiny": ["model=tiny"],
    "smollm2_fp32": ["model=smollm2", "model.dtype=float32"],
    "smollm2_bf16": ["model=smollm2", "model.dtype=bfloat16"],
}
GEMM_ROWS = 2048  # rows of the products timed: about the tokens of one minibatch of decisions


def count_flops(fn, *args, **kwargs) -> tuple[int, object]:
    """The floating-point operations ``fn`` performs (forward and any backward it runs), and its result."""
    with FlopCounterMode(display=False) as counter:
        result = fn(*args, **kwargs)
    return counter.get_total_flops(), result


class PhaseFlops:
    """Counts each phase's operations over a training run by wrapping the calls that make it up: the collector's
    ``collect`` (rollout), the algorithm's ``value_loss`` and ``value_step`` (value phase) and its ``update``
    (everything after the rollout; the policy phase is the update less the value phase). Per update, in order."""

    def __init__(self):
        self.per_update: list[dict[str, int]] = []
        self._current: dict[str, int] = defaultdict(int)

    def _wrap(self, owner, name: str, phase: str, close: bool = False):
        original = getattr(owner, name)
        meter = self

        def counted(*args, **kwargs):
            flops, result = count_flops(original, *args, **kwargs)
            meter._current[phase] += flops
            if close:
                meter._close()
            return result

        return original, counted

    def _close(self) -> None:
        current = dict(self._current)
        current["policy"] = current.pop("update", 0) - current.get("value", 0)
        self.per_update.append({p: current.get(p, 0) for p in PHASES})
        self._current = defaultdict(int)

    @contextlib.contextmanager
    def installed(self) -> Iterator[PhaseFlops]:
        from twosome.rl.ppo import PPO
        from twosome.training.rollout import RolloutCollector

        patches = [
            (RolloutCollector, "collect", "rollout", False),
            (PPO, "value_loss", "value", False),
            (PPO, "value_step", "value", False),
            (PPO, "update", "update", True),
        ]
        saved = []
        try:
            for owner, name, phase, close in patches:
                original, counted = self._wrap(owner, name, phase, close)
                saved.append((owner, name, original))
                setattr(owner, name, counted)
            yield self
        finally:
            for owner, name, original in saved:
                setattr(owner, name, original)


def gemm_rate(rows: int, k: int, n: int, dtype: torch.dtype, repeats: int = 5) -> float:
    """GFLOP/s of ``(rows x k) @ (k x n)`` at ``dtype`` on this process's threads: the best of ``repeats``."""
    a, b = torch.randn(rows, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    torch.mm(a, b)  # warm-up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - start)
    return 2 * rows * k * n / best / 1e9


def model_shapes(model_dir: Path) -> list[tuple[int, int]]:
    """(k, n) of the products a decoder layer and the LM head make: projections, MLP, vocabulary."""
    from transformers import AutoConfig

    c = AutoConfig.from_pretrained(model_dir)
    hidden, inter = c.hidden_size, c.intermediate_size
    kv = hidden * c.num_key_value_heads // c.num_attention_heads
    return [(hidden, hidden), (hidden, kv), (hidden, inter), (inter, hidden), (hidden, c.vocab_size)]


def phase_seconds(metrics_csv: Path) -> list[dict[str, float]]:
    rows = pd.read_csv(metrics_csv).dropna(subset=["charts/rollout_seconds"])
    return [{p: float(r[f"charts/{p}_seconds"]) for p in PHASES} for _, r in rows.iterrows()]


def training_config(model: str, env: str, lora_layers: str, updates: int, threads: int):
    """The short training run a benchmark of one update's phases measures: updates of 128 environment steps."""
    from hydra import compose, initialize_config_dir

    conf = Path(__file__).resolve().parents[3] / "conf"
    overrides = [*ENVS[env], *MODELS[model], "ppo=laptop", "rollout.num_envs=4", "rollout.num_steps=32",
                 f"rollout.total_env_steps={updates * 128}", "ppo.target_kl=null", "eval.every_updates=0",
                 "eval.episodes=1", "eval.num_envs=1", "eval.final_sampled_episodes=0", "checkpoint.every_updates=0",
                 "logger.tensorboard=false", f"trainer.num_threads={threads}",
                 f"agent.policy.lora_layers={'null' if lora_layers == 'all' else lora_layers}"]  # fmt: skip
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        return compose("train", overrides=overrides)


def run(model: str, env: str, lora_layers: str, updates: int, threads: int, out: Path) -> pd.DataFrame:
    from twosome.training.train import train

    cfg = training_config(model, env, lora_layers, updates, threads)
    flops = PhaseFlops()
    with flops.installed():
        train(cfg, run_dir=out / "counted", enable_progress_bar=False)
    summary = train(cfg, run_dir=out / "timed", enable_progress_bar=False)
    seconds = phase_seconds(out / "timed" / "metrics.csv")
    dtype = {"float32": torch.float32, "bfloat16": torch.bfloat16}[summary["model_dtype"]]
    torch.set_num_threads(threads)
    rates = {f"{k}x{n}": gemm_rate(GEMM_ROWS, k, n, dtype) for k, n in model_shapes(Path(cfg.model.path))}
    best = max(rates.values())
    measured = range(1, len(seconds)) if len(seconds) > 1 else range(len(seconds))
    rows = []
    for phase in PHASES:
        gflop = sum(flops.per_update[u][phase] for u in measured) / 1e9
        secs = sum(seconds[u][phase] for u in measured)
        rows.append({"model": model, "env": env, "lora_layers": lora_layers, "dtype": summary["model_dtype"],
                     "threads": threads, "phase": phase, "updates": len(measured), "gflop": gflop,
                     "seconds": secs, "gflop_per_s": gflop / secs if secs else float("nan"),
                     "gemm_gflop_per_s": best, "utilization": gflop / secs / best if secs else float("nan"),
                     "gemm_rates": "; ".join(f"{s} {r:.1f}" for s, r in rates.items()),
                     "cpu": f"{cpu_model()}; {cpu_flags()}"})  # fmt: skip
    return pd.DataFrame(rows)


def case_parser(description: str, updates: int, out: str, min_updates: int = 1) -> argparse.ArgumentParser:
    """The command line every per-phase benchmark shares: which model, environment, LoRA blocks, updates, threads."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--model", choices=list(MODELS), default="tiny")
    parser.add_argument("--env", choices=list(ENVS), default="tomato_salad")
    parser.add_argument("--lora-layers", default="all", help="all (every block) or N (the top N)")
    parser.add_argument("--updates", type=int, default=updates, help="updates per run (the first is a warm-up)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path(out))
    parser.set_defaults(min_updates=min_updates)
    return parser


def parse_case(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    """Parsed and checked: a bad value is refused with what is valid, before anything runs."""
    args = parser.parse_args(argv)
    if args.updates < args.min_updates:
        parser.error(f"--updates {args.updates} is not valid; valid: >= {args.min_updates} (the first is a warm-up)")
    if args.lora_layers != "all" and not (args.lora_layers.isdigit() and int(args.lora_layers) >= 1):
        parser.error(f"--lora-layers {args.lora_layers!r} is not valid; valid: all or an integer >= 1")
    if args.threads < 1:
        parser.error(f"--threads {args.threads} is not valid; valid: >= 1")
    return args


def main(argv: list[str] | None = None) -> pd.DataFrame:
    args = parse_case(case_parser(__doc__.split("\n\n")[0], 3, "results/utilization"), argv)
    case = f"{args.model}-{args.env}-{args.lora_layers}-t{args.threads}-"
    with tempfile.TemporaryDirectory(prefix=case) as runs:  # fresh runs every time: a finished one would be reread
        df = run(args.model, args.env, args.lora_layers, args.updates, args.threads, Path(runs))
    path = append_rows(df, args.out, "utilization.csv")
    cols = ["phase", "gflop", "seconds", "gflop_per_s", "gemm_gflop_per_s", "utilization"]
    print(df[cols].round(3).to_string(index=False))
    print(f"appended to {path}")
    return df


if __name__ == "__main__":
    main()
