"""BAD (token-level GAE) against ordinary GAE and against values computed by hand."""

from __future__ import annotations

import pytest
import torch

from twosome.rl.bad import compute_token_gae
from twosome.rl.gae import compute_gae


def test_one_token_actions_are_ordinary_gae_exactly():
    torch.manual_seed(0)
    T, N = 7, 3
    rewards, values, next_values = torch.randn(T, N), torch.randn(T, N), torch.randn(T, N)
    ends = (torch.rand(T, N) < 0.3).float()
    discounts = 0.99 ** torch.randint(1, 4, (T, N)).float()
    adv, ret = compute_gae(rewards, values, next_values, ends, discounts, 0.95)
    token_adv, token_ret = compute_token_gae(
        rewards, values[..., None], torch.ones(T, N, 1, dtype=torch.bool), next_values, ends, discounts, 0.95
    )
    assert torch.equal(token_adv[..., 0], adv) and torch.equal(token_ret[..., 0], ret)


def test_two_decisions_by_hand():
    """Decision 0: a 2-token action (values 1.0, 2.0), reward 1, discount 0.9; decision 1: a 1-token action (value
    3.0), reward 0, terminates. lambda = 0.5, token gamma 1 (BAD)."""
    token_values = torch.tensor([[[1.0, 2.0]], [[3.0, 0.0]]])  # (T=2, N=1, K=2)
    mask = torch.tensor([[[True, True]], [[True, False]]])
    rewards = torch.tensor([[1.0], [0.0]])
    next_values = torch.tensor([[3.0], [0.0]])  # V(s_1) = 3; terminal after decision 1
    ends = torch.tensor([[0.0], [1.0]])
    discounts = torch.tensor([[0.9], [0.9]])
    adv, ret = compute_token_gae(rewards, token_values, mask, next_values, ends, discounts, gae_lambda=0.5)
    a_1 = 0.0 + 0.9 * 0.0 - 3.0  # terminal: delta = r - V
    a_0_last = (1.0 + 0.9 * 3.0 - 2.0) + 0.9 * 0.5 * a_1  # last token of decision 0 backs up from s_1
    a_0_first = (1.0 * 2.0 - 1.0) + 1.0 * 0.5 * a_0_last  # inside the action: no reward, gamma 1
    expected = torch.tensor([[[a_0_first, a_0_last]], [[a_1, 0.0]]])
    torch.testing.assert_close(adv, expected)
    torch.testing.assert_close(ret, (expected + token_values) * mask)


def test_token_gamma_discounts_inside_the_action_for_ntpo():
    token_values = torch.tensor([[[1.0, 2.0]]])
    mask = torch.ones(1, 1, 2, dtype=torch.bool)
    one = torch.ones(1, 1)
    adv, _ = compute_token_gae(one, token_values, mask, 0 * one, one, one, gae_lambda=1.0, token_gamma=0.5)
    assert adv[0, 0, 1].item() == pytest.approx(1.0 - 2.0)
    assert adv[0, 0, 0].item() == pytest.approx((0.5 * 2.0 - 1.0) + 0.5 * (1.0 - 2.0))


def test_an_action_without_tokens_is_an_error():
    with pytest.raises(ValueError, match="at least one token"):
        compute_token_gae(
            *(torch.zeros(1, 1),),
            torch.zeros(1, 1, 1),
            torch.zeros(1, 1, 1, dtype=torch.bool),
            torch.zeros(1, 1),
            torch.zeros(1, 1),
            torch.ones(1, 1),
            0.9,
        )
