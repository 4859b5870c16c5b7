"""Print a TWOSOME policy's action probabilities along the optimal plan of an Overcooked task.

    python analysis/inspect_policy.py                                   # the default model, untrained
    python analysis/inspect_policy.py --run runs/<run>                  # a trained run, rebuilt from its config.yaml

With ``--run`` the agent is the run's own (its model, normalization, LoRA and critic settings, from the run's
config.yaml) with its trained weights; without it, the untrained TWOSOME agent of the default config (the options
below choose its model and normalization).

Shows, state by state, the prompt, every action's probability and the optimal action: a quick look at what the
model knows before RL and what RL changed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import gymnasium as gym
import torch

import twosome.envs  # noqa: F401
from twosome.agents.twosome import TwosomeAgent
from twosome.envs.contract import read_decision
from twosome.envs.overcooked import optimal_return
from twosome.evaluation.generalization import load_run, run_config
from twosome.lm.loading import load_lm
from twosome.training.vector_env import single_obs_batch


def policy_along_plan(agent: TwosomeAgent, env_id: str) -> list[dict]:
    _, plan, _ = optimal_return(env_id)
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    rows = []
    for action in plan:
        decision = read_decision(info)
        with torch.no_grad():
            probs = agent.distribution(single_obs_batch(obs, info)).probs[0].tolist()
        rows.append({"prompt": decision.prompt, "actions": decision.actions, "probs": probs, "optimal": action})
        obs, _, _, _, info = env.step(action)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-path", default="models/tiny-household")
    ap.add_argument("--build", default="household_llama")
    ap.add_argument("--run", default=None, help="a TWOSOME run directory: its config, model and trained weights")
    ap.add_argument("--env", default=None, help="default: the run's environment, else Overcooked Tomato Salad")
    ap.add_argument("--norm", default="word", choices=["none", "token", "word"], help="without --run")
    ap.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    try:
        if args.run:
            run_config(Path(args.run))
    except FileNotFoundError as err:
        ap.error(f"--run: {err}")
    if args.run:
        cfg, agent = load_run(Path(args.run))
        env_id = args.env or cfg.env.id
    else:
        lm, tokenizer = load_lm(args.model_path, args.build)
        agent, env_id = TwosomeAgent(lm, tokenizer, norm=args.norm), args.env or "twosome/Overcooked-TomatoSalad-v0"
    rows = policy_along_plan(agent, env_id)
    for i, row in enumerate(rows):
        print(f"\n[{i}] {row['prompt']}")
        for j, (a, p) in enumerate(zip(row["actions"], row["probs"])):
            mark = "  <- optimal" if j == row["optimal"] else ""
            print(f"    {p:6.3f}  {a}{mark}")
    mean_p = sum(r["probs"][r["optimal"]] for r in rows) / len(rows)
    print(f"\nmean probability of the optimal action along the plan: {mean_p:.3f}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
