"""Print a TWOSOME policy's action probabilities along the optimal plan of an Overcooked task.

    python analysis/inspect_policy.py                                   # the default model, untrained
    python analysis/inspect_policy.py --run runs/<run>           # a trained adapter from a run directory

Shows, state by state, the prompt, every action's probability and the optimal action: a quick look at what the
model knows before RL and what RL changed.
"""

from __future__ import annotations

import argparse
import json

import gymnasium as gym
import torch

import twosome.envs  # noqa: F401
from twosome.agents.base import ObsBatch
from twosome.agents.twosome import TwosomeAgent
from twosome.envs.overcooked import optimal_return
from twosome.lm.loading import load_causal_lm


def policy_along_plan(agent: TwosomeAgent, env_id: str) -> list[dict]:
    _, plan, _ = optimal_return(env_id)
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    rows = []
    for action in plan:
        batch = ObsBatch(
            torch.as_tensor(obs)[None], [info["prompt"]], [info["actions"]], torch.as_tensor(info["action_mask"])[None]
        )
        with torch.no_grad():
            probs = agent.distribution(batch).probs[0].tolist()
        rows.append({"prompt": info["prompt"], "actions": info["actions"], "probs": probs, "optimal": action})
        obs, _, _, _, info = env.step(action)
    return rows


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-path", default="models/tiny-household")
    ap.add_argument("--build", default="household_llama")
    ap.add_argument("--run", default=None, help="run directory holding adapter/ and critic_head.pt")
    ap.add_argument("--env", default="twosome/Overcooked-TomatoSalad-v0")
    ap.add_argument("--norm", default="word", choices=["none", "token", "word"])
    ap.add_argument("--json", default=None, help="also write the rows as JSON here")
    args = ap.parse_args(argv)
    lm, tokenizer = load_causal_lm(args.model_path, args.build)
    agent = TwosomeAgent(lm, tokenizer, norm=args.norm)
    if args.run:
        agent.load(args.run)
    rows = policy_along_plan(agent, args.env)
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
