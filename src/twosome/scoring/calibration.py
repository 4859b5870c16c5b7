"""Calibrated action scores: each action's score minus its score after a content-free prompt, the prompt's closing
phrase alone (domain-conditional PMI, Holtzman et al. 2021; contextual calibration, Zhao et al. 2021).

Summed log-likelihoods favour short actions, and token-normalized ones keep a bias of their own: what an action's
words cost whatever the state. Subtracting the score the same LM gives the action after the closing phrase alone
("your next step is to", "you should first", "Action 0:") leaves what the state adds. The offsets come from the
frozen LM (no adapter), one forward per distinct (phrase, action) pair, computed once and kept for the run: each is
computed alone, so its value never depends on which other pairs were new in the same batch.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

CALIBRATIONS = ("none", "premise")  # premise: subtract the score after the prompt's closing phrase


def closing_phrase(prompt: str) -> str:
    """The prompt's last sentence or line: the phrase each action completes ("... your next step is to"), the
    domain premise of Holtzman et al. The whole prompt when it has no sentence break."""
    cut = max(prompt.rfind(". "), prompt.rfind("\n"))
    return prompt[cut + 1 :].lstrip() if cut >= 0 else prompt


class ContentFreeOffsets:
    """The offsets of the actions of each (prompt, actions) key, memoized per (closing phrase, action).
    ``score_alone(phrase, action)``: the frozen LM's normalized score of ``action`` after ``phrase``."""

    def __init__(self, score_alone: Callable[[str, str], float]):
        self.score_alone = score_alone
        self.known: dict[tuple[str, str], float] = {}

    def __call__(self, keys: Sequence[tuple[str, tuple[str, ...]]]) -> list[torch.Tensor]:
        out = []
        for prompt, actions in keys:
            phrase = closing_phrase(prompt)
            for action in actions:
                if (phrase, action) not in self.known:
                    self.known[(phrase, action)] = float(self.score_alone(phrase, action))
            out.append(torch.tensor([self.known[(phrase, a)] for a in actions]))
        return out
