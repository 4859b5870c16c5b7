"""How likely an untrained policy is to find a TextWorld game's winning commands.

PPO raises the probability of actions it samples; an action its policy almost never samples is almost never learned.
This tool walks TextWorld's own walkthrough of each game (the winning commands it stores with the game) through the
environment and records, at every step, the probability the untrained policy gives the walkthrough's command, its
rank among the state's admissible commands, and their number (a uniform policy gives each 1 / that number). It
reads the prior of the LLM before any training, and explains a plateau that no learning curve does.

    python -m twosome.evaluation.walkthrough_prior --games 20 --out studies/textworld/data/textworld_prior/tiny.csv
    python -m twosome.evaluation.walkthrough_prior model=smollm2 model.dtype=float32 --games 20 --out FILE.csv

Arguments without dashes are Hydra overrides of ``src/run.py``'s config (``env=textworld`` is set; any agent
whose policy is a distribution over the candidates: TWOSOME and its normalizations, GLAM, DRRN).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from twosome.fileio import atomic_write_text

FIXED = ("env=textworld",)
COLUMNS = ["model", "agent", "norm", "split", "game", "step", "command", "probability", "rank", "commands"]


def compose(overrides: list[str]):
    """``src/run.py``'s config with ``env=textworld`` and ``overrides``, validated; refused (before anything is
    written) if an override asks for another environment."""
    from twosome.config import compose_run_config

    return compose_run_config(overrides, FIXED, "this tool walks TextWorld games (env=textworld)")


def walk(cfg, games: int, progress=None) -> pd.DataFrame:
    """One row per walkthrough command of games 0 .. ``games`` - 1 of the configured split."""
    import gymnasium as gym

    from twosome.agents.observation import ObsBatch
    from twosome.config import env_kwargs, run_settings
    from twosome.envs.textworld.games import game_path, walkthrough
    from twosome.training.build import build_agent, use_num_threads

    torch.manual_seed(cfg.seed)  # an agent with fresh weights (DRRN) is the same agent for the same seed
    run = run_settings(cfg)
    agent = build_agent(run)
    use_num_threads(run.trainer)
    env = gym.make(run.env.id, **env_kwargs(cfg)).unwrapped
    meta = {"model": cfg.model.name if run.agent.uses_lm else "none", "agent": cfg.agent.name,
            "norm": cfg.norm.mode if run.agent.uses_lm else "-", "split": env.split}  # fmt: skip
    rows = []
    try:
        for game in range(games):
            _, info = env.reset(seed=game, options={"game": game})
            path = game_path(env.game_dir, env.settings, env.split, game)
            for step, command in enumerate(walkthrough(path)):
                actions, mask = info["actions"], info["action_mask"]
                batch = ObsBatch([info["prompt"]], [list(actions)], torch.as_tensor(mask).unsqueeze(0))
                with torch.no_grad():
                    probs = agent.distribution(batch).probs[0].float()
                index = actions.index(command)  # the walkthrough wins through the environment (tested)
                rows.append({**meta, "game": game, "step": step, "command": command,
                             "probability": float(probs[index]), "rank": int((probs > probs[index]).sum()) + 1,
                             "commands": int(sum(mask))})  # fmt: skip
                _, _, _, _, info = env.step(index)
            if progress is not None:
                progress(1)
    finally:
        env.close()
    return pd.DataFrame(rows, columns=COLUMNS)


def main(argv: list[str] | None = None) -> pd.DataFrame:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of src/run.py's config (model=..., norm=...)")
    parser.add_argument("--games", type=int, default=20, help="games 0 .. N-1 of the split (default 20)")
    parser.add_argument("--out", type=Path, required=True, help="the CSV written (one row per walkthrough step)")
    args = parser.parse_intermixed_args(argv)  # overrides and options in any order
    if args.games < 1:
        parser.error(f"--games {args.games} is not valid; valid: an integer >= 1")
    if args.out.suffix != ".csv":
        parser.error(f"--out {args.out} is not valid; valid: a path ending in .csv")
    cfg = compose(args.overrides)
    if args.games > cfg.env.kwargs.num_games:
        parser.error(f"--games {args.games} is not valid; valid: 1 to env.kwargs.num_games={cfg.env.kwargs.num_games}")
    with tqdm(total=args.games, unit="game", desc="walkthrough prior") as bar:
        steps = walk(cfg, args.games, progress=bar.update)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out, steps.to_csv(index=False))
    kinds = steps.assign(kind=steps.command.str.split().str[0]).groupby("kind", sort=False)
    print(kinds.probability.median().rename("median probability").to_string(), flush=True)
    return steps


if __name__ == "__main__":
    from twosome.config import run_tool

    run_tool(main)
