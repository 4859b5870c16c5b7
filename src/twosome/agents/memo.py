"""Values keyed by (prompt, valid actions), computed once per distinct key: states repeat within a batch and,
while the weights are fixed, across a rollout."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence

from twosome.agents.observation import ObsBatch


def candidate_keys(obs: ObsBatch) -> list[tuple[str, tuple[str, ...]]]:
    """One key per row: its prompt and its valid actions' texts (what a text policy's output depends on)."""
    return [
        (prompt, tuple(a for a, ok in zip(acts, mask.tolist()) if ok))
        for prompt, acts, mask in zip(obs.prompts, obs.actions, obs.action_mask)
    ]


def prompts_and_actions(keys: list[tuple[str, tuple[str, ...]]]) -> tuple[list[str], list[list[str]]]:
    """``candidate_keys``' keys as the scorer's ``encode`` takes them: the prompts, and each prompt's actions."""
    return [prompt for prompt, _ in keys], [list(actions) for _, actions in keys]


class Memo:
    """A bounded dict; cleared when full (the values are recomputable)."""

    def __init__(self, max_size: int):
        self.max_size = max_size
        self.values: dict = {}

    def get_many(self, keys: Sequence[Hashable], compute: Callable[[list], list], remember: bool = True) -> list:
        """The value of every key; ``compute`` runs once, on the distinct keys not yet known. ``remember``: keep
        what was computed (False while gradients flow: the values depend on weights about to change)."""
        known = self.values if remember else {}
        todo = [k for k in dict.fromkeys(keys) if k not in known]
        computed = dict(zip(todo, compute(todo))) if todo else {}
        if remember and computed:
            if len(self.values) + len(computed) > self.max_size:
                self.values.clear()
            self.values.update(computed)
        return [computed[k] if k in computed else known[k] for k in keys]

    def put_many(self, keys: Sequence[Hashable], values: Sequence) -> None:
        if len(self.values) + len(keys) > self.max_size:
            self.values.clear()
        self.values.update(zip(keys, values))
