"""PPO's clipped objectives behave as the paper's equations say."""

from __future__ import annotations

import math

import pytest
import torch

from twosome.rl.losses import explained_variance, normalize_advantages, policy_loss, value_loss


def test_policy_loss_clips_positive_advantage_above_one_plus_eps():
    old = torch.log(torch.tensor([0.5]))
    new = torch.log(torch.tensor([0.9])).requires_grad_(True)  # ratio 1.8
    loss, stats = policy_loss(new, old, torch.tensor([1.0]), clip_coef=0.2)
    assert loss.item() == pytest.approx(-1.2)
    loss.backward()
    assert new.grad.abs().item() == 0.0  # clipped: no gradient pushes further
    assert stats["clipfrac"].item() == 1.0


def test_policy_loss_unclipped_inside_trust_region():
    old = torch.log(torch.tensor([0.5, 0.5]))
    new = torch.log(torch.tensor([0.55, 0.45]))
    adv = torch.tensor([1.0, -2.0])
    loss, stats = policy_loss(new, old, adv, clip_coef=0.2)
    assert loss.item() == pytest.approx(-(1.1 * 1.0 + 0.9 * -2.0) / 2)
    assert stats["clipfrac"].item() == 0.0
    ratio = torch.tensor([1.1, 0.9])
    assert stats["approx_kl"].item() == pytest.approx(((ratio - 1) - ratio.log()).mean().item(), rel=1e-5)


def test_value_loss_clipping_takes_the_pessimistic_branch():
    new, old, ret = torch.tensor([1.0]), torch.tensor([0.0]), torch.tensor([1.0])
    assert value_loss(new, old, ret, None).item() == pytest.approx(0.0)
    # clipped prediction is 0.2, error 0.8: max(0, 0.64) / 2
    assert value_loss(new, old, ret, 0.2).item() == pytest.approx(0.32)


def test_advantage_normalization_and_explained_variance():
    a = normalize_advantages(torch.tensor([1.0, 2.0, 3.0, 4.0]))
    assert a.mean().item() == pytest.approx(0.0, abs=1e-6)
    assert a.std().item() == pytest.approx(1.0, rel=1e-5)
    y = torch.tensor([1.0, 2.0, 3.0])
    assert explained_variance(y, y) == pytest.approx(1.0)
    assert math.isnan(explained_variance(y, torch.ones(3)))
