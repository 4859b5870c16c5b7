"""The obviously correct scorer: one forward per (prompt, action), log_softmax, gather. Used to test the fast ones."""

from __future__ import annotations

import torch


@torch.no_grad()
def reference_logprobs(model, prompt_ids: list[int], candidate_ids: list[int]) -> float:
    """Sum of log P(candidate token | prompt and earlier candidate tokens), computed with no batching at all.

    Encoder-decoder models read the prompt in the encoder and [start, candidate] in the decoder.
    """
    if getattr(model.config, "is_encoder_decoder", False):
        decoder = [model.config.decoder_start_token_id, *candidate_ids[:-1]]
        logits = model(input_ids=torch.tensor([prompt_ids]), decoder_input_ids=torch.tensor([decoder])).logits[0]
        logp = torch.log_softmax(logits.float(), dim=-1)
        return sum(logp[k, token].item() for k, token in enumerate(candidate_ids))
    ids = torch.tensor([prompt_ids + candidate_ids])
    logits = model(input_ids=ids).logits[0].float()
    logp = torch.log_softmax(logits, dim=-1)
    total = 0.0
    for k, token in enumerate(candidate_ids):
        total += logp[len(prompt_ids) + k - 1, token].item()
    return total
