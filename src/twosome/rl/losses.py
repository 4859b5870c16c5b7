"""PPO's losses and diagnostics, named as in cleanrl."""

from __future__ import annotations

import torch


def normalize_advantages(adv: torch.Tensor) -> torch.Tensor:
    if adv.numel() < 2:
        return adv
    return (adv - adv.mean()) / (adv.std() + 1e-8)


def policy_loss(
    new_logprob: torch.Tensor, old_logprob: torch.Tensor, advantages: torch.Tensor, clip_coef: float
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Clipped surrogate objective (to minimise) and its diagnostics: approx_kl (k3 estimator), clipfrac."""
    logratio = new_logprob - old_logprob
    ratio = logratio.exp()
    pg_loss1 = -advantages * ratio
    pg_loss2 = -advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    loss = torch.max(pg_loss1, pg_loss2).mean()
    with torch.no_grad():
        stats = {
            "old_approx_kl": (-logratio).mean(),
            "approx_kl": ((ratio - 1) - logratio).mean(),
            "clipfrac": ((ratio - 1.0).abs() > clip_coef).float().mean(),
        }
    return loss, stats


def reference_kl(logits: torch.Tensor, ref_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """KL(pi || pi_ref) per row, exact over the valid actions (a candidate list is small enough to sum over, where a
    vocabulary is not: verl's low_var_kl estimates this from the sampled token). (N, A) logits; ``mask``: valid."""
    logp, ref_logp = torch.log_softmax(logits, -1), torch.log_softmax(ref_logits, -1)
    terms = logp.exp() * (logp - ref_logp)
    return torch.where(mask.to(terms.device), terms, torch.zeros_like(terms)).sum(-1)


def value_loss(
    new_value: torch.Tensor, old_value: torch.Tensor, returns: torch.Tensor, clip_coef: float | None
) -> torch.Tensor:
    """0.5 * MSE, optionally clipped around the rollout's values (PPO2 style, used by TWOSOME and GLAM)."""
    unclipped = (new_value - returns) ** 2
    if clip_coef is None:
        return 0.5 * unclipped.mean()
    clipped = old_value + torch.clamp(new_value - old_value, -clip_coef, clip_coef)
    return 0.5 * torch.max(unclipped, (clipped - returns) ** 2).mean()


def explained_variance(y_pred: torch.Tensor, y_true: torch.Tensor) -> float:
    var_y = torch.var(y_true)
    return float("nan") if var_y == 0 else float(1 - torch.var(y_true - y_pred) / var_y)
