"""What the scorer hands its kernels (twosome.scoring.kernels) and what they hand back: the token ids of a call
(``CandidateBatch``), the little the kernels need of the scorer (``KernelContext``), right-padding (``pad``) and a
kernel's output (``KernelOutput``). Kernels and scorer both import this; neither imports the other's class."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, NamedTuple

import torch


@dataclass
class CandidateBatch:
    """Token ids for B prompts and their C candidates (flattened; candidate j belongs to prompt ``owner[j]``).
    ``adapters``: the LoRA adapter each prompt (and its candidates) is scored through (None: the active one), so
    that one forward serves several runs that share a base model (``row_adapters``)."""

    prompt_ids: list[list[int]]
    candidate_ids: list[list[int]]
    owner: torch.Tensor
    n_words: torch.Tensor
    counts: list[int]
    adapters: list[str] | None = None

    def prompt_rows(self) -> list[str] | None:
        """The adapter of each row of a call with one row per prompt."""
        return self.adapters

    def candidate_rows(self) -> list[str] | None:
        """The adapter of each row of a call with one row per candidate."""
        return None if self.adapters is None else [self.adapters[o] for o in self.owner.tolist()]

    @property
    def n_tokens(self) -> torch.Tensor:
        return torch.tensor([len(c) for c in self.candidate_ids])


@dataclass(frozen=True)
class KernelContext:
    """What a kernel needs of the scorer: the pad token, an encoder-decoder's decoder start token, and the trunk
    cache around a forward (``trunk_rows(model, rows)``: a context manager; ``rows()`` gives the call's row keys and
    lengths, built only when a cache is used)."""

    pad_id: int | None
    decoder_start: int | None
    trunk_rows: Callable[[Any, Callable[[], tuple[list[Hashable], list[int]]]], Any]


class KernelOutput(NamedTuple):
    """Per-token log-probabilities of every candidate (C, L), the candidates' token ids and mask (C, L), and with
    ``hidden`` the final hidden states at each prompt (B, H) and at each candidate's predicting positions (C, L, H)."""

    token_logprobs: torch.Tensor
    token_ids: torch.Tensor
    token_mask: torch.Tensor
    prompt_hidden: torch.Tensor | None
    token_hidden: torch.Tensor | None


def pad(rows: list[list[int]], device, fill: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad int lists into (values, bool mask)."""
    lengths = torch.tensor([len(r) for r in rows])
    mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
    out = torch.full(mask.shape, fill, dtype=torch.long)
    out[mask] = torch.tensor([t for r in rows for t in r], dtype=torch.long)
    return out.to(device), mask.to(device)
