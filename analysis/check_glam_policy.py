"""Check a trained GLAM/TWOSOME run's policy against plain transformers + peft, on real environment states.

    python analysis/check_glam_policy.py multirun/glam_goto/smollm2_s0 --states 8

The suite's policy comes from its scorer (shared-prefix kernels, packed candidates, memo). Here each action's
log-likelihood is recomputed the textbook way: the base model loaded with ``AutoModelForCausalLM``, the run's saved
adapter applied with ``PeftModel.from_pretrained``, and one forward per (prompt, action) over the text
``prompt + " " + action``, summing the log-probabilities of the tokens after the prompt's. The softmax of those sums
(normalized as the run's ``norm``: GLAM's ``none``) must equal the agent's distribution. Prints the largest
difference and writes it as JSON with ``--json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import torch

import twosome.envs  # noqa: F401  (registers the environments)
from twosome.agents.observation import ObsBatch
from twosome.envs.contract import read_decision
from twosome.evaluation.generalization import load_run, run_config
from twosome.run_dir import RunDir


def states(env_id: str, count: int, seed: int) -> list[tuple[str, list[str]]]:
    """(prompt, actions) of ``count`` states along a uniformly random walk: prompts with 1 to 3 observations."""
    env, rng, out = gym.make(env_id), np.random.default_rng(seed), []
    _, info = env.reset(seed=seed)
    while len(out) < count:
        decision = read_decision(info)
        out.append((decision.prompt, list(decision.actions)))
        _, _, terminated, truncated, info = env.step(int(rng.integers(len(decision.actions))))
        if terminated or truncated:
            _, info = env.reset()
    return out


def plain_logprob(model, tokenizer, prompt: str, action: str) -> tuple[float, int]:
    """Summed log-probability of ``action``'s tokens after ``prompt`` (one space between), and their count."""
    prompt = prompt.rstrip(" ")
    prompt_ids = tokenizer(prompt)["input_ids"]
    full_ids = tokenizer(prompt + " " + action)["input_ids"]
    if full_ids[: len(prompt_ids)] != prompt_ids:
        raise ValueError(f"the prompt's tokens change when {action!r} follows it; this check assumes they do not")
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([full_ids])).logits[0].float()
    logprobs = logits.log_softmax(-1)
    targets = full_ids[len(prompt_ids) :]
    return sum(logprobs[len(prompt_ids) - 1 + i, t].item() for i, t in enumerate(targets)), len(targets)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a run directory of a causal-LM agent (config.yaml, adapter/)")
    parser.add_argument("--states", type=int, default=8)
    parser.add_argument("--seed", type=int, default=123)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    try:
        run_config(args.run)
    except FileNotFoundError as err:
        parser.error(str(err))
    if args.states < 1:
        parser.error(f"--states {args.states} is not valid; valid: an integer >= 1")

    from peft import PeftModel
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg, agent = load_run(args.run)
    norm = cfg.agent.policy.norm
    if norm not in ("none", "token"):
        sys.exit(f"norm={norm!r}: this check covers the summed (none) and per-token (token) scores only")
    model_dir = cfg.model.path  # built by load_run if it was absent
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    plain = PeftModel.from_pretrained(base, str(RunDir(args.run).adapter)).eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)

    worst = 0.0
    for prompt, actions in states(cfg.env.id, args.states, args.seed):
        with torch.no_grad():
            ours = agent.distribution(ObsBatch([prompt], [actions], torch.ones(1, len(actions), dtype=torch.bool)))
        scores = [plain_logprob(plain, tokenizer, prompt, a) for a in actions]
        sums = torch.tensor([s / (n if norm == "token" else 1) for s, n in scores])
        worst = max(worst, (ours.probs[0].double() - sums.double().softmax(0)).abs().max().item())
    result = {"run": str(args.run), "states": args.states, "max_abs_probability_difference": worst}
    print(json.dumps(result))
    if args.json:
        args.json.write_text(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
