"""Exactly one space between a prompt and the action scored after it, for every environment's prompts.

BabyAI-Text's prompts end with "Action 2: " while its history reads "Action 0: turn left": scoring the action
after a second space put the policy on text the model never reads (probabilities moved by up to 0.15).
"""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from helpers import make_env

import twosome.envs  # noqa: F401  (registers the ids)
from twosome.scoring import ActionScorer

ROOT = Path(__file__).resolve().parent.parent
ENV_IDS = sorted(k for k in gym.registry if k.startswith("twosome/"))


def _prompts(env_id: str, steps: int = 3):
    """(prompt, actions) at reset and after a few random valid actions (so history appears in the prompt)."""
    env = make_env(env_id)
    rng = np.random.default_rng(0)
    _, info = env.reset(seed=0)
    out = [(info["prompt"], list(info["actions"]))]
    for _ in range(steps):
        valid = np.flatnonzero(info["action_mask"])
        _, _, term, trunc, info = env.step(int(rng.choice(valid)))
        if term or trunc:
            break
        out.append((info["prompt"], list(info["actions"])))
    env.close()
    return out


def _tokenizer(name: str, request):
    from transformers import AutoTokenizer

    if name == "tiny-household":
        return AutoTokenizer.from_pretrained(ROOT / "models" / "tiny-household")
    return AutoTokenizer.from_pretrained(request.getfixturevalue("smollm2_dir"))


@pytest.mark.parametrize("tokenizer_name", ["tiny-household", "smollm2"])
def test_one_space_between_prompt_and_action_everywhere(tokenizer_name, request):
    scorer = ActionScorer(_tokenizer(tokenizer_name, request))
    tok = scorer.tokenizer
    seen_trailing_space = False
    for env_id in ENV_IDS:
        for prompt, actions in _prompts(env_id):
            seen_trailing_space |= prompt.endswith(" ")
            p_ids = scorer.prompt_ids(prompt)
            for action in actions:
                text = tok.decode(p_ids + scorer.action_ids(action), skip_special_tokens=True)
                assert text == prompt.rstrip(" ") + " " + action, (env_id, action)
                joint = tok(scorer.scored_text(prompt, action))["input_ids"]
                assert joint[: len(p_ids)] == p_ids and joint[len(p_ids) :] == scorer.action_ids(action), env_id
    assert seen_trailing_space  # the BabyAI-Text prompts, the case this guards
