"""What TWOSOME's critic costs in memory, the part a critic-free algorithm (``algo=gigpo``) does without: the head's
weights, gradients and Adam state (float32), and the memo of frozen-LM prompt features it reads, full.

    python -m twosome.bench.critic_memory --out results/critic_memory                 # LLaMA-7B's shape (default)
    python -m twosome.bench.critic_memory --hidden 576 --out results/critic_smollm2   # SmolLM2-135M's

An estimate from shapes, on the CPU: the head is built on the meta device with the agent's own constructor
(``agents.base.mlp`` with conf/agent/twosome.yaml's sizes), so nothing is allocated; every number is counted, not
typed. Not counted: the critic's forward per distinct prompt (activations freed after it; compute, not memory).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
from omegaconf import OmegaConf

from twosome.agents.base import mlp
from twosome.lm.tiny import LLAMA7B

CONF = Path(__file__).resolve().parents[3] / "conf"
FLOAT32 = 4  # bytes


def critic_memory(hidden: int, critic_hidden: list[int], feature_cache_size: int) -> dict[str, float]:
    """Bytes of each part of the critic at LM width ``hidden``, as MiB."""
    with torch.device("meta"):
        head = mlp([hidden, *critic_hidden, 1], bias=False)
    params = sum(p.numel() for p in head.parameters())
    mib = 2**20
    return {
        "hidden_size": hidden,
        "critic_parameters": params,
        "weights_mib": params * FLOAT32 / mib,
        "gradients_mib": params * FLOAT32 / mib,
        "adam_state_mib": 2 * params * FLOAT32 / mib,  # exp_avg and exp_avg_sq
        "feature_memo_mib": feature_cache_size * hidden * FLOAT32 / mib,  # one float32 vector per prompt, when full
    }


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=LLAMA7B["hidden_size"], help="the LM's hidden size")
    parser.add_argument("--out", type=Path, required=True, help="directory for critic_memory.csv")
    args = parser.parse_args(argv)
    if args.hidden < 1:
        parser.error(f"--hidden must be >= 1, got {args.hidden}")
    import inspect

    from twosome.agents.twosome import TwosomeAgent

    agent = OmegaConf.load(CONF / "agent" / "twosome.yaml").policy
    default = inspect.signature(TwosomeAgent).parameters["feature_cache_size"].default
    row = critic_memory(args.hidden, list(agent.critic_hidden), int(agent.get("feature_cache_size", default)))
    row["total_mib"] = sum(v for k, v in row.items() if k.endswith("_mib"))
    table = pd.DataFrame([row])
    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "critic_memory.csv", index=False)
    print(table.to_string(index=False, float_format="%.1f"))
    return table


if __name__ == "__main__":
    main()
