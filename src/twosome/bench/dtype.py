"""float32 vs bfloat16 on this machine: raw matmul throughput and the LM's forward / forward+backward with LoRA.

    python -m twosome.bench.dtype --out results/bench_dtype                                   # the tiny default
    python -m twosome.bench.dtype --model-path artifacts/models/smollm2-135m-instruct --build smollm2

Whether bfloat16 pays depends on the CPU (AVX512-BF16 or AMX kernels); this measures it instead of assuming it.
Writes ``dtype.csv`` and prints the table with the CPU flags that matter.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import pandas as pd
import torch
from peft import LoraConfig, get_peft_model

from twosome.lm.dtype import cpu_flags

DTYPES = ("float32", "bfloat16")


def seconds(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(args) -> pd.DataFrame:
    from twosome.lm.loading import load_lm

    rows = []
    for name in DTYPES:
        dtype = getattr(torch, name)
        a, w = torch.randn(600, 576, dtype=dtype), torch.randn(1536, 576, dtype=dtype)
        s = seconds(lambda a=a, w=w: torch.nn.functional.linear(a, w), args.repeats * 4)
        rows.append(
            {"dtype": name, "what": "matmul 600x576 @ 576x1536", "seconds": s, "gflops": 2 * 600 * 576 * 1536 / s / 1e9}
        )
        model, _ = load_lm(args.model_path, args.build, name)
        ids = torch.randint(10, model.config.vocab_size, (args.batch, args.tokens))
        with torch.no_grad():
            s = seconds(lambda m=model, x=ids: m(input_ids=x, logits_to_keep=1), args.repeats)
        rows.append({"dtype": name, "what": "LM forward", "seconds": s})
        lora = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
        for p in lora.parameters():  # adapters in float32, as training keeps them
            if p.requires_grad:
                p.data = p.data.float()

        def step(m=lora, x=ids):
            m.zero_grad()
            m(input_ids=x, logits_to_keep=1).logits.float().sum().backward()

        rows.append({"dtype": name, "what": "LM + LoRA forward+backward", "seconds": seconds(step, args.repeats)})
    df = pd.DataFrame(rows)
    df["batch"], df["tokens"], df["threads"], df["cpu"] = args.batch, args.tokens, torch.get_num_threads(), cpu_flags()
    return df


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-path", default="models/tiny-household")
    parser.add_argument("--build", default="household_llama", help="recipe if the model directory is absent")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("results/bench_dtype"))
    args = parser.parse_args(argv)
    df = measure(args)
    args.out.mkdir(parents=True, exist_ok=True)
    df.to_csv(args.out / "dtype.csv", index=False)
    print(f"CPU: {cpu_flags()}, torch capability {torch.backends.cpu.get_cpu_capability()}")
    print(df.pivot_table(index="what", columns="dtype", values="seconds").round(4).to_string())
    return df


if __name__ == "__main__":
    main()
