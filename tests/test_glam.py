"""GLAM's agent: summed log-prob policy and a value head on the adapted LM, with encoder-decoder (T5) models."""

from __future__ import annotations

import pytest
import torch
from helpers import compose_cfg, toy_config

from twosome.agents.observation import ObsBatch
from twosome.agents.twosome import TwosomeAgent
from twosome.lm.loading import load_lm
from twosome.lm.tiny import TinyT5Spec, build_tiny_t5
from twosome.scoring import reference_logprobs
from twosome.training.train import train


@pytest.fixture(scope="module")
def tiny_t5_dir(tmp_path_factory, tiny_model_dir):
    return build_tiny_t5(
        tmp_path_factory.mktemp("t5") / "tiny-t5", tiny_model_dir, TinyT5Spec(num_layers=1, num_decoder_layers=1)
    )


def test_glam_preset_is_unnormalized_with_a_sigmoid_value_head_on_the_adapted_lm():
    cfg = compose_cfg("agent=glam", "model=tiny_t5")
    assert cfg.agent.policy.norm == "none" and cfg.agent.policy.critic_uses_adapter
    assert list(cfg.agent.policy.lora_target_modules) == ["q", "v"]
    assert list(compose_cfg("agent=glam").agent.policy.lora_target_modules) == ["q_proj", "v_proj"]


def test_glam_agent_on_t5_is_a_softmax_over_summed_logprobs(tiny_t5_dir):
    lm, tok = load_lm(str(tiny_t5_dir))
    agent = TwosomeAgent(
        lm,
        tok,
        norm="none",
        lora_target_modules=("q", "v"),
        critic_hidden=(16, 16),
        critic_activation="sigmoid",
        critic_bias=True,
        critic_uses_adapter=True,
    )
    obs = ObsBatch(
        vectors=torch.zeros(1, 2),
        prompts=["Goal of the agent: go to the red ball"],
        actions=[["turn left", "turn right", "go forward"]],
        action_mask=torch.ones(1, 3, dtype=torch.bool),
    )
    with torch.no_grad():
        probs = agent.distribution(obs).probs[0]
        ids = agent.scorer.prompt_ids(obs.prompts[0])
        expected = torch.tensor([reference_logprobs(lm, ids, agent.scorer.action_ids(a)) for a in obs.actions[0]])
    torch.testing.assert_close(probs, expected.softmax(0), atol=1e-5, rtol=0)
    # The value reads the adapted model: it follows the adapters when an optimizer step changes them.
    with torch.no_grad():
        before = agent.value(obs)
        for n, p in agent.actor.named_parameters():
            if "lora_B" in n:
                p.add_(0.5)
        after = agent.value(obs)
        assert not torch.allclose(before, after)
        # ... and a rollout's scoring pass supplies the same features the value would compute on its own: the value
        # then runs no forward of its own.
        forwards = []
        own_forward = agent.scorer.prompt_features
        agent.scorer.prompt_features = lambda *args, **kwargs: forwards.append(1) or own_forward(*args, **kwargs)
        with agent.frozen_policy():
            agent.distribution(obs)
            assert len(agent._adapted.values) == 1  # the scoring pass left the prompt's features
            shared = agent.value(obs)
        assert forwards == []
        agent._adapted.values.clear()
        alone = agent.value(obs)
        assert forwards == [1]  # computed on its own this time
        torch.testing.assert_close(shared, alone, atol=1e-5, rtol=1e-5)


def test_glam_with_t5_trains_and_saves(tmp_path, tiny_t5_dir):
    """CI-sized: two updates through the seq2seq scorer and the adapted value head, adapter and head saved."""
    cfg = toy_config(
        tmp_path,
        "agent=glam",
        "model=tiny_t5",
        f"model.path={tiny_t5_dir}",
        "model.build=null",
        "rollout.total_env_steps=64",
        "rollout.num_steps=8",
        "eval.every_updates=0",
        "eval.episodes=2",
    )
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    assert summary["updates"] == 2 and summary["norm"] == "none"
    assert (tmp_path / "run" / "adapter" / "adapter_config.json").exists()
    assert (tmp_path / "run" / "critic_head.pt").exists()


@pytest.mark.slow
def test_glam_with_t5_learns_the_toy_task(tmp_path, tiny_t5_dir):
    cfg = toy_config(
        tmp_path,
        "agent=glam",
        "model=tiny_t5",
        f"model.path={tiny_t5_dir}",
        "model.build=null",
        "rollout.total_env_steps=1280",
        "rollout.num_steps=16",
        "ppo.policy_lr=1e-2",
        "eval.every_updates=0",
        "eval.episodes=16",
    )
    summary = train(cfg, run_dir=tmp_path / "run", enable_progress_bar=False)
    assert summary["norm"] == "none"
    assert summary["eval/episodic_return"] >= 3.5
