"""What a longer candidate list costs: scoring and update time per decision on real TextWorld game states.

    python -m twosome.bench.candidates --model tiny --out docs/benchmarks
    python -m twosome.bench.candidates --model smollm2 --dtype float32 --threads 1 --out docs/benchmarks

The scoring benchmark (bench/scoring.py) grows the action list of synthetic prompts; here the prompts and the lists
are a generated game's own: states reached by playing random admissible commands (seeded) in tw-cooking games of
growing difficulty, whose admissible commands number from a handful (one room, one ingredient) to dozens (several
rooms, ingredients and tools). States are grouped by the length of their list, and for each group ``--envs``
states are scored at once, as a rollout (no gradient) and as an update step (forward and backward through LoRA),
naive (prompt repeated per candidate) and shared-prefix (the suite's default). Appends to ``candidate_scaling.csv``:
per group and mode, the mean list length and prompt tokens, milliseconds per decision and per candidate, CPU flags
and threads beside.
"""

from __future__ import annotations

import argparse
import random
import statistics
from pathlib import Path

import pandas as pd
import torch
from peft import LoraConfig, get_peft_model

from twosome.bench import append_rows
from twosome.bench.scoring import phase_calls, time_call
from twosome.lm.dtype import cpu_flags, cpu_model
from twosome.scoring import ActionScorer

# tw-cooking settings from the smallest game to crowded kitchens: the admissible commands grow with rooms, ingredients
# and the tools the skills bring (knife, stove, containers to open)
DIFFICULTIES = (
    {"recipe": 1, "take": 1, "go": 1},
    {"recipe": 2, "take": 2, "go": 6, "open": True, "cut": True},
    {"recipe": 3, "take": 3, "go": 9, "open": True, "cook": True, "cut": True, "drop": True},
)
GROUPS = ((2, 8), (9, 16), (17, 32), (33, 64))  # list lengths, inclusive
MODELS = ("tiny", "smollm2")


def game_states(games: int, steps: int, seed: int, game_dir: Path | None) -> list[tuple[str, list[str]]]:
    """(prompt, admissible commands) of the states random play visits in ``games`` games of each difficulty."""
    from twosome.envs.textworld.env import TextWorldCookingEnv

    rng, states = random.Random(seed), []
    for settings in DIFFICULTIES:
        env = TextWorldCookingEnv(num_games=games, max_steps=steps, max_actions=64, game_dir=game_dir, **settings)
        for game in range(games):
            prompt, info = env.reset(seed=seed, options={"game": game})
            for _ in range(steps):
                commands = list(env.commands)
                states.append((prompt, commands))
                prompt, _, terminated, truncated, info = env.step(rng.randrange(len(commands)))
                if terminated or truncated:
                    break
        env.close()
    return states


def load(model: str, dtype: str):
    """The model as a run of ``model=<model>`` loads it (built or converted on first use), LoRA on q and v."""
    from hydra import compose, initialize_config_dir

    from twosome.lm.loading import load_lm

    conf = Path(__file__).resolve().parents[3] / "conf"
    with initialize_config_dir(config_dir=str(conf), version_base="1.3"):
        m = compose("train", overrides=[f"model={model}"]).model
    options = {"source_build": m.get("source_build") or "household_llama", "wheel": m.get("wheel")}
    lm, tokenizer = load_lm(m.path, m.build, dtype, m.get("source"), device="cpu", **options)
    lm = get_peft_model(lm, LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"]))
    for p in lm.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    return lm, tokenizer


def run(args) -> pd.DataFrame:
    torch.set_num_threads(args.threads)
    states = game_states(args.games, args.steps, args.seed, args.game_dir)
    lm, tokenizer = load(args.model, args.dtype)
    rng, rows = random.Random(args.seed), []
    for low, high in GROUPS:
        group = [s for s in states if low <= len(s[1]) <= high]
        if len(group) < args.envs:
            print(f"{low}-{high} commands: {len(group)} states, fewer than --envs {args.envs}: skipped", flush=True)
            continue
        chosen = rng.sample(group, args.envs)
        prompts, actions = [p for p, _ in chosen], [a for _, a in chosen]
        for mode in args.modes:
            scorer = ActionScorer(tokenizer, mode=mode)
            batch = scorer.encode(prompts, actions)

            candidates = statistics.mean(len(a) for a in actions)
            for phase, fn in phase_calls(scorer, lm, batch).items():
                seconds = time_call(fn, "cpu", args.repeats)
                rows.append({
                    "model": args.model, "dtype": args.dtype, "threads": args.threads, "mode": mode, "phase": phase,
                    "commands_low": low, "commands_high": high, "envs": args.envs, "commands": candidates,
                    "prompt_tokens": statistics.mean(len(p) for p in batch.prompt_ids),
                    "action_tokens": float(batch.n_tokens.float().mean()),
                    "ms_per_decision": 1000 * seconds / args.envs,
                    "ms_per_candidate": 1000 * seconds / args.envs / candidates,
                    "states_in_group": len(group), "cpu": f"{cpu_model()}; {cpu_flags()}",
                })  # fmt: skip
                print(f"{phase:7s} {mode:6s} {low:2d}-{high:2d} commands (mean {candidates:4.1f}): "
                      f"{rows[-1]['ms_per_decision']:8.1f} ms/decision", flush=True)  # fmt: skip
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=MODELS, default="tiny")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--envs", type=int, default=4, help="states scored per call (a rollout's environments)")
    parser.add_argument("--games", type=int, default=3, help="games per difficulty")
    parser.add_argument("--steps", type=int, default=15, help="random commands per game")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per case (the median is kept)")
    parser.add_argument("--modes", default="naive,shared", help="scoring modes, comma-separated: naive, shared")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--game-dir", type=Path, default=None, help="where games are compiled (artifacts/textworld)")
    parser.add_argument("--out", type=Path, default=Path("results/candidates"))
    args = parser.parse_args(argv)
    for name in ("threads", "envs", "games", "steps", "repeats"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} {getattr(args, name)} is not valid; valid: an integer >= 1")
    args.modes = args.modes.split(",")
    if not args.modes or not set(args.modes) <= {"naive", "shared"}:
        parser.error(f"--modes {','.join(args.modes)} is not valid; valid: naive, shared or naive,shared")
    df = run(args)
    path = append_rows(df, args.out, "candidate_scaling.csv")
    print(f"appended to {path}")
    return df


if __name__ == "__main__":
    main()
