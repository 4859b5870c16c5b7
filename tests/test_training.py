"""The training loop: truncation bootstrapping in rollouts, and PPO with TWOSOME actually learning."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from helpers import learning_config, toy_config
from toy_env import register

from twosome.agents.base import ActorCritic, masked_categorical
from twosome.agents.observation import ObsBatch
from twosome.training.rollout import RolloutCollector
from twosome.training.train import train
from twosome.training.vector_env import make_vector_env

CONF = os.path.join(os.path.dirname(__file__), "..", "conf")


class VectorValueAgent(ActorCritic):
    """Uniform policy; V(s) = s . w, so the value of any observation is known exactly."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([1.0, 2.0]))

    def distribution(self, obs: ObsBatch):
        return masked_categorical(torch.zeros(obs.action_mask.shape), obs.action_mask)

    def value(self, obs):
        return obs.vectors @ self.w


def test_rollout_bootstraps_truncated_episodes_from_their_final_observation():
    env_id = register()
    agent = VectorValueAgent()
    torch.manual_seed(0)
    collector = RolloutCollector(make_vector_env(env_id, 2, {"horizon": 3}), agent, num_steps=7, gamma=0.9, seed=3)
    rollout = collector.collect()

    # Replay the same seeds and actions to read the final observations independently.
    envs = make_vector_env(env_id, 2, {"horizon": 3})
    envs.reset(seed=3)
    w = agent.w.detach()
    for t in range(7):
        obs, _, term, trunc, info = envs.step(rollout.actions[t].numpy())
        for i in range(2):
            if trunc[i]:
                expected = float(torch.as_tensor(info["final_obs"][i]) @ w)
                assert rollout.episode_ends[t, i] == 1
                assert rollout.next_values[t, i].item() == pytest.approx(expected)
            else:
                assert rollout.episode_ends[t, i] == 0
                following = rollout.values[t + 1, i] if t < 6 else float(torch.as_tensor(obs[i]) @ w)
                assert rollout.next_values[t, i].item() == pytest.approx(float(following))
    assert rollout.episode_ends.sum() == 2 * 2  # episodes of 3 decisions end at t=2 and t=5 in both envs
    assert torch.allclose(rollout.discounts, torch.full((7, 2), 0.9))


def test_twosome_ppo_learns_the_toy_task(tmp_path, tiny_model_dir):
    """Random policy: return 2 of 4; after 20 PPO updates the greedy policy is (almost) always right."""
    cfg = learning_config(tmp_path, tiny_model_dir, "eval.final_sampled_episodes=24")
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    import pandas as pd

    # The final sampled evaluation (what success claims rest on): its own episodes, in the summary and the last
    # metrics row.
    assert summary["sampled/episodes"] == 24 and summary["sampled/episodic_return"] >= 3.0
    assert summary["eval/episodes"] == 16

    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    returns = metrics["charts/episodic_return"].dropna().to_numpy()
    assert returns[-5:].mean() > returns[:3].mean() + 0.5, returns
    assert summary["eval/episodic_return"] >= 3.5
    # The run directory holds what a researcher needs afterwards.
    for name in ("config.yaml", "metrics.csv", "summary.json", "critic_head.pt", "adapter/adapter_config.json"):
        assert (tmp_path / "run" / name).exists(), name
    assert np.isfinite(metrics["losses/value_loss"].dropna()).all()


def test_evaluation_only_agents_write_a_summary_without_training(tmp_path, tiny_model_dir):
    """agent=random is uniform (return ~2 of 4 on the toy task); agent=zeroshot scores with the untrained LM."""
    cfg = toy_config(tmp_path, "agent=random", "eval.episodes=40", "eval.final_sampled_episodes=30")
    summary = train(cfg, run_dir=tmp_path / "random")
    assert summary["env_steps"] == 0 and summary["eval/episodes"] == 40 and summary["sampled/episodes"] == 30
    assert 1.0 < summary["sampled/episodic_return"] < 3.0
    assert 1.0 < summary["eval/episodic_return"] < 3.0
    assert not (tmp_path / "random" / "adapter").exists()
    # what a reader needs beside the run's time: the machine (CPU model and bfloat16 flags) and its threads
    assert "avx512_bf16=" in summary["cpu"] and summary["threads"] == torch.get_num_threads()
    # trainer.num_threads holds when there is no trainer too (two evaluations side by side must not oversubscribe)
    threads, other = torch.get_num_threads(), 1 if torch.get_num_threads() != 1 else 2
    cfg = toy_config(
        tmp_path, "agent=zeroshot", f"model.path={tiny_model_dir}", "model.build=null", "eval.episodes=8",
        f"trainer.num_threads={other}",
    )  # fmt: skip
    try:
        summary = train(cfg, run_dir=tmp_path / "zeroshot")
    finally:
        torch.set_num_threads(threads)
    assert summary["agent"] == "zeroshot" and summary["env_steps"] == 0 and summary["threads"] == other


class CriticFreeAgent(ActorCritic):
    """A policy with no critic at all: ``value`` is the base class's, which raises."""

    def distribution(self, obs: ObsBatch):
        return masked_categorical(torch.zeros(obs.action_mask.shape), obs.action_mask)


def test_an_algorithm_that_needs_no_values_collects_rollouts_without_a_critic():
    """``values=False`` (a registration's ``needs_values``) never calls the critic, so an agent may have none."""
    env_id = register()
    envs = make_vector_env(env_id, 2, {"horizon": 3})
    with pytest.raises(NotImplementedError):
        RolloutCollector(envs, CriticFreeAgent(), num_steps=4, gamma=0.9, seed=0).collect()
    rollout = RolloutCollector(envs, CriticFreeAgent(), num_steps=4, gamma=0.9, seed=0, values=False).collect()
    assert rollout.values.shape == (4, 2) and not rollout.values.any() and not rollout.next_values.any()


def test_an_algorithm_s_needs_are_read_from_its_registration_or_its_nearest_registered_base():
    """Declared once, where its settings are registered (rl/settings.py): the run reads what the config check reads."""
    import standin_algorithm

    from twosome.rl.gigpo import GiGPO
    from twosome.rl.poad import POAD
    from twosome.rl.ppo import PPO
    from twosome.rl.settings import ALGORITHMS, spec_of

    assert spec_of(GiGPO) is ALGORITHMS["twosome.rl.gigpo.GiGPO"] and not spec_of(GiGPO).needs_values
    assert spec_of(standin_algorithm.OptionPPO) is spec_of(PPO) and spec_of(PPO).needs_values
    assert spec_of(object).needs_values  # no registered class: the defaults
    assert not [c.__name__ for c in (PPO, POAD, GiGPO) if "needs_values" in vars(c)]


def test_an_algorithm_the_registry_does_not_know_is_built_from_algo_s_keys_and_trains(tiny_model_dir, tmp_path):
    """A researcher's own learner before it is registered: ``algo._target_`` names it and ``algo``'s other keys are its
    arguments (``label`` aside, which only names runs); its weights train like PPO's."""
    import standin_algorithm
    from helpers import compose_cfg, small_run

    from twosome.rl.settings import ALGORITHMS

    target = "standin_algorithm.OptionPPO"
    assert target not in ALGORITHMS
    overrides = small_run(tiny_model_dir, None, "rollout.total_env_steps=64", "eval.every_updates=0",
                          f"paths.root_dir={tmp_path}", f"algo._target_={target}", "+algo.clip_scale=0.5",
                          "algo.label=standin")  # fmt: skip
    standin_algorithm.BUILT.clear()
    summary = train(compose_cfg(*overrides), run_dir=tmp_path / "run", enable_progress_bar=False)
    assert standin_algorithm.BUILT == [{"clip_scale": 0.5, "clip_coef": 0.2}]
    assert summary["updates"] == 2 and summary["weights_digest"]
    assert "standin" in summary["run_name"]
