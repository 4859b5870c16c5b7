"""agent=generate_rl: the LM writes its action and POAD's update trains the written tokens. The tokens a
rollout keeps are scored exactly as they were sampled, an update moves the policy toward the texts with the higher
advantage, a run writes its invalid-action rate, and the wrong algorithm or strategy is refused before anything is
written."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import compose_cfg

from twosome.agents.capabilities import Writes
from twosome.agents.generate import GenerateAgent, GenerateRLAgent
from twosome.config import ConfigError, PPOConfig, validate
from twosome.lm.loading import load_lm
from twosome.rl.algorithm import UpdateContext
from twosome.rl.poad import POAD
from twosome.rl.settings import POADSettings
from twosome.training.rollout import RolloutCollector, to_obs_batch
from twosome.training.vector_env import make_vector_env

ROOT = Path(__file__).resolve().parent.parent
ENV = "twosome/Overcooked-TomatoSalad-v0"


def writer(model_dir, **kwargs) -> GenerateRLAgent:
    lm, tok = load_lm(str(model_dir), None, "float32", None)
    return GenerateRLAgent(lm, tok, max_new_tokens=6, critic_hidden=(16,), **kwargs)


def first_obs(n: int = 3):
    envs = make_vector_env(ENV, n, invalid_action={"max_in_a_row": 3})
    obs, info = envs.reset(seed=0)
    return to_obs_batch(obs, info)


def test_written_tokens_are_scored_as_they_were_sampled(tiny_model_dir):
    """Generation (incremental, left-padded) and the update's forward (whole sequence, right-padded) are two
    computations of one policy: the same log-probabilities; the tokens stop where the action's line ends."""
    agent = writer(tiny_model_dir)
    assert isinstance(agent, Writes)
    obs = first_obs()
    torch.manual_seed(0)
    written = agent.act(obs)
    out = agent.token_outputs(obs, written.tokens)
    torch.testing.assert_close(out.logprobs.sum(1), written.logprobs, atol=1e-5, rtol=1e-5)
    assert torch.equal(out.mask, written.tokens >= 0) and out.features.shape[:2] == written.tokens.shape
    tok = agent.tokenizer
    for row in written.tokens:
        kept = row[row >= 0].tolist()
        ended = kept[-1] == tok.eos_token_id or "\n" in tok.decode(kept, skip_special_tokens=True).lstrip()
        assert ended or len(kept) == 6  # the line (or the sequence) ends at the last kept token, or the limit
        assert not any(t == tok.eos_token_id for t in kept[:-1])
    # V(s) is the token critic before the first written token
    torch.testing.assert_close(agent.value(obs), agent.token_values(out.features[:, 0]))
    # Greedy writing with a fresh adapter (B = 0) is the base LM's, as agent=generate writes it
    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)
    greedy = agent.act(obs, greedy=True).actions
    assert torch.equal(greedy, GenerateAgent(lm, tok, max_new_tokens=6).distribution(obs).probs.argmax(-1))


@pytest.mark.parametrize("credit", ["token", "action"])
def test_poad_moves_the_writer_toward_the_texts_with_the_higher_advantage(tiny_model_dir, credit):
    torch.manual_seed(0)
    agent = writer(tiny_model_dir)
    envs = make_vector_env(ENV, 2, invalid_action={"max_in_a_row": 3})
    rollout = RolloutCollector(envs, agent, num_steps=8, gamma=0.99, seed=0).collect()
    assert rollout.tokens.shape[:2] == (8, 2) and rollout.choices().shape == (16, rollout.tokens.shape[2])
    # reward environment 0's texts and penalize environment 1's, whatever they said
    rollout.rewards = torch.tensor([[1.0, -1.0]]).repeat(8, 1)
    rollout.episode_ends.zero_()
    obs, tokens = rollout.flat_obs(), rollout.choices()
    with torch.no_grad():
        before = agent.token_outputs(obs, tokens).logprobs.sum(1)
    ppo = PPOConfig(policy_lr=1e-2, update_epochs=4, policy_minibatch_size=16, value_minibatch_size=16, target_kl=None)
    algorithm = POAD(agent, ppo, POADSettings(credit=credit))
    optimizers, schedulers = algorithm.configure_optimizers(1)
    metrics = algorithm.update(rollout, UpdateContext(optimizers, schedulers, lambda loss: loss.backward(), "cpu"))
    with torch.no_grad():
        change = agent.token_outputs(obs, tokens).logprobs.sum(1) - before
    rewarded = torch.arange(16) % 2 == 0  # time-major rows: environment 0 at even positions
    assert change[rewarded].mean() > 0 > change[~rewarded].mean(), change
    assert metrics["charts/tokens_per_action"] >= 1


def test_action_credit_gives_every_token_of_an_action_its_gae_advantage(tiny_model_dir):
    """algo.credit=action: the advantages POAD trains on are ordinary GAE over the rollout's V(s), the same on every
    token of an action (checked through what the policy loss receives)."""
    from twosome.rl import poad as poad_module
    from twosome.rl.gae import compute_gae

    torch.manual_seed(0)
    agent = writer(tiny_model_dir)
    envs = make_vector_env(ENV, 2, invalid_action={"max_in_a_row": 3, "reward": -0.05})
    rollout = RolloutCollector(envs, agent, num_steps=4, gamma=0.99, seed=0).collect()
    seen = []
    real_loss = poad_module.policy_loss

    def spy(new_logprob, old_logprob, advantages, clip):
        seen.append(advantages.detach())
        return real_loss(new_logprob, old_logprob, advantages, clip)

    ppo = PPOConfig(update_epochs=1, policy_minibatch_size=8, value_minibatch_size=8, norm_adv=False)
    algorithm = POAD(agent, ppo, POADSettings(credit="action"))
    optimizers, schedulers = algorithm.configure_optimizers(1)
    poad_module.policy_loss = spy
    try:
        torch.manual_seed(1)
        algorithm.update(rollout, UpdateContext(optimizers, schedulers, lambda loss: loss.backward(), "cpu"))
    finally:
        poad_module.policy_loss = real_loss
    adv, _ = compute_gae(
        rollout.rewards, rollout.values, rollout.next_values, rollout.episode_ends, rollout.discounts, ppo.gae_lambda
    )
    lengths = (rollout.choices() >= 0).sum(1)
    torch.manual_seed(1)
    order = torch.randperm(8)  # the update's minibatch order (one minibatch of all 8 decisions)
    expected = torch.repeat_interleave(adv.reshape(-1)[order], lengths[order])
    torch.testing.assert_close(torch.cat(seen), expected)  # every chunk of the minibatch, in order
    with pytest.raises(ConfigError, match=r"algo.credit='bad' is not valid; valid: \['token', 'action'\]"):
        POADSettings(credit="bad")


def test_only_a_token_level_algorithm_trains_a_writer_and_not_sharded():
    with pytest.raises(ConfigError, match="writes its actions and algo .*PPO.* trains only action indices.*algo=poad"):
        validate(compose_cfg("agent=generate_rl", "algo=ppo"))
    with pytest.raises(ConfigError, match="cannot train with trainer.strategy=fsdp"):
        validate(compose_cfg("agent=generate_rl", "algo=poad", "trainer.strategy=fsdp"))
    validate(compose_cfg("agent=generate_rl", "algo=poad"))


def test_a_writer_run_records_its_invalid_actions_and_its_adapter_reloads(tiny_model_dir, tmp_path):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "src" / "run.py"), "agent=generate_rl", "algo=poad", "env=overcooked",
           f"model.path={tiny_model_dir}", "model.build=null", "agent.policy.max_new_tokens=4",
           "rollout.total_env_steps=64", "rollout.num_envs=2", "eval.episodes=2", "eval.final_sampled_episodes=2",
           f"hydra.run.dir={run_dir}"]  # fmt: skip
    result = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["agent"] == "generate_rl" and summary["algorithm"] == "POAD"
    for prefix in ("eval", "sampled"):
        assert 0 <= summary[f"{prefix}/invalid_action_rate"] <= 1
    import pandas as pd

    assert pd.read_csv(run_dir / "metrics.csv")["charts/invalid_action_rate"].notna().any()
    lm, tok = load_lm(str(tiny_model_dir), None, "float32", None)  # agent=generate evaluates the trained adapter
    assert GenerateAgent(lm, tok, adapter=str(run_dir / "adapter")).lm.peft_config["default"].r == 8
