"""The LM writing its commands in a text game, judged by the game's own parser.

Elsewhere a written action counts as valid when its text names one of the environment's actions (``agent=generate``,
``match_action``): a string match, stricter than any game. A TextWorld game has a real parser, which reads "pick up
the cookbook" although only "take cookbook from table" is admissible. This tool plays ``agent=generate`` on
``env=textworld`` as a run of it would (a text naming no admissible command is a no-op decision, ``InvalidAsNoOp``)
and asks the game, at every decision, how it answers the written command from that state (``answer``: on a replayed
copy, the episode unchanged). It writes every decision (``decisions.csv``: the text, the command sent, the game's
answer, whether the text named an admissible command, and whether the parser refused it) and ``summary.json``: per
episode the share of decisions refused, and across episodes (the independent units) its mean with a 95% bootstrap
interval, beside the string-match invalid rate on the same decisions.

    python -m twosome.evaluation.parser_judge model=smollm2 model.dtype=float32 --episodes 100 --out DIR
    python -m twosome.evaluation.parser_judge agent.policy.decoding=sample seed=1 --episodes 100 --out DIR

Arguments without dashes are Hydra overrides of ``src/run.py``'s config (``env=textworld agent=generate`` are set).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm import tqdm

from twosome.fileio import atomic_write_text

FIXED = ("env=textworld", "agent=generate")


def compose(overrides: list[str]):
    """``src/run.py``'s config with ``FIXED`` and ``overrides``; refused (before anything is written) if an override
    asks for another environment or agent."""
    from twosome.config import compose_run_config

    return compose_run_config(overrides, FIXED, "this tool judges agent=generate on env=textworld (the game's parser)")


def bootstrap_mean(values: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """The mean and its 95% percentile-bootstrap interval (episodes are the units)."""
    from scipy.stats import bootstrap

    if len(values) < 2 or np.all(values == values[0]):
        return float(values.mean()), float(values.mean()), float(values.mean())
    ci = bootstrap((values,), np.mean, n_resamples=10_000, method="percentile", random_state=seed).confidence_interval
    return float(values.mean()), float(ci.low), float(ci.high)


def play(cfg, episodes: int, progress=None) -> pd.DataFrame:
    """Every decision of ``episodes`` episodes (reset seeds ``cfg.seed + k``), judged by the game's parser."""
    import gymnasium as gym

    from twosome.agents.generate import match_action
    from twosome.config import env_kwargs, run_settings
    from twosome.envs.invalid import InvalidAsNoOp
    from twosome.envs.textworld.parser import command_of, refused
    from twosome.training.build import build_agent, use_num_threads

    torch.manual_seed(cfg.seed)
    run = run_settings(cfg)
    agent = build_agent(run)
    use_num_threads(run.trainer)
    env = InvalidAsNoOp(
        gym.make(cfg.env.id, **env_kwargs(cfg)),
        reward=cfg.agent.invalid_action_reward,
        max_in_a_row=cfg.agent.max_invalid_in_a_row,
    )
    game = env.unwrapped
    rows = []
    try:
        for episode in range(episodes):
            prompt, info = env.reset(seed=int(cfg.seed) + episode)
            done, step = False, 0
            while not done:
                actions, mask = info["actions"], info["action_mask"]
                with torch.no_grad():
                    text = agent.generate([prompt])[0]
                index = match_action(text, actions, mask)
                command = command_of(text)
                answer = game.answer(command) if command else ""
                rows.append(
                    {
                        "episode": episode, "game": game.game_index, "step": step, "text": text, "command": command,
                        "admissible": index is not None, "parser_refused": not command or refused(answer),
                        "answer": answer[:200],
                    }
                )  # fmt: skip
                prompt, _, terminated, truncated, info = env.step(index if index is not None else env.n)
                done, step = terminated or truncated, step + 1
            if progress is not None:
                progress(1)
    finally:
        env.close()
    return pd.DataFrame(rows)


def meta_of(cfg) -> dict:
    """What a summary says of the writer and the games it played."""
    split = cfg.env["kwargs"].get("split", "train") if "kwargs" in cfg.env else "train"
    return {"model": cfg.model.name, "decoding": cfg.agent.policy.decoding, "seed": int(cfg.seed), "split": split}


def summarize(decisions: pd.DataFrame, meta: dict) -> dict:
    per_episode = decisions.groupby("episode").agg(
        refused=("parser_refused", "mean"), invalid=("admissible", lambda a: 1 - a.mean())
    )
    refused, refused_low, refused_high = bootstrap_mean(per_episode.refused.to_numpy())
    invalid, invalid_low, invalid_high = bootstrap_mean(per_episode.invalid.to_numpy())
    understood_elsewhere = decisions[~decisions.admissible & ~decisions.parser_refused]
    return {
        **meta,
        "episodes": int(per_episode.shape[0]),
        "decisions": int(len(decisions)),
        "parser_refusal_rate": refused,
        "parser_refusal_ci": [refused_low, refused_high],
        "string_invalid_rate": invalid,
        "string_invalid_ci": [invalid_low, invalid_high],
        # texts the game's parser read although no admissible command has their words: what a string match misses
        "read_by_parser_not_admissible": int(len(understood_elsewhere)),
        "top_refused": decisions[decisions.parser_refused].command.value_counts().head(10).to_dict(),
        "top_read_not_admissible": understood_elsewhere.command.value_counts().head(10).to_dict(),
    }


def rejudge(out: Path) -> dict:
    """Judge the recorded answers of ``out`` again (after ``parser.PARSER_ERRORS`` changed) and rewrite its summary:
    the game's answers are raw data, the refusal is their reading."""
    from twosome.envs.textworld.parser import refused

    decisions = pd.read_csv(out / "decisions.csv", keep_default_na=False)
    decisions["parser_refused"] = [not c or refused(a) for c, a in zip(decisions.command, decisions.answer)]
    old = json.loads((out / "summary.json").read_text())
    meta = {key: old[key] for key in ("model", "decoding", "seed", "split")}
    summary = summarize(decisions, meta)
    atomic_write_text(out / "decisions.csv", decisions.to_csv(index=False))
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=2) + "\n")
    return summary


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of src/run.py's config (model=..., seed=...)")
    parser.add_argument("--episodes", type=int, default=100, help="episodes played (default 100)")
    parser.add_argument("--out", type=Path, required=True, help="directory for decisions.csv and summary.json")
    parser.add_argument("--rejudge", action="store_true", help="read --out's recorded answers again; play nothing")
    args = parser.parse_args(argv)
    if args.rejudge:
        if not (args.out / "decisions.csv").is_file():
            parser.error(f"--rejudge: {args.out} holds no decisions.csv of an earlier judge")
        return rejudge(args.out)
    if args.episodes < 1:
        parser.error(f"--episodes {args.episodes} is not valid; valid: an integer >= 1")
    cfg = compose(args.overrides)
    with tqdm(total=args.episodes, unit="episode", desc="parser judge") as bar:
        decisions = play(cfg, args.episodes, progress=bar.update)
    summary = summarize(decisions, meta_of(cfg))
    args.out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(args.out / "decisions.csv", decisions.to_csv(index=False))
    atomic_write_text(args.out / "summary.json", json.dumps(summary, indent=2) + "\n")
    lo, hi = summary["parser_refusal_ci"]
    print(
        f"{summary['model']}, {summary['decoding']}: the parser refused {summary['parser_refusal_rate']:.2f} "
        f"[{lo:.2f}, {hi:.2f}] of the written commands per episode ({summary['episodes']} episodes, "
        f"{summary['decisions']} decisions); string-match invalid {summary['string_invalid_rate']:.2f}"
    )
    return summary


if __name__ == "__main__":
    from twosome.config import run_tool

    run_tool(main)
