"""POAD (token-level PPO with the BAD backup) as a second algorithm: it composes, refuses a policy it cannot
train, and learns the toy task, whose two actions share their first tokens ("take the ... apple")."""

from __future__ import annotations

import pytest
import torch
from helpers import compose_cfg, learning_config

from twosome.training.lifecycle import summary_line
from twosome.training.train import train


def test_algo_poad_selects_the_trie_policy_and_an_adapted_token_critic():
    cfg = compose_cfg("algo=poad")
    assert cfg.algo._target_ == "twosome.rl.poad.POAD" and cfg.algo.token_gamma == 1.0
    assert cfg.norm.mode == "trie" and cfg.agent.policy.norm == "trie" and cfg.agent.policy.critic_uses_adapter
    assert cfg.run_name.endswith("-trie-poad-s0")


def test_poad_refuses_an_agent_without_the_trie_policy(tiny_model_dir):
    from twosome.agents.twosome import TwosomeAgent
    from twosome.config import PPOConfig
    from twosome.lm.loading import load_lm
    from twosome.rl.poad import POAD

    lm, tokenizer = load_lm(str(tiny_model_dir))
    with pytest.raises(ValueError, match="norm='word'.*use agent=twosome norm=trie"):
        POAD(TwosomeAgent(lm, tokenizer, norm="word"), PPOConfig())


def test_poad_learns_the_toy_task(tmp_path, tiny_model_dir):
    torch.manual_seed(0)
    cfg = learning_config(tmp_path, tiny_model_dir, "algo=poad")
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    import pandas as pd

    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    returns = metrics["charts/episodic_return"].dropna().to_numpy()
    assert returns[-5:].mean() > returns[:3].mean() + 0.5, returns
    assert summary["eval/episodic_return"] >= 3.5
    assert summary["algorithm"] == "POAD" and summary_line(summary).startswith("Summary: twosome with POAD on ")
    assert (metrics["charts/tokens_per_action"].dropna() > 1).all()  # several token decisions per action
    assert (tmp_path / "run" / "adapter").exists() and (tmp_path / "run" / "critic_head.pt").exists()


def test_every_twosome_task_gives_the_trie_policy_a_proper_candidate_list():
    """POAD needs no action to be a token prefix of another (there is no end-of-action token): true of every
    Overcooked and VirtualHome task with the default tokenizer, over random play."""
    from pathlib import Path

    import gymnasium as gym
    import numpy as np
    from transformers import AutoTokenizer

    import twosome.envs  # noqa: F401
    from twosome.scoring import ActionScorer

    scorer = ActionScorer(AutoTokenizer.from_pretrained(Path(__file__).parents[1] / "models" / "tiny-household"))
    env_ids = [i for i in gym.registry if i.startswith(("twosome/Overcooked", "twosome/VirtualHome"))]
    assert len(env_ids) >= 4
    for env_id in env_ids:
        env, rng = gym.make(env_id), np.random.default_rng(0)
        _, info = env.reset(seed=0)
        for _ in range(20):
            tokens = [tuple(scorer.action_ids(a)) for a, ok in zip(info["actions"], info["action_mask"]) if ok]
            for a in tokens:
                assert not any(b != a and b[: len(a)] == a for b in tokens), (env_id, a)
            _, _, terminated, truncated, info = env.step(int(rng.choice(np.flatnonzero(info["action_mask"]))))
            if terminated or truncated:
                _, info = env.reset()
