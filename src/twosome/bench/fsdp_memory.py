"""How the agent's parameter memory divides over FSDP ranks: bytes each rank holds, by kind, for 1..N ranks.

    python -m twosome.bench.fsdp_memory --out results/bench_fsdp                      # random Llama, CPU + gloo
    python -m twosome.bench.fsdp_memory --layers 32 --hidden 4096 --ranks 1 2 4 8     # LLaMA-7B's shape (needs RAM)

The agent is TWOSOME's (bfloat16 base LM, float32 LoRA on q/v, float32 critic head), sharded exactly as in
training (``TwosomeAgent.shard``). What is counted is the storage of each rank's local shards: what memory holds
between forwards. A forward all-gathers one unit (one transformer block) at a time on top of that.
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

import pandas as pd
import torch

from twosome.parallel.collectives import spawn_gloo


def _build_agent(layers: int, hidden: int, vocab: int):
    from tokenizers import Tokenizer, models
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    from twosome.agents.twosome import TwosomeAgent

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=hidden,
        intermediate_size=hidden * 11 // 4,
        num_hidden_layers=layers,
        num_attention_heads=max(1, hidden // 128),
    )
    lm = LlamaForCausalLM(config).to(torch.bfloat16)
    tok = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"<pad>": 0, "a": 1}, "<pad>")))
    tok.pad_token = "<pad>"
    return TwosomeAgent(lm, tok, critic_hidden=(1024, 512))


def _kind(name: str) -> str:
    if name.startswith("critic_head."):
        return "critic_head"
    return "lora" if "lora_" in name else "base_lm"


def _local_bytes(agent) -> dict[str, int]:
    out = {"base_lm": 0, "lora": 0, "critic_head": 0}
    for name, p in agent.named_parameters():
        local = p.to_local() if hasattr(p, "to_local") else p
        out[_kind(name)] += local.numel() * local.element_size()
    return out


def _measure_rank(rank: int, world: int, args) -> dict:
    from torch.distributed.device_mesh import init_device_mesh

    agent = _build_agent(args.layers, args.hidden, args.vocab)
    from twosome.agents.capabilities import fsdp_units
    from twosome.parallel.fsdp import shard

    units = shard(fsdp_units(agent), init_device_mesh("cpu", (world,))) if world > 1 else 0
    return {"ranks": world, "rank": rank, "fsdp_units": units, **_local_bytes(agent)}


def measure(args) -> pd.DataFrame:
    rows = [row for world in args.ranks for row in spawn_gloo(partial(_measure_rank, args=args), world)]
    table = pd.DataFrame(rows)
    kinds = ["base_lm", "lora", "critic_head"]
    per_world = table.groupby("ranks")[kinds].max().reset_index()  # the largest shard of any rank
    per_world["total"] = per_world[kinds].sum(axis=1)
    per_world = per_world.rename(columns={k: f"{k}_MiB" for k in [*kinds, "total"]})
    for k in [*kinds, "total"]:
        per_world[f"{k}_MiB"] = per_world[f"{k}_MiB"] / 2**20
    single = per_world.loc[per_world["ranks"] == min(args.ranks), "total_MiB"].iloc[0]
    per_world["fraction_of_fewest_ranks"] = per_world["total_MiB"] / single
    per_world["fsdp_units"] = table.groupby("ranks")["fsdp_units"].max().values
    return per_world


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--out", default="results/bench_fsdp")
    args = parser.parse_args(argv)
    table = measure(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "fsdp_memory.csv", index=False)
    shape = f"Llama {args.layers} layers x {args.hidden} hidden, vocab {args.vocab}: bf16 base, fp32 LoRA q/v r=8"
    (out / "fsdp_memory.md").write_text(f"{shape}\n\n" + table.round(4).to_markdown(index=False) + "\n")
    print(shape)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
