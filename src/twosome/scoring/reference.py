"""The obviously correct scorer: one forward per (prompt, action), log_softmax, gather. Used to test the fast ones."""

from __future__ import annotations

import torch


@torch.no_grad()
def reference_logprobs(model, prompt_ids: list[int], candidate_ids: list[int]) -> float:
    """Sum of log P(candidate token | prompt and earlier candidate tokens), computed with no batching at all."""
    ids = torch.tensor([prompt_ids + candidate_ids])
    logits = model(input_ids=ids).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    total = 0.0
    for k, token in enumerate(candidate_ids):
        total += logp[len(prompt_ids) + k - 1, token].item()
    return total
