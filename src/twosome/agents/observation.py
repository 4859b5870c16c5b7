"""What an agent reads at one decision: the batch of observations of N environments."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class ObsBatch:
    """What the environments show at one decision, for N environments.

        ``vectors`` is the symbolic observation (None where the environment has none: text-only agents do not need
    it); ``prompts`` and ``actions`` the text (TWOSOME reads these);
        ``action_mask[i, a]`` says whether action index a is valid in environment i.
    """

    prompts: list[str]
    actions: list[list[str]]
    action_mask: torch.Tensor
    vectors: torch.Tensor | None = None

    def __len__(self) -> int:
        return len(self.prompts)

    def select(self, idx) -> ObsBatch:
        idx = [int(i) for i in idx]
        return ObsBatch(
            vectors=None if self.vectors is None else self.vectors[idx],
            prompts=[self.prompts[i] for i in idx],
            actions=[self.actions[i] for i in idx],
            action_mask=self.action_mask[idx],
        )

    @staticmethod
    def concat(batches: list[ObsBatch]) -> ObsBatch:
        width = max(b.action_mask.shape[1] for b in batches)
        masks = [nn.functional.pad(b.action_mask, (0, width - b.action_mask.shape[1])) for b in batches]
        return ObsBatch(
            vectors=None if any(b.vectors is None for b in batches) else torch.cat([b.vectors for b in batches]),
            prompts=[p for b in batches for p in b.prompts],
            actions=[a for b in batches for a in b.actions],
            action_mask=torch.cat(masks),
        )
