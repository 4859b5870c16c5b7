"""Token-level advantages by Bellman backup with Action Decomposition (BAD; Wen et al. 2024, "Reinforcing LLM
Agents via Policy Optimization with Action Decomposition", arXiv 2405.15821).

An action of K tokens is K token-level steps. Between the tokens of one action there is no reward and the discount
is ``token_gamma`` (1 in BAD: the tokens are one environment step); the action's last token receives the
environment's reward and the macro-action discount (gamma ** primitive steps), and backs up from the value of the
next state. GAE's lambda-return runs over this token sequence. ``token_gamma = gamma`` gives NTPO (every token an
action). With one-token actions both are ordinary GAE (``rl/gae.py``), which the tests check exactly.
"""

from __future__ import annotations

import torch


def compute_token_gae(
    rewards: torch.Tensor,
    token_values: torch.Tensor,
    token_mask: torch.Tensor,
    next_values: torch.Tensor,
    episode_ends: torch.Tensor,
    discounts: torch.Tensor,
    gae_lambda: float,
    token_gamma: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(advantages, returns)`` shaped (T, N, K), zero where ``token_mask`` is False.

    - ``rewards``, ``next_values``, ``episode_ends``, ``discounts``: (T, N), as for ``compute_gae`` (``next_values[t]``
      is V of the state after decision t: 0 at termination, V(final observation) at truncation).
    - ``token_values[t, n, k]``: V(s_t, first k tokens of the chosen action), (T, N, K); ``token_mask`` marks the
      action's real tokens (each action has at least one, left-aligned).
    """
    T, N, K = token_values.shape
    mask = token_mask.bool()
    n_tokens = mask.sum(-1)
    if (n_tokens < 1).any():
        raise ValueError("every chosen action needs at least one token in token_mask")
    advantages = torch.zeros_like(token_values)
    following = torch.zeros(N, dtype=token_values.dtype)  # advantage at the first token of decision t + 1
    for t in reversed(range(T)):
        inner_next = torch.zeros(N, dtype=token_values.dtype)  # advantage at token k + 1 of this action
        for k in reversed(range(K)):
            last = k == n_tokens[t] - 1
            value = token_values[t, :, k]
            value_after = token_values[t, :, k + 1] if k + 1 < K else torch.zeros_like(value)
            # the action's last token: the environment's reward and discount, then the next state
            delta_last = rewards[t] + discounts[t] * next_values[t] - value
            adv_last = delta_last + discounts[t] * gae_lambda * (1.0 - episode_ends[t]) * following
            # a token inside the action: no reward, token_gamma, then the same state with one more token
            delta_inner = token_gamma * value_after - value
            adv_inner = delta_inner + token_gamma * gae_lambda * inner_next
            adv = torch.where(last, adv_last, adv_inner) * mask[t, :, k]
            advantages[t, :, k] = adv
            inner_next = adv
        following = advantages[t, :, 0]
    return advantages, (advantages + token_values) * mask
