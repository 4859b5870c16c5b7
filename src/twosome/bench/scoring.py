"""Naive vs shared-prefix scoring, side by side: time per decision in rollouts and in updates.

    python -m twosome.bench.scoring --out results/bench_scoring          # default tiny model, CPU
    python -m twosome.bench.scoring --model llama7b-random --device cuda --dtype bfloat16
    python -m twosome.bench.scoring --fsdp 2 --actions 8,42 --prompt-lengths 150     # LM sharded over 2 CPU ranks

Sweeps the number of actions (prompt ~150 tokens) and the prompt length (8 actions); writes a CSV, a Markdown
table and a plot. A "decision" is one environment's choice; a call scores ``--envs`` prompts at once.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import statistics
import time
from datetime import date
from pathlib import Path

import pandas as pd
import torch
from peft import LoraConfig, get_peft_model

from twosome.lm import corpus
from twosome.parallel.collectives import rank
from twosome.scoring import ActionScorer
from twosome.scoring.scorer import SHARED_KERNELS

ACTION_COUNTS = (2, 8, 16, 42, 64)
PROMPT_LENGTHS = (50, 150, 400)


def synthetic_prompt(tokenizer, n_tokens: int, rng: random.Random) -> str:
    """Household sentences until the prompt has about ``n_tokens`` tokens."""
    words: list[str] = []
    for sentence in corpus.sentences(10_000, seed=rng.randrange(1 << 30)):
        words.extend(sentence.split())
        text = " ".join(words)
        if len(tokenizer(text)["input_ids"]) >= n_tokens:
            return text
    return " ".join(words)


def synthetic_actions(tokenizer, n: int, n_tokens: int, rng: random.Random) -> list[str]:
    """``n`` distinct action texts of about ``n_tokens`` tokens each."""
    vocab = corpus.VERBS + corpus.FOODS + corpus.TOOLS + corpus.ROOMS
    actions: list[str] = []
    while len(actions) < n:
        words = [rng.choice(corpus.VERBS), "the"]
        while len(tokenizer(" " + " ".join(words), add_special_tokens=False)["input_ids"]) < n_tokens:
            words.append(rng.choice(vocab))
        text = " ".join(words)
        if text not in actions:
            actions.append(text)
    return actions


def load_model(name: str, path: str | None, dtype: torch.dtype, device: str):
    from twosome.lm.loading import load_lm

    if name == "llama7b-random":  # LLaMA-7B architecture with random weights: no download needed
        from transformers import LlamaConfig, LlamaForCausalLM

        from twosome.lm.tiny import TinyLlamaSpec, train_tokenizer

        tokenizer = train_tokenizer(TinyLlamaSpec(tokenizer_sentences=5000))
        config = LlamaConfig(
            vocab_size=32000,
            hidden_size=4096,
            intermediate_size=11008,
            num_hidden_layers=32,
            num_attention_heads=32,
            num_key_value_heads=32,
            max_position_embeddings=2048,
        )
        with torch.device(device):
            model = LlamaForCausalLM(config).to(dtype)
        model.requires_grad_(False).eval()
        return model, tokenizer
    model, tokenizer = load_lm(path, "household_llama" if name == "tiny" else None, dtype=str(dtype).split(".")[-1])
    return model.to(device), tokenizer


def time_call(fn, device: str, repeats: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def phase_calls(scorer, model, batch) -> dict:
    """One decision batch scored as a rollout scores it (no gradient) and as an update step does (forward and
    backward of the word-normalized scores)."""

    def rollout():
        with torch.no_grad():
            scorer.score(model, batch)

    def update():
        model.zero_grad(set_to_none=True)
        scorer.score(model, batch).normalized("word").sum().backward()

    return {"rollout": rollout, "update": update}


def run(args) -> pd.DataFrame:
    dtype = getattr(torch, args.dtype)
    model, tokenizer = load_model(args.model, args.model_path, dtype, args.device)
    model = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    if args.fsdp > 1:  # every block its own FSDP unit, as training shards it
        from torch.distributed.device_mesh import init_device_mesh

        from twosome.parallel.fsdp import shard, transformer_units

        shard(transformer_units(model), init_device_mesh("cpu", (args.fsdp,)))
    rng = random.Random(0)
    body_params = sum(p.numel() for n, p in model.named_parameters() if "embed" not in n and "lm_head" not in n)
    counts = args.actions or ACTION_COUNTS
    lengths = args.prompt_lengths or PROMPT_LENGTHS
    cases = [(150, a) for a in counts] + [(p, 8) for p in lengths if p != 150]
    rows = []
    for prompt_tokens, n_actions in cases:
        prompts = [synthetic_prompt(tokenizer, prompt_tokens, rng) for _ in range(args.envs)]
        actions = [synthetic_actions(tokenizer, n_actions, args.action_tokens, rng) for _ in range(args.envs)]
        variants = [("naive", "auto")] + [("shared", k) for k in args.kernels]
        for scoring_mode, kernel in variants:
            scorer = ActionScorer(tokenizer, mode=scoring_mode, shared_kernel=kernel)
            batch = scorer.encode(prompts, actions)
            mode = scoring_mode if kernel == "auto" else f"{scoring_mode}/{kernel}"

            calls = phase_calls(scorer, model, batch)

            # Tokens the mode runs through the model: naive repeats the prompt per candidate, shared does not.
            cand = int(batch.n_tokens.sum())
            if mode == "naive":
                tokens = sum(len(batch.prompt_ids[o]) for o in batch.owner.tolist()) + cand
            else:
                tokens = sum(len(p) for p in batch.prompt_ids) + cand
            for phase, fn in calls.items():
                try:
                    seconds = time_call(fn, args.device, args.repeats)
                except torch.OutOfMemoryError:  # a case too large for the device: record it and go on
                    model.zero_grad(set_to_none=True)
                    if args.device.startswith("cuda"):
                        torch.cuda.empty_cache()
                    seconds = float("nan")
                # 2 FLOPs per body parameter per token forward; the update adds the input-gradient backward (the
                # base is frozen: no weight gradients), about as much again. Attention scores and the LM head are
                # left out, so this is a lower bound on the work done.
                flops = 2 * body_params * tokens * (2 if phase == "update" else 1)
                rows.append(
                    {
                        "mode": mode,
                        "phase": phase,
                        "prompt_tokens": statistics.mean(len(p) for p in batch.prompt_ids),
                        "target_prompt_tokens": prompt_tokens,
                        "actions": n_actions,
                        "action_tokens": float(batch.n_tokens.float().mean()),
                        "envs": args.envs,
                        "seconds_per_call": seconds,
                        "seconds_per_decision": seconds / args.envs,
                        "decisions_per_second": args.envs / seconds,
                        "tokens_processed": tokens,
                        "tflops": flops / seconds / 1e12,
                    }
                )
                timing = (
                    "out of memory"
                    if math.isnan(seconds)
                    else f"{1000 * seconds / args.envs:8.2f} ms/decision, {args.envs / seconds:8.1f} decisions/s, "
                    f"{flops / seconds / 1e12:7.2f} TFLOP/s"
                )
                if rank() == 0:
                    print(
                        f"{phase:7s} {mode:6s} prompt~{prompt_tokens:3d} actions={n_actions:2d}: {timing}", flush=True
                    )
    return pd.DataFrame(rows)


def speedups(df: pd.DataFrame) -> pd.DataFrame:
    wide = df.pivot_table(
        index=["phase", "target_prompt_tokens", "actions"], columns="mode", values="seconds_per_decision"
    ).reset_index()
    wide["speedup"] = wide["naive"] / wide["shared"]
    return wide


def plot(df: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import seaborn as sns

    sns.set_theme(style="whitegrid")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    by_actions = df[df.target_prompt_tokens == 150]
    by_prompt = df[df.actions == 8]
    for ax, data, x, title in (
        (axes[0], by_actions, "actions", "vs number of actions (prompt ~150 tokens)"),
        (axes[1], by_prompt, "target_prompt_tokens", "vs prompt length (8 actions)"),
    ):
        data = data.assign(ms=1000 * data.seconds_per_decision)
        sns.lineplot(
            data=data,
            x=x,
            y="ms",
            hue="mode",
            style="phase",
            marker="o",
            ax=ax,
            hue_order=["naive", "shared"],
            legend=ax is axes[1],
        )
        ax.set_yscale("log")
        ax.set_ylabel("ms per decision (log)")
        ax.set_title(title)
    sns.move_legend(axes[1], "upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"Scoring cost per decision ({df.envs.iloc[0]} prompts per call, ~6-token actions)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="tiny", choices=["tiny", "hf", "llama7b-random"])
    ap.add_argument("--model-path", default="models/tiny-household")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--dtype", default="float32", choices=["float32", "bfloat16", "float16"])
    ap.add_argument("--envs", type=int, default=4, help="prompts scored per call (environments batched)")
    ap.add_argument("--action-tokens", type=int, default=6)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument(
        "--actions",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help=f"action counts to sweep at ~150 prompt tokens (default {ACTION_COUNTS})",
    )
    ap.add_argument(
        "--prompt-lengths",
        type=lambda s: [int(x) for x in s.split(",")],
        default=None,
        help=f"prompt lengths to sweep at 8 actions (default {PROMPT_LENGTHS})",
    )
    ap.add_argument(
        "--kernels",
        type=lambda s: s.split(","),
        default=["auto"],
        help="shared kernels to time: auto (the scorer's choice, mode 'shared'), one_pass, prefix_cache "
        "(modes 'shared/<kernel>')",
    )
    ap.add_argument("--fsdp", type=int, default=1, help="ranks (gloo, CPU) to shard the LM over with FSDP")
    ap.add_argument("--out", default="results/bench_scoring")
    ap.add_argument("--replot", action="store_true", help="redraw the plot and tables from an existing CSV")
    args = ap.parse_args(argv)
    if not args.kernels or set(args.kernels) - set(SHARED_KERNELS):
        ap.error(f"--kernels {args.kernels} is not valid; valid: a comma-separated subset of {list(SHARED_KERNELS)}")
    if args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    csv = out / "scoring.csv"
    if args.replot and csv.exists():
        df = pd.read_csv(csv)
    elif args.fsdp > 1:
        from functools import partial

        from twosome.parallel.collectives import spawn_gloo

        df = spawn_gloo(partial(_run_rank, args=args), args.fsdp)[0]  # every rank times the same calls
    else:
        df = run(args)
    df.to_csv(out / "scoring.csv", index=False)
    wide = speedups(df)
    wide.to_csv(out / "speedup.csv", index=False)
    plot(df, out / "scoring.png")
    meta = {
        "date": date.today().isoformat(),
        "device": args.device,
        "model": args.model,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "fsdp_ranks": args.fsdp,
        "machine": platform.processor(),
        "gpu": torch.cuda.get_device_name() if args.device.startswith("cuda") else None,
        "cuda": torch.version.cuda,
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2))
    (out / "speedup.md").write_text(
        wide.to_markdown(index=False, floatfmt=".4g") if _has_tabulate() else wide.to_string(index=False)
    )
    print(wide.to_string(index=False))
    print(f"Results in {out}")


def _run_rank(rank_: int, world: int, args) -> pd.DataFrame:
    return run(args)


def _has_tabulate() -> bool:
    try:
        import tabulate  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
