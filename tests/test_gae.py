"""GAE against values computed by hand: termination, truncation bootstrapping, macro-action discounts."""

from __future__ import annotations

import pytest
import torch

from twosome.rl.gae import compute_gae


def col(*xs):
    return torch.tensor(xs, dtype=torch.float64)[:, None]


def test_single_step_termination_has_no_bootstrap():
    adv, ret = compute_gae(col(1.0), col(0.4), col(0.0), col(1.0), col(0.99), 0.95)
    assert adv.item() == pytest.approx(0.6)
    assert ret.item() == pytest.approx(1.0)


def test_three_steps_by_hand():
    g, lam = 0.9, 0.5
    r, v = [1.0, 0.0, 2.0], [0.5, 0.2, 0.1]
    bootstrap = 0.3  # episode continues past the rollout
    next_v = [v[1], v[2], bootstrap]
    d = [r[t] + g * next_v[t] - v[t] for t in range(3)]
    a2 = d[2]
    a1 = d[1] + g * lam * a2
    a0 = d[0] + g * lam * a1
    adv, ret = compute_gae(col(*r), col(*v), col(*next_v), col(0, 0, 0), col(g, g, g), lam)
    assert adv[:, 0].tolist() == pytest.approx([a0, a1, a2])
    assert ret[:, 0].tolist() == pytest.approx([a0 + v[0], a1 + v[1], a2 + v[2]])


def test_macro_steps_discount_by_gamma_to_the_steps_taken():
    """A macro action of 3 primitive steps discounts the next value by gamma^3 (TWOSOME's in-macro discount)."""
    g, lam = 0.99, 0.95
    r, v = [0.2, 1.0], [0.1, 0.7]
    disc = [g**3, g**5]
    d1 = r[1] + disc[1] * 0.0 - v[1]  # terminated
    d0 = r[0] + disc[0] * v[1] - v[0]
    adv, _ = compute_gae(col(*r), col(*v), col(v[1], 0.0), col(0, 1), col(*disc), lam)
    assert adv[:, 0].tolist() == pytest.approx([d0 + disc[0] * lam * d1, d1])


def test_truncation_bootstraps_from_final_observation_and_cuts_the_chain():
    """At a time limit the target uses V(final obs); the next decision belongs to a new episode."""
    g, lam = 0.99, 0.95
    r, v = [0.0, 0.5], [0.3, 0.9]  # v[1] is the first state of the NEXT episode
    v_final = 0.8  # value of the observation the truncated episode stopped at
    adv, _ = compute_gae(col(*r), col(*v), col(v_final, 0.4), col(1, 0), col(g, g), lam)
    assert adv[0, 0].item() == pytest.approx(r[0] + g * v_final - v[0])  # no leak from the next episode
    assert adv[1, 0].item() == pytest.approx(r[1] + g * 0.4 - v[1])


def test_environments_are_independent_columns():
    rewards = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    values = torch.zeros(2, 2)
    adv, _ = compute_gae(
        rewards, values, torch.zeros(2, 2), torch.tensor([[0.0, 0.0], [1.0, 1.0]]), torch.full((2, 2), 0.5), 1.0
    )
    assert adv[:, 0].tolist() == pytest.approx([1.0, 0.0])
    assert adv[:, 1].tolist() == pytest.approx([0.5, 1.0])
