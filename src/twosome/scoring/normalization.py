"""TWOSOME's normalizations of an action's summed token log-probability."""

from __future__ import annotations

import torch

NORMALIZATIONS = ("none", "token", "word", "trie")  # trie: scoring/trie.py (token-level methods)


def normalize(logprob_sum: torch.Tensor, n_tokens: torch.Tensor, n_words: torch.Tensor, mode: str) -> torch.Tensor:
    """``none``: the sum (favours short actions); ``token``: per token; ``word``: per word (TWOSOME's best)."""
    if mode == "none":
        return logprob_sum
    if mode == "token":
        return logprob_sum / n_tokens.to(logprob_sum.dtype)
    if mode == "word":
        return logprob_sum / n_words.to(logprob_sum.dtype)
    if mode == "trie":
        raise ValueError("the trie normalization needs the candidates' tokens: use CandidateScores.normalized('trie')")
    raise ValueError(f"normalization {mode!r} is not valid; valid: {list(NORMALIZATIONS)}")
