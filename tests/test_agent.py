"""The TWOSOME agent: policy = softmax of normalized scores; memoization and de-duplication change nothing."""

from __future__ import annotations

import pytest
import torch

from twosome.agents.observation import ObsBatch
from twosome.agents.twosome import TwosomeAgent
from twosome.lm.loading import load_lm
from twosome.scoring import ActionScorer

PROMPT_A = "You are in the kitchen. You notice a tomato on the table. You should"
PROMPT_B = "You hold the bowl. You should"
ACTIONS = ["pick up the tomato", "take the bowl", "serve nothing"]


@pytest.fixture()
def agent(tiny_model_dir):
    lm, tok = load_lm(str(tiny_model_dir))
    torch.manual_seed(0)
    agent = TwosomeAgent(lm, tok, norm="word")
    for n, p in agent.actor.named_parameters():
        if "lora_B" in n:
            torch.nn.init.normal_(p, std=0.05)
    return agent


def obs_of(prompts, masks):
    return ObsBatch(
        list(prompts), [list(ACTIONS)] * len(prompts), torch.tensor(masks), vectors=torch.zeros(len(prompts), 1)
    )


def test_policy_is_softmax_of_word_normalized_scores(agent, tiny_model_dir):
    obs = obs_of([PROMPT_A], [[True, True, True]])
    with torch.no_grad():
        probs = agent.distribution(obs).probs[0]
        scorer = ActionScorer(agent.scorer.tokenizer, mode="naive")
        scores = scorer.score(agent.actor, scorer.encode([PROMPT_A], [ACTIONS])).normalized("word")
    torch.testing.assert_close(probs, torch.softmax(scores, -1), atol=1e-6, rtol=1e-5)


def test_invalid_actions_get_zero_probability(agent):
    with torch.no_grad():
        dist = agent.distribution(obs_of([PROMPT_A], [[True, False, True]]))
    assert dist.probs[0, 1] == 0
    assert dist.probs[0].sum().item() == pytest.approx(1.0)
    assert torch.isfinite(dist.entropy()).all()


def test_duplicates_and_memo_give_identical_scores(agent):
    prompts = [PROMPT_A, PROMPT_B, PROMPT_A, PROMPT_B]
    masks = [[True, True, True], [True, True, True], [True, True, True], [True, False, True]]
    obs = obs_of(prompts, masks)
    with torch.no_grad():
        rows = torch.cat([agent.action_scores(obs.select([i])) for i in range(4)])
        together = agent.action_scores(obs)
        with agent.frozen_policy():
            memo_first = agent.action_scores(obs)
            memo_again = agent.action_scores(obs)
    torch.testing.assert_close(together, rows, atol=1e-6, rtol=0)
    torch.testing.assert_close(memo_first, rows, atol=1e-6, rtol=0)
    torch.testing.assert_close(memo_again, rows, atol=1e-6, rtol=0)


def test_memo_does_not_outlive_a_weight_change(agent):
    obs = obs_of([PROMPT_A], [[True, True, True]])
    with torch.no_grad():
        with agent.frozen_policy():
            before = agent.action_scores(obs)
        for p in agent.policy_parameters():
            p.add_(0.1)
        with agent.frozen_policy():
            after = agent.action_scores(obs)
    assert not torch.allclose(before, after)


def test_critic_features_ignore_the_adapter_and_are_cached(agent):
    obs = obs_of([PROMPT_A, PROMPT_B], [[True] * 3] * 2)
    with torch.no_grad():
        v1 = agent.value(obs)
        assert set(agent.cache_state()["features"]) == {PROMPT_A, PROMPT_B}
        for p in agent.policy_parameters():
            p.add_(0.5)
        agent.load_cache_state({})
        v2 = agent.value(obs)  # recomputed: adapters are disabled for the critic
    torch.testing.assert_close(v1, v2)
    assert v1.shape == (2,)


def test_adapters_and_heads_are_fp32_and_only_they_train(agent):
    trainable = [n for n, p in agent.named_parameters() if p.requires_grad]
    assert trainable and all(("lora_" in n) or n.startswith("critic_head") for n in trainable)
    assert all(p.dtype == torch.float32 for n, p in agent.named_parameters() if p.requires_grad)
    assert sum(p.numel() for p in agent.policy_parameters()) > 0


def test_lora_layers_adapts_only_the_top_blocks_and_no_gradient_reaches_below(tiny_model_dir):
    lm, tok = load_lm(str(tiny_model_dir))
    total = lm.config.num_hidden_layers
    agent = TwosomeAgent(lm, tok, norm="word", lora_layers=1)
    adapted = {n.split(".layers.")[1].split(".")[0] for n, p in agent.named_parameters() if "lora_" in n}
    assert adapted == {str(total - 1)}
    # The policy loss's gradient reaches the adapters it should, and the blocks below run without autograd.
    saved = []

    def record(k):
        return lambda module, args, out: saved.append((k, (out[0] if isinstance(out, tuple) else out).requires_grad))

    blocks = agent.actor.base_model.model.model.layers
    hooks = [block.register_forward_hook(record(k)) for k, block in enumerate(blocks)]
    agent.distribution(obs_of([PROMPT_A], [[True, True, True]])).log_prob(torch.tensor([0])).sum().backward()
    for h in hooks:
        h.remove()
    assert dict(saved) == {k: k == total - 1 for k in range(total)}
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for n, p in agent.named_parameters() if "lora_B" in n)


@pytest.mark.parametrize("bad", [0, -1, 99, 1.5, True])
def test_lora_layers_out_of_range_is_refused_with_the_valid_range(tiny_model_dir, bad):
    lm, tok = load_lm(str(tiny_model_dir))
    valid = rf"valid: null \(every block\) or an integer in \[1, {lm.config.num_hidden_layers}\]"
    with pytest.raises(ValueError, match=rf"lora_layers={bad!r} is not valid; {valid}"):
        TwosomeAgent(lm, tok, norm="word", lora_layers=bad)


def test_memoization_saves_forward_passes_in_a_rollout(tiny_model_dir):
    """Counted, not assumed. The toy task shows two states; a rollout of 8 decisions (of 2 environments
    each) without the memo makes a scoring forward and a critic forward per decision; with it, the distinct states
    are scored and featurized once (each a batch of both states at most)."""
    from toy_env import register

    from twosome.training.rollout import RolloutCollector
    from twosome.training.vector_env import make_vector_env

    counts = {}
    for memoize in (False, True):
        lm, tok = load_lm(str(tiny_model_dir))
        agent = TwosomeAgent(lm, tok, norm="word", memoize=memoize)
        calls = []
        lm.get_input_embeddings().register_forward_hook(lambda *_, calls=calls: calls.append(1))
        torch.manual_seed(0)
        RolloutCollector(make_vector_env(register(), 2), agent, num_steps=8, gamma=0.9, seed=0).collect()
        counts[memoize] = len(calls)
    assert counts[False] >= 2 * 8 and counts[True] <= 4, counts
