"""Does torch.compile of the adapted blocks speed up a CPU update, and does it keep the numbers?

    python -m twosome.bench.compile_lever --model smollm2_fp32 --env food_preparation --lora-layers 15 --pairs 3

Short training runs of one seed, alternated: eager, then the adapted blocks' ``forward`` under
``torch.compile(dynamic=True)`` (Inductor's C++ code; the prompts' lengths vary, so shapes are dynamic), for
``--pairs`` pairs in one process (compiled code is discarded between runs). Per run: the seconds of each phase of
every update (the first carries the compilation), the run's wall time, and the trained weights' digest, so that
"without changing a single number" is checked, not assumed. Appends to ``compile_lever.csv``, CPU flags and
threads beside.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pandas as pd
import torch

from twosome.bench import append_rows
from twosome.bench.utilization import PHASES, case_parser, parse_case, phase_seconds, training_config
from twosome.lm.dtype import cpu_flags, cpu_model

VARIANTS = ("eager", "compile")


def compile_adapted_blocks(agent, lora_layers: str) -> None:
    """Compile the ``forward`` of the blocks LoRA adapts (the top ``lora_layers``, or all)."""
    from twosome.parallel.fsdp import transformer_blocks

    blocks = transformer_blocks(agent.actor)
    # Each block is its own frame to Dynamo, and prompts of new lengths and the rollout's and the update's calls
    # differ in their arguments: the default limit of 8 compilations per frame would leave most blocks eager.
    torch._dynamo.config.recompile_limit = 64 * len(blocks)
    for block in blocks if lora_layers == "all" else blocks[-int(lora_layers) :]:
        block.forward = torch.compile(block.forward, dynamic=True)


def one_run(variant: str, cfg, lora_layers: str, run_dir: Path) -> dict:
    import twosome.training.train as training

    build_agent = training.build_agent

    def build(*args, **kwargs):
        agent = build_agent(*args, **kwargs)
        if variant == "compile":
            compile_adapted_blocks(agent, lora_layers)
        return agent

    training.build_agent = build
    torch._dynamo.reset()  # every compiled run compiles afresh: its compilation is counted against it
    try:
        start = time.perf_counter()
        summary = training.train(cfg, run_dir=run_dir, enable_progress_bar=False)
        wall = time.perf_counter() - start
    finally:
        training.build_agent = build_agent
    seconds = phase_seconds(run_dir / "metrics.csv")
    row = {"variant": variant, "wall_s": wall, "weights_digest": summary["weights_digest"]}
    row["first_update_s"] = sum(seconds[0].values())
    row["later_updates_s"] = sum(sum(s.values()) for s in seconds[1:])
    row |= {f"later_{p}_s": sum(s[p] for s in seconds[1:]) for p in PHASES}
    return row


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = case_parser(__doc__.split("\n\n")[0], 4, "results/compile_lever", min_updates=2)
    parser.set_defaults(env="food_preparation")
    parser.add_argument("--pairs", type=int, default=3, help="eager/compiled pairs, alternated")
    args = parse_case(parser, argv)
    if args.pairs < 1:
        parser.error(f"--pairs {args.pairs} is not valid; valid: >= 1")
    cfg = training_config(args.model, args.env, args.lora_layers, args.updates, args.threads)
    rows = []
    with tempfile.TemporaryDirectory(prefix="compile-lever-") as runs:
        for pair in range(args.pairs):
            order = VARIANTS if pair % 2 == 0 else VARIANTS[::-1]
            for variant in order:
                row = one_run(variant, cfg, args.lora_layers, Path(runs) / f"{pair}-{variant}")
                rows.append({"pair": pair, **row})
                print(
                    f"pair {pair} {variant}: later updates {row['later_updates_s']:.1f} s, "
                    f"first {row['first_update_s']:.1f} s, digest {row['weights_digest'][:12]}",
                    flush=True,
                )
    df = pd.DataFrame(rows)
    case = {"model": args.model, "env": args.env, "lora_layers": args.lora_layers, "threads": args.threads}
    for i, (name, value) in enumerate(case.items()):
        df.insert(i, name, value)
    df["updates"], df["torch"] = args.updates, torch.__version__
    df["cpu"] = f"{cpu_model()}; {cpu_flags()}"
    path = append_rows(df, args.out, "compile_lever.csv")
    print(f"appended to {path}")
    return df


if __name__ == "__main__":
    main()
