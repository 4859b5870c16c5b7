"""POAD (token-level PPO with the BAD backup) as a second algorithm: it composes, refuses a policy it cannot
train, and learns the toy task, whose two actions share their first tokens ("take the ... apple")."""

from __future__ import annotations

import pytest
import torch
from test_config import compose_cfg
from test_training import learning_config

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
    assert (metrics["charts/tokens_per_action"].dropna() > 1).all()  # several token decisions per action
    assert (tmp_path / "run" / "adapter").exists() and (tmp_path / "run" / "critic_head.pt").exists()
