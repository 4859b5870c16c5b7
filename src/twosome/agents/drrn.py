"""A from-scratch text agent in the manner of DRRN (He et al. 2016; GLAM's own baseline): learned word embeddings,
one GRU encoding the observation's text and one each action's, and a small network scoring each (observation,
action) pair; a value head on the observation's encoding. Trained by the same PPO over the same candidate list as
TWOSOME, it is the test of "the LLM's prior helps" where no symbolic vector exists (TextWorld).

Words are hashed into ``vocab_buckets`` embedding rows (lowercased runs of letters and digits, each punctuation mark
a word): no vocabulary is built or stored, so the agent runs on every environment, its unseen tasks included
(a new word lands in some bucket, as an unknown word would in a built vocabulary).
"""

from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path

import torch
from torch import nn
from torch.distributions import Categorical
from torch.nn.utils.rnn import pack_padded_sequence, pad_sequence

from twosome.agents.base import ActorCritic, masked_categorical, mlp
from twosome.agents.observation import ObsBatch

WORD = re.compile(r"[a-z0-9]+|[^\sa-z0-9]")
WEIGHTS = "drrn_agent.pt"


@functools.lru_cache(maxsize=65536)
def bucket(word: str, buckets: int) -> int:
    """A word's embedding row: a stable hash (Python's own ``hash`` changes from process to process)."""
    return int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little") % buckets


class TextEncoder(nn.Module):
    """Word ids -> the GRU's last hidden state (an empty text encodes as the GRU's initial state, zeros)."""

    def __init__(self, embedding: nn.Embedding, hidden: int):
        super().__init__()
        self.embedding = embedding
        self.gru = nn.GRU(embedding.embedding_dim, hidden, batch_first=True)

    def forward(self, ids: list[torch.Tensor]) -> torch.Tensor:
        device = self.embedding.weight.device
        lengths = torch.tensor([max(len(x), 1) for x in ids])
        padded = pad_sequence([x if len(x) else torch.zeros(1, dtype=torch.long) for x in ids], batch_first=True)
        embedded = self.embedding(padded.to(device))
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        _, last = self.gru(packed)
        return last[0]


class DRRNAgent(ActorCritic):
    """pi(a | s): softmax over the valid actions of ``scorer([enc_obs(s); enc_act(a)])``; V(s): ``critic(enc(s))``.
    The critic has its own observation encoder (as cleanrl's separate actor and critic): the value phase and the
    policy phase each step only their own parameters."""

    def __init__(self, vocab_buckets: int = 8192, embedding_dim: int = 64, hidden: int = 128, max_words: int = 256):
        super().__init__()
        for name, value in (("vocab_buckets", vocab_buckets), ("embedding_dim", embedding_dim), ("hidden", hidden),
                            ("max_words", max_words)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"agent.policy.{name}={value!r} is not valid; valid: an integer >= 1")
        self.buckets, self.max_words = int(vocab_buckets), int(max_words)
        self.actor_embedding = nn.Embedding(self.buckets, embedding_dim)
        self.obs_encoder = TextEncoder(self.actor_embedding, hidden)
        self.action_encoder = TextEncoder(self.actor_embedding, hidden)
        self.scorer = mlp([2 * hidden, hidden, 1])
        self.critic_embedding = nn.Embedding(self.buckets, embedding_dim)
        self.critic_encoder = TextEncoder(self.critic_embedding, hidden)
        self.critic = mlp([hidden, hidden, 1])

    def ids(self, text: str, keep_last: bool) -> torch.Tensor:
        """Word ids of ``text``; a prompt longer than ``max_words`` keeps its end (where the decision is asked)."""
        words = WORD.findall(text.lower())
        words = words[-self.max_words :] if keep_last else words[: self.max_words]
        return torch.tensor([bucket(w, self.buckets) for w in words], dtype=torch.long)

    def distribution(self, obs: ObsBatch) -> Categorical:
        state = self.obs_encoder([self.ids(p, keep_last=True) for p in obs.prompts])  # (N, H)
        mask = obs.action_mask.bool()
        rows, slots = mask.nonzero(as_tuple=True)  # only the valid actions are encoded and scored
        texts = [obs.actions[r][s] for r, s in zip(rows.tolist(), slots.tolist(), strict=True)]
        actions = self.action_encoder([self.ids(t, keep_last=False) for t in texts])  # (V, H)
        scores = self.scorer(torch.cat([state[rows.to(state.device)], actions], dim=-1)).squeeze(-1)
        logits = torch.zeros(mask.shape, dtype=scores.dtype, device=scores.device)
        logits[rows.to(scores.device), slots.to(scores.device)] = scores
        return masked_categorical(logits, mask)

    def value(self, obs: ObsBatch) -> torch.Tensor:
        state = self.critic_encoder([self.ids(p, keep_last=True) for p in obs.prompts])
        return self.critic(state).squeeze(-1)

    def policy_parameters(self) -> list[nn.Parameter]:
        return [*self.actor_embedding.parameters(), *self.obs_encoder.gru.parameters(),
                *self.action_encoder.gru.parameters(), *self.scorer.parameters()]  # fmt: skip

    def value_parameters(self) -> list[nn.Parameter]:
        return [*self.critic_embedding.parameters(), *self.critic_encoder.gru.parameters(), *self.critic.parameters()]

    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        state = state_dict if state_dict is not None else self.state_dict()
        torch.save({k: v.detach().cpu() for k, v in state.items()}, Path(directory) / WEIGHTS)

    def load(self, directory: str | Path) -> None:
        self.load_state_dict(torch.load(Path(directory) / WEIGHTS, weights_only=True))
