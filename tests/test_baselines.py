"""Baselines share TWOSOME's PPO: PPO from scratch (MLP on the vector) and SayCan (frozen LM x learned affordance)."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from helpers import compose_cfg, toy_config

from twosome.agents.mlp_agent import MLPAgent
from twosome.agents.observation import ObsBatch
from twosome.agents.saycan import SayCanAgent
from twosome.lm.loading import load_lm
from twosome.scoring import ActionScorer
from twosome.training.train import train

# Small MLP heads learn the toy task in a few updates at a large learning rate.
FAST_HEADS = [
    "rollout.total_env_steps=2048",
    "rollout.num_steps=32",
    "ppo.policy_lr=1e-2",
    "ppo.value_lr=1e-2",
    "ppo.value_minibatch_size=32",
    "ppo.policy_minibatch_size=32",
    "ppo.policy_chunk_size=32",
    "eval.every_updates=0",
    "eval.episodes=16",
]


def toy_obs(masks: list[list[bool]], dim: int = 3) -> ObsBatch:
    n = len(masks)
    return ObsBatch(
        vectors=torch.eye(dim)[:n],
        prompts=[f"You see a {c} apple. You should" for c in ("red", "green", "red")[:n]],
        actions=[["take the red apple", "take the green apple", "eat the apple"]] * n,
        action_mask=torch.tensor(masks),
    )


def test_agent_presets_choose_their_ppo_settings_and_the_command_line_wins():
    assert compose_cfg("agent=ppo").ppo.policy_lr == pytest.approx(2.5e-4)
    assert compose_cfg("agent=saycan").ppo.update_epochs == 4
    assert compose_cfg("agent=ppo", "ppo=laptop").ppo.policy_lr == pytest.approx(1e-3)
    assert compose_cfg("agent=twosome").ppo.policy_lr == pytest.approx(1e-3)
    assert compose_cfg("agent=ppo").run_name == "ppo-tomato_salad-s0"


def test_mlp_agent_never_picks_an_invalid_action_and_rejects_other_layouts():
    torch.manual_seed(0)
    agent = MLPAgent(obs_dim=3, n_actions=3)
    with torch.no_grad():
        dist = agent.distribution(toy_obs([[True, False, True], [False, True, False]]))
    assert torch.all(dist.probs[0, 1] == 0) and dist.probs[1, 1] == pytest.approx(1.0)
    assert torch.allclose(dist.probs[0, [0, 2]], torch.full((2,), 0.5), atol=0.05)  # near uniform at init
    with pytest.raises(ValueError, match="3-dim observations, got 2-dim"):
        agent.distribution(toy_obs([[True, True, True]], dim=2))


def test_saycan_policy_is_the_product_of_lm_probability_and_affordance(tiny_model_dir):
    lm, tok = load_lm(str(tiny_model_dir), None, "float32")
    agent = SayCanAgent(lm, tok, obs_dim=3, n_actions=3, norm="token")
    obs = toy_obs([[True, True, True], [True, False, True]])
    with torch.no_grad():
        agent.affordance[-1].weight.zero_()
        agent.affordance[-1].bias.copy_(torch.tensor([2.0, -1.0, 0.5]))
        probs = agent.distribution(obs).probs
    scorer = ActionScorer(tok, mode="naive")
    for i in range(2):
        valid = [a for a, ok in zip(obs.actions[i], obs.action_mask[i].tolist()) if ok]
        with torch.no_grad():
            say = scorer.score(lm, scorer.encode([obs.prompts[i]], [valid])).normalized("token").softmax(0)
        can = torch.sigmoid(torch.tensor([2.0, -1.0, 0.5]))[obs.action_mask[i]]
        expected = say * can / (say * can).sum()
        assert torch.allclose(probs[i][obs.action_mask[i]], expected, atol=1e-5)
        assert probs[i][~obs.action_mask[i]].sum() == 0
    # The LM is never trained: PPO's policy optimizer only sees the affordance head.
    lm_params = {id(p) for p in agent.lm.parameters()}
    assert not lm_params & {id(p) for p in agent.policy_parameters() + agent.value_parameters()}
    assert not any(p.requires_grad for p in agent.lm.parameters())


def test_ppo_from_scratch_learns_the_toy_task(tmp_path):
    cfg = toy_config(tmp_path, "agent=ppo", *FAST_HEADS)
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    returns = pd.read_csv(tmp_path / "run" / "metrics.csv")["charts/episodic_return"].dropna().to_numpy()
    assert returns[-3:].mean() > returns[:3].mean() + 0.5, returns
    assert summary["eval/episodic_return"] >= 3.5
    assert (tmp_path / "run" / "mlp_agent.pt").exists()


def test_saycan_learns_its_affordance(tmp_path, tiny_model_dir):
    cfg = toy_config(tmp_path, "agent=saycan", f"model.path={tiny_model_dir}", "model.build=null", *FAST_HEADS)
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    assert summary["eval/episodic_return"] >= 3.5
    state = torch.load(tmp_path / "run" / "saycan_heads.pt", weights_only=True)
    assert set(state) == {"affordance", "critic"}


def test_drrn_reads_text_only_learns_the_toy_task_and_reloads(tmp_path):
    """The from-scratch text baseline: it reads the prompt and the actions' words, never the vector, and learns the
    toy task (which apple colour the prompt names) by the same PPO; its saved weights reload to the same policy."""
    from twosome.agents.drrn import DRRNAgent

    # GRUs from scratch: 1e-2 (the MLP heads' rate here) does not learn it in this budget, 3e-3 does
    cfg = toy_config(tmp_path, "agent=drrn", *FAST_HEADS, "ppo.policy_lr=3e-3", "ppo.value_lr=3e-3")
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    returns = pd.read_csv(tmp_path / "run" / "metrics.csv")["charts/episodic_return"].dropna().to_numpy()
    assert returns[-3:].mean() > returns[:3].mean() + 0.5, returns
    assert summary["eval/episodic_return"] >= 3.5
    agent = DRRNAgent()
    agent.load(tmp_path / "run")
    obs = ObsBatch(
        prompts=["You see a red apple. You should", "You see a green apple. You should"],
        actions=[["take the red apple", "take the green apple", ""]] * 2,
        action_mask=torch.tensor([[True, True, False], [True, True, False]]),
        vectors=None,  # text only: the vector is never read
    )
    probs = agent.distribution(obs).probs
    assert probs[0, 0] > 0.5 and probs[1, 1] > 0.5 and probs[:, 2].sum() == 0
    assert set(agent.policy_parameters()).isdisjoint(agent.value_parameters())
