"""GiGPO: critic-free advantages from episode groups and anchor states, against hand-computed groups; an
agent's critic is never called; the toy task is learned."""

from __future__ import annotations

import json
import math

import pytest
import torch
from helpers import compose_cfg, learning_config, small_run

from twosome.config import ConfigError, validate
from twosome.rl.gigpo import episodes_of, gigpo_advantages, normalized
from twosome.training.train import train


def z(values: list[float]) -> list[float]:
    """Hand normalization: minus the mean, over the sample standard deviation (+1e-6)."""
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))
    return [(v - mean) / (std + 1e-6) for v in values]


def test_two_episodes_from_one_state_with_an_anchor_reached_twice():
    """Env 0: states A, B, A (an anchor reached twice in one episode), reward 1 at the end; env 1: A, C, reward 0.
    Discount 0.5 per decision. Both episodes start at A: one episode group."""
    rewards = torch.tensor([[0.0, 0.0], [0.0, 0.0], [1.0, 0.0]])
    discounts = torch.full((3, 2), 0.5)
    starts = torch.tensor([[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])
    ends = torch.tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
    keys = [["A", "A"], ["B", "C"], ["A", "D"]]
    adv, trained = gigpo_advantages(rewards, discounts, starts, ends, keys, step_weight=1.0)
    # returns: env 0: G = [0.25, 0.5, 1]; env 1: G = [0, 0] (its episode ends at t=1; t=2 starts no episode here)
    episode = z([0.25, 0.0])  # the group's two returns from the start
    anchor_a = z([0.25, 0.0, 1.0])  # A at (0, env 0), (0, env 1), (2, env 0)
    expected = torch.tensor(
        [
            [episode[0] + anchor_a[0], episode[1] + anchor_a[1]],
            [episode[0] + 0.0, episode[1] + 0.0],  # B and C: anchor groups of one
            [episode[0] + anchor_a[2], 0.0],  # env 1's t=2 belongs to no complete episode
        ]
    )
    torch.testing.assert_close(adv, expected.float())
    assert trained.tolist() == [[True, True], [True, True], [True, False]]


def test_groups_of_one_equal_returns_and_cut_episodes_give_no_advantage():
    # one complete episode alone in its group: nothing to compare with
    adv, trained = gigpo_advantages(
        torch.tensor([[1.0]]), torch.tensor([[0.9]]), torch.tensor([[1.0]]), torch.tensor([[1.0]]), [["A"]]
    )
    assert adv.tolist() == [[0.0]] and trained.tolist() == [[True]]
    # equal returns everywhere: every advantage 0 (no division by a zero deviation)
    ones = torch.ones(2, 2)
    starts, ends = torch.tensor([[1.0, 1.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    adv, _ = gigpo_advantages(ones, ones, starts, ends,
                              [["A", "A"], ["B", "B"]])  # fmt: skip
    assert torch.equal(adv, torch.zeros(2, 2))
    # an episode begun before the rollout, or unfinished at its end, is not trained on
    assert episodes_of(torch.tensor([[0.0], [1.0]]), torch.tensor([[1.0], [0.0]])) == []
    assert normalized(torch.tensor([3.0])).tolist() == [0.0]


def test_the_step_weight_scales_only_the_anchor_part():
    rewards = torch.tensor([[0.0, 0.0], [1.0, 0.0]])
    starts, ends = torch.tensor([[1.0, 1.0], [0.0, 0.0]]), torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    keys = [["A", "A"], ["B", "B"]]
    ones = torch.ones(2, 2)
    episode_only = gigpo_advantages(rewards, ones, starts, ends, keys, step_weight=0.0)[0]
    both = gigpo_advantages(rewards, ones, starts, ends, keys, step_weight=2.0)[0]
    anchor = both - episode_only
    torch.testing.assert_close(anchor[1], 2 * torch.tensor(z([1.0, 0.0])))  # B: returns 1 and 0
    torch.testing.assert_close(episode_only[0], torch.tensor(z([1.0, 0.0])))


def test_gigpo_composes_and_refuses_a_negative_step_weight():
    cfg = compose_cfg("algo=gigpo")
    validate(cfg)
    assert cfg.run_name.endswith("-gigpo-s0")
    with pytest.raises(ConfigError, match="algo.step_weight=-1.0 is not valid; valid: >= 0"):
        validate(compose_cfg("algo=gigpo", "algo.step_weight=-1"))


def test_gigpo_learns_the_toy_task_without_calling_the_critic(tmp_path, tiny_model_dir, monkeypatch):
    from twosome.agents.twosome import TwosomeAgent

    def no_critic(self, obs):
        raise AssertionError("GiGPO needs no values: the critic must not be called")

    monkeypatch.setattr(TwosomeAgent, "value", no_critic)
    torch.manual_seed(0)
    cfg = learning_config(tmp_path, tiny_model_dir, "algo=gigpo", "ppo.update_epochs=4")  # 1 epoch: too slow here
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    import pandas as pd

    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    returns = metrics["charts/episodic_return"].dropna().to_numpy()
    assert returns[-5:].mean() > returns[:3].mean() + 0.5, returns
    assert summary["eval/episodic_return"] >= 3.5 and summary["algorithm"] == "GiGPO"
    assert "charts/value_learning_rate" not in metrics and (metrics["charts/trained_decisions"].dropna() > 0).all()


def test_an_agent_without_a_critic_trains_with_gigpo_saves_no_head_and_reloads(tmp_path, tiny_model_dir):
    from twosome.evaluation.generalization import load_run

    steps = "rollout.total_env_steps=128"  # two updates of 4 environments x 16 steps
    cfg = learning_config(tmp_path, tiny_model_dir, "algo=gigpo", "agent.policy.critic=false", steps)
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    assert summary["saved"] == ["adapter"] and not (tmp_path / "run" / "critic_head.pt").exists()
    assert summary["model_dtype"] == "float32"  # the frozen LM's dtype, as the run resolved it
    _, agent = load_run(tmp_path / "run")
    assert agent.critic_head is None and agent.value_parameters() == []
    assert not any("critic" in n for n, _ in agent.named_parameters())


def test_an_agent_without_a_critic_is_refused_where_the_algorithm_reads_values():
    for algo in ("ppo", "poad"):
        with pytest.raises(ConfigError, match="agent.policy.critic=false is not valid with algo"):
            validate(compose_cfg(f"algo={algo}", "agent.policy.critic=false", "norm=trie"))
    validate(compose_cfg("algo=gigpo", "agent.policy.critic=false"))


def test_a_rollout_without_a_complete_episode_makes_no_step(tiny_model_dir):
    """Long episodes can outlast a rollout: GiGPO then has no decision to train on, and the update says so."""
    from helpers import register

    from twosome.agents.twosome import TwosomeAgent
    from twosome.config import PPOConfig
    from twosome.lm.loading import load_lm
    from twosome.rl.algorithm import UpdateContext
    from twosome.rl.gigpo import GiGPO
    from twosome.training.rollout import RolloutCollector
    from twosome.training.vector_env import make_vector_env

    lm, tok = load_lm(str(tiny_model_dir))
    agent = TwosomeAgent(lm, tok)
    envs = make_vector_env(register(), 2, {"horizon": 50})
    rollout = RolloutCollector(envs, agent, num_steps=4, gamma=0.9, seed=0, values=False).collect()
    algorithm = GiGPO(agent, PPOConfig())
    optimizers, schedulers = algorithm.configure_optimizers(1)
    before = [p.detach().clone() for p in agent.policy_parameters()]
    metrics = algorithm.update(rollout, UpdateContext(optimizers, schedulers, lambda loss: loss.backward(), "cpu"))
    assert metrics["losses/policy_update_steps"] == 0 and metrics["charts/trained_decisions"] == 0
    assert all(torch.equal(a, b) for a, b in zip(before, agent.policy_parameters()))


def test_each_rollout_restarts_its_groups_from_one_seeded_state_each():
    """Episode groups: the environments of a group start every rollout in one state (one seed), the groups and the
    rollouts in others; the seeds follow the rollout's index, so a resumed run restarts as the uninterrupted one."""
    from toy_env import register

    from twosome.training.rollout import RolloutCollector
    from twosome.training.vector_env import make_vector_env

    class Uniform(torch.nn.Module):
        def distribution(self, obs):
            from twosome.agents.base import masked_categorical

            return masked_categorical(torch.zeros(obs.action_mask.shape), obs.action_mask)

    def first_prompts(collector) -> list[list[str]]:
        out = []
        for _ in range(6):
            rollout = collector.collect()
            out.append(rollout.obs[0].prompts)
            assert rollout.episode_starts[0].all()  # every environment starts an episode with the rollout
        return out

    envs = make_vector_env(register(), 4, {"horizon": 2})
    collector = RolloutCollector(envs, Uniform(), num_steps=3, gamma=0.9, seed=0, values=False, group_size=2)
    firsts = first_prompts(collector)
    assert all(p[0] == p[1] and p[2] == p[3] for p in firsts)
    assert len({p[0] for p in firsts} | {p[2] for p in firsts}) == 2  # both colours occur over the rollouts
    again = RolloutCollector(make_vector_env(register(), 4, {"horizon": 2}), Uniform(), 3, 0.9, 0, values=False,
                             group_size=2)  # fmt: skip
    assert first_prompts(again) == firsts
    with pytest.raises(ValueError, match="algo.group_size=3 is not valid with 4 environments"):
        RolloutCollector(envs, Uniform(), 3, 0.9, 0, group_size=3)
    with pytest.raises(ConfigError, match="algo.group_size=3 is not valid; valid: a divisor of rollout.num_envs=4"):
        validate(compose_cfg("algo=gigpo", "algo.group_size=3"))


def test_the_critic_memory_benchmark_counts_the_head_it_builds(tmp_path):
    """python -m twosome.bench.critic_memory: the parameter count against a hand count of conf/agent/twosome.yaml's
    head (h -> 1024 -> 512 -> 1, no bias), at a small width."""
    import pandas as pd

    from twosome.bench.critic_memory import main

    table = main(["--hidden", "64", "--out", str(tmp_path)])
    row = pd.read_csv(tmp_path / "critic_memory.csv").iloc[0]
    assert row.critic_parameters == 64 * 1024 + 1024 * 512 + 512 == table.critic_parameters[0]
    assert row.adam_state_mib == 2 * row.weights_mib and row.feature_memo_mib == 50_000 * 64 * 4 / 2**20
    with pytest.raises(SystemExit):
        main(["--hidden", "0", "--out", str(tmp_path)])


def test_the_reference_kl_against_a_hand_computation():
    """KL(pi || pi_ref) summed over the valid actions only; pi = (1/2, 1/2), pi_ref = (1/4, 3/4), a third action
    invalid (its logit the most negative finite one, as masked_categorical leaves it)."""
    from twosome.agents.base import masked_categorical
    from twosome.rl.losses import reference_kl

    mask = torch.tensor([[True, True, False]])
    pi = masked_categorical(torch.log(torch.tensor([[0.5, 0.5, 1.0]])), mask)
    ref = masked_categorical(torch.log(torch.tensor([[0.25, 0.75, 1.0]])), mask)
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    torch.testing.assert_close(reference_kl(pi.logits, ref.logits, mask), torch.tensor([expected]))
    assert reference_kl(pi.logits, pi.logits, mask).item() == 0.0


def test_the_reference_is_the_untrained_policy_even_where_the_trained_ones_scores_are_memoized(tiny_model_dir):
    from helpers import register

    from twosome.agents.twosome import TwosomeAgent
    from twosome.lm.loading import load_lm
    from twosome.training.rollout import RolloutCollector
    from twosome.training.vector_env import make_vector_env

    lm, tok = load_lm(str(tiny_model_dir))
    agent = TwosomeAgent(lm, tok, lora_layers=1)  # the trunk cache serves the adapted and the reference pass
    envs = make_vector_env(register(), 2, {"horizon": 3})
    obs = RolloutCollector(envs, agent, num_steps=2, gamma=0.9, seed=0, values=False).collect().flat_obs()
    untrained = agent.distribution(obs).logits
    with torch.no_grad():
        for p in agent.policy_parameters():
            p.add_(0.05 * torch.randn_like(p))
    with agent.frozen_policy(), torch.no_grad():
        trained = agent.distribution(obs).logits  # memoized: the adapted scores of these states
        reference = agent.reference_distribution(obs).logits
        assert agent._scores.values  # the memo holds the trained policy's scores, and the reference did not read them
    torch.testing.assert_close(reference, untrained, atol=1e-5, rtol=0)
    assert (trained - untrained).abs().max() > 1e-3  # the adapter moved the policy: the test can tell them apart


def test_the_kl_coefficient_is_checked_before_anything_is_written():
    validate(compose_cfg("algo=gigpo", "algo.kl_coef=0.1"))
    for bad in ("-0.1", "nan", "inf"):
        with pytest.raises(ConfigError, match=f"algo.kl_coef={bad} is not valid; valid: a finite number"):
            validate(compose_cfg("algo=gigpo", f"algo.kl_coef={bad}"))
    with pytest.raises(ConfigError, match="algo.kl_coef=0.1 needs an agent with a reference policy"):
        validate(compose_cfg("algo=gigpo", "algo.kl_coef=0.1", "agent=ppo"))


def test_a_large_kl_coefficient_holds_the_policy_near_the_untrained_one(tmp_path, tiny_model_dir):
    """The KL term's direction: with beta large the trained policy stays nearer the reference than with beta tiny
    (both log losses/reference_kl: KL(pi || pi_ref) at the policy steps)."""
    import pandas as pd

    drift = {}
    for beta in ("1e-9", "10"):
        run = tmp_path / f"beta{beta}"
        cfg = learning_config(tmp_path, tiny_model_dir, "algo=gigpo", f"algo.kl_coef={beta}", "ppo.update_epochs=4",
                              "rollout.total_env_steps=256", "ppo.target_kl=null")  # fmt: skip
        torch.manual_seed(0)
        train(cfg, run_dir=run, enable_progress_bar=False)
        kl = pd.read_csv(run / "metrics.csv")["losses/reference_kl"].dropna()
        assert len(kl) == 4 and (kl >= 0).all()
        drift[beta] = kl.iloc[-1]
    assert drift["10"] < 0.5 * drift["1e-9"], drift


def test_a_run_whose_rollouts_hold_no_complete_episode_fails_instead_of_ending_untrained(tmp_path, tiny_model_dir):
    """GiGPO trains only episodes that end inside a rollout: with 8-decision rollouts on Tomato Salad none does, and
    the run used to exit 0 with its untrained weights saved as if trained."""
    from twosome.training.lifecycle import NothingTrained

    overrides = ["algo=gigpo", "rollout.num_steps=8", "rollout.total_env_steps=64", f"paths.root_dir={tmp_path}"]
    cfg = compose_cfg(*small_run(tiny_model_dir, None, *overrides))
    with pytest.raises(NothingTrained, match="rollout.num_steps=8 .* GiGPO trains only episodes that end inside"):
        train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    assert json.loads((tmp_path / "run" / "status.json").read_text())["status"] == "failed"
    assert not (tmp_path / "run" / "summary.json").exists() and not (tmp_path / "run" / "adapter").exists()
