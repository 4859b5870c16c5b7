"""An LM that writes its action instead of scoring a list (issue 31, ``agent=generate``): the measure of the
misalignment TWOSOME starts from. After the same prompt TWOSOME scores, the LM (with a trained run's adapter, or
without) generates up to the end of the line or ``max_new_tokens``, greedily or sampled (``decoding``); the text
becomes the valid action it names after normalization (``match_action``), or the extra "invalid" index that the
environment's ``InvalidAsNoOp`` wrapper turns into a decision that does nothing. Evaluation only: the policy is the
generation itself, a distribution with all its mass on the chosen index.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.distributions import Categorical

from twosome.agents.base import EvaluationOnly
from twosome.agents.observation import ObsBatch

DECODINGS = ("greedy", "sample")  # sample: each token drawn from the LM's distribution at ``temperature``
ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_action_text(text: str) -> str:
    """Case, spaces, articles and surrounding punctuation do not distinguish actions: "Pick up  the Tomato." and
    "pick up tomato" are one action."""
    text = ARTICLES.sub(" ", text.lower())
    return " ".join(text.strip().strip(".,;:!?\"'").split())


def match_action(text: str, actions: Sequence[str], mask: Sequence[bool] | None = None) -> int | None:
    """The index of the valid action whose normalized text equals ``text``'s (the first, if several), else None."""
    wanted = normalize_action_text(text)
    for i, action in enumerate(actions):
        if (mask is None or mask[i]) and normalize_action_text(action) == wanted:
            return i
    return None


class GenerateAgent(EvaluationOnly):
    def __init__(
        self,
        lm,
        tokenizer,
        max_new_tokens: int = 16,
        decoding: str = "greedy",
        temperature: float = 1.0,
        adapter: str | None = None,
        top_invalid: int = 10,
    ):
        super().__init__()
        if max_new_tokens < 1:
            raise ValueError(f"agent.policy.max_new_tokens={max_new_tokens} is not valid; valid: an integer >= 1")
        if decoding not in DECODINGS:
            raise ValueError(f"agent.policy.decoding={decoding!r} is not valid; valid: {list(DECODINGS)}")
        if temperature <= 0:
            raise ValueError(f"agent.policy.temperature={temperature} is not valid; valid: > 0")
        if adapter is not None:
            from peft import PeftModel

            if not (Path(adapter) / "adapter_config.json").is_file():
                raise ValueError(
                    f"agent.policy.adapter={adapter!r} holds no adapter_config.json: give a run's adapter/"
                )
            lm = PeftModel.from_pretrained(lm, adapter)
        self.lm, self.tokenizer = lm.eval(), tokenizer
        self.max_new_tokens, self.sample, self.temperature = max_new_tokens, decoding == "sample", temperature
        self.top_invalid = top_invalid
        self.decisions, self.invalid_texts = 0, Counter()

    @torch.no_grad()
    def generate(self, prompts: list[str]) -> list[str]:
        """Each prompt's continuation up to the end of its first line (leading spaces dropped)."""
        tok = self.tokenizer
        side, tok.padding_side = tok.padding_side, "left"  # generation continues every row from its last token
        try:
            batch = tok([p.rstrip(" ") for p in prompts], return_tensors="pt", padding=True)
        finally:
            tok.padding_side = side
        device = next(self.lm.parameters()).device
        out = self.lm.generate(
            **batch.to(device),
            max_new_tokens=self.max_new_tokens,
            do_sample=self.sample,
            temperature=self.temperature if self.sample else None,
            top_k=None,
            top_p=None,
            pad_token_id=tok.pad_token_id,
        )
        texts = tok.batch_decode(out[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
        return [t.lstrip().split("\n")[0] for t in texts]

    def distribution(self, obs: ObsBatch) -> Categorical:
        """All mass on the action each text names, or on index ``width`` (invalid) where it names none."""
        texts = self.generate(obs.prompts)
        width = obs.action_mask.shape[1]
        probs = torch.zeros(len(obs), width + 1)
        for i, text in enumerate(texts):
            n = len(obs.actions[i])
            chosen = match_action(text, obs.actions[i], obs.action_mask[i, :n].tolist())
            if chosen is None:
                self.invalid_texts[text] += 1
                chosen = n  # the environment's extra index (InvalidAsNoOp)
            probs[i, chosen] = 1.0
        self.decisions += len(obs)
        return Categorical(probs=probs)

    def report(self) -> dict:
        """For the run's summary: the decisions generated, the share that named no valid action, and the most
        frequent invalid texts with their counts (every evaluation of the run together)."""
        invalid = sum(self.invalid_texts.values())
        return {
            "generate/decisions": self.decisions,
            "generate/invalid_rate": invalid / self.decisions if self.decisions else float("nan"),
            "generate/top_invalid_texts": [[t, c] for t, c in self.invalid_texts.most_common(self.top_invalid)],
        }
