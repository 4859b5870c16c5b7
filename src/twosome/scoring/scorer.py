"""Batched log-likelihood of candidate action texts given prompts, for any Hugging Face causal or seq2seq LM.

Prompt and candidate are tokenized separately and their ids concatenated (never re-tokenized together), so the
candidate's span is known exactly and is the same in rollouts and updates. Sequences are right-padded: real tokens
keep positions 0..n-1 and padding after them cannot influence them under the causal mask. An encoder-decoder
model (T5, as GLAM) reads the prompt in its encoder and the candidate in its decoder, after the start token.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from twosome.scoring.batch import CandidateBatch, KernelContext, pad
from twosome.scoring.kernels import KERNELS, device_of, is_sharded, no_logits
from twosome.scoring.normalization import normalize
from twosome.scoring.row_adapters import rows_through
from twosome.scoring.trie import trie_logprobs
from twosome.scoring.trunk_cache import TrunkCache

SCORING_MODES = ("shared", "naive")
SHARED_KERNELS = ("auto", "one_pass", "prefix_cache")


@dataclass
class CandidateScores:
    """Log-probability of every token of every candidate, and what derives from it.

    ``token_logprobs[j, k]`` is log P(token k of candidate j | prompt, its tokens before k), right-padded with
    zeros where ``token_mask`` is False. Sums, normalizations and token-level methods all read this one matrix.
    With ``hidden=True`` the scorer also returns the final hidden states it computed on the way: at each prompt's
    last token (``prompt_hidden``, (B, H): a critic's input) and at the position that predicts each candidate token
    (``token_hidden``, (C, L, H): a token-level critic's input).
    """

    token_logprobs: torch.Tensor
    token_mask: torch.Tensor
    token_ids: torch.Tensor
    n_words: torch.Tensor
    owner: torch.Tensor
    counts: list[int]
    prompt_hidden: torch.Tensor | None = None
    token_hidden: torch.Tensor | None = None

    @property
    def logprob_sum(self) -> torch.Tensor:
        return self.token_logprobs.sum(-1)

    @property
    def n_tokens(self) -> torch.Tensor:
        return self.token_mask.sum(-1)

    def restricted_token_logprobs(self) -> torch.Tensor:
        """Per-token log-probabilities of the LM restricted to the candidate list (``scoring/trie.py``)."""
        return trie_logprobs(self.token_logprobs, self.token_mask, self.token_ids, self.owner)

    def normalized(self, mode: str) -> torch.Tensor:
        """none / token / word (TWOSOME's); trie: the log-probability of the candidate under the restricted token
        policy, already a distribution over each prompt's candidates."""
        if mode == "trie":
            return self.restricted_token_logprobs().sum(-1)
        return normalize(self.logprob_sum, self.n_tokens, self.n_words.to(self.token_logprobs.device), mode)


def _action_separator(tokenizer: PreTrainedTokenizerBase) -> str:
    """The text to put before an action so that its separate tokenization equals 'prompt' + ' ' + action.

    Byte-level BPE (GPT-2, Llama 3, Qwen) needs an explicit leading space; SentencePiece with a dummy prefix
    (Llama 1/2, T5) adds one itself. Decide by which form reproduces the tail of a joint tokenization.
    """
    joint = tokenizer("cook the tomato", add_special_tokens=False)["input_ids"]
    for sep in (" ", ""):
        alone = tokenizer(sep + "tomato", add_special_tokens=False)["input_ids"]
        if alone and joint[-len(alone) :] == alone:
            return sep
    return " "


class ActionScorer:
    """Tokenize (prompt, candidates) batches once, with caches, and score them with a causal LM.

    It knows nothing of environments: prompts and candidate texts are plain strings.
    """

    def __init__(
        self,
        tokenizer: PreTrainedTokenizerBase,
        mode: str = "shared",
        cache_size: int = 200_000,
        encoder_decoder: bool = False,
        decoder_start_token_id: int | None = None,
        shared_kernel: str = "auto",
    ):
        if mode not in SCORING_MODES:
            raise ValueError(f"scorer mode {mode!r} is not valid; valid: {list(SCORING_MODES)}")
        if shared_kernel not in SHARED_KERNELS:
            raise ValueError(f"shared_kernel={shared_kernel!r} is not valid; valid: {list(SHARED_KERNELS)}")
        self.mode, self.shared_kernel = mode, shared_kernel
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer needs a pad token (set tokenizer.pad_token) to batch sequences")
        self.tokenizer = tokenizer
        self.encoder_decoder = encoder_decoder
        self.kind = "seq2seq" if encoder_decoder else "causal"  # its rows of twosome.scoring.kernels.KERNELS
        if encoder_decoder:
            # The candidate is a decoder sequence of its own: no separator, decoding starts from the start token.
            self.separator = ""
            self.decoder_start = tokenizer.pad_token_id if decoder_start_token_id is None else decoder_start_token_id
        else:
            self.separator = _action_separator(tokenizer)
            self.decoder_start = None
        self._prompt_cache: dict[str, list[int]] = {}
        self._action_cache: dict[str, list[int]] = {}
        self._cache_size = cache_size
        #: The frozen trunk's hidden states per row (``trunk_cache``), set by an agent that adapts only the top
        #: blocks of a causal LM; None: every call runs every block.
        self.trunk: TrunkCache | None = None

    def trunk_rows(self, model, rows: Callable[[], tuple[list[Hashable], list[int]]]):
        """Around a forward: the trunk cache, where it applies. ``rows()`` gives the call's row keys and lengths
        (built only when a cache is used)."""
        if self.trunk is None or is_sharded(model):
            return contextlib.nullcontext()
        return self.trunk.rows_of(*rows())

    @classmethod
    def for_model(cls, model, tokenizer: PreTrainedTokenizerBase, mode: str = "shared", **kwargs) -> ActionScorer:
        """A scorer set up for ``model``'s kind (causal, or encoder-decoder with its decoder start token)."""
        config = model.get_base_model().config if hasattr(model, "get_base_model") else model.config
        if getattr(config, "is_encoder_decoder", False):
            kwargs.update(encoder_decoder=True, decoder_start_token_id=config.decoder_start_token_id)
        return cls(tokenizer, mode=mode, **kwargs)

    def _cached(self, cache: dict[str, list[int]], text: str, **kwargs) -> list[int]:
        ids = cache.get(text)
        if ids is None:
            ids = self.tokenizer(text, **kwargs)["input_ids"]
            if len(cache) >= self._cache_size:
                cache.clear()
            cache[text] = ids
        return ids

    def prompt_ids(self, prompt: str) -> list[int]:
        """Token ids of ``prompt`` as scored: trailing spaces dropped for a causal LM (see ``scored_text``)."""
        return self._cached(self._prompt_cache, self.scored_prompt(prompt))

    def scored_prompt(self, prompt: str) -> str:
        """The prompt text the action follows. A causal LM reads exactly one space between prompt and action:
        the separator (or the tokenizer's word-initial marker) supplies it, so spaces that end the prompt
        ("Action 2: ") are dropped, as they would be merged into the action's first token in running text."""
        return prompt if self.encoder_decoder else prompt.rstrip(" ")

    def scored_text(self, prompt: str, action: str) -> str:
        """The text whose likelihood the scorer computes for ``action`` after ``prompt`` (for checks and docs)."""
        if self.encoder_decoder:
            return action
        return self.scored_prompt(prompt) + (self.separator or " ") + action

    def action_ids(self, action: str) -> list[int]:
        ids = self._cached(self._action_cache, self.separator + action, add_special_tokens=False)
        if not ids:
            raise ValueError(f"action text {action!r} tokenizes to nothing; an action needs at least one token")
        return ids

    def encode(
        self, prompts: Sequence[str], candidates: Sequence[Sequence[str]], adapters: Sequence[str] | None = None
    ) -> CandidateBatch:
        if len(prompts) != len(candidates):
            raise ValueError(f"got {len(prompts)} prompts but {len(candidates)} candidate lists")
        if adapters is not None and len(adapters) != len(prompts):
            raise ValueError(f"got {len(prompts)} prompts but {len(adapters)} adapter names; one per prompt")
        for i, cands in enumerate(candidates):
            if len(cands) == 0:
                raise ValueError(f"prompt {i} has an empty candidate list; every prompt needs at least one action")
        flat = [a for cands in candidates for a in cands]
        prompt_ids = [self.prompt_ids(p) for p in prompts]
        if not self.encoder_decoder and not all(prompt_ids):
            empty = [p for p, ids in zip(prompts, prompt_ids) if not ids]
            raise ValueError(f"prompt {empty[0]!r} tokenizes to nothing; a causal LM needs a token to predict from")
        return CandidateBatch(
            prompt_ids=prompt_ids,
            candidate_ids=[self.action_ids(a) for a in flat],
            owner=torch.repeat_interleave(torch.arange(len(prompts)), torch.tensor([len(c) for c in candidates])),
            n_words=torch.tensor([max(len(a.split()), 1) for a in flat]),
            counts=[len(c) for c in candidates],
            adapters=None if adapters is None else list(adapters),
        )

    def score(self, model, batch: CandidateBatch, mode: str | None = None, hidden: bool = False) -> CandidateScores:
        """Per-token log-probabilities of every candidate; gradients flow into whatever in ``model`` requires them.

        All modes give the same numbers (tests hold them to 1e-5). ``shared`` (default) encodes each prompt once and
        packs all its candidates into one row after it, with a tree attention mask (each candidate sees the prompt
        and its own earlier tokens) and positions that restart after the prompt for each candidate. Two kernels do
        this: on one process the prompt runs first with a KV cache (causal attention, its fast path) and the
        candidates after it (``prefix_cache``); on an FSDP-sharded model, where a block may run only once per
        graph, prompt and candidates go through one forward (``one_pass``). ``naive`` runs every prompt+candidate
        sequence in full, as the original TWOSOME did. An encoder-decoder encodes each prompt once (``shared``) or
        once per candidate (``naive``). ``hidden``: also return the final hidden states (see CandidateScores).
        """
        mode = mode or self.mode
        if mode not in SCORING_MODES:
            raise ValueError(f"scorer mode {mode!r} is not valid; valid: {list(SCORING_MODES)}")
        kernel = KERNELS[self.kind, self._kernel_name(model, batch, mode)]
        out = kernel(
            KernelContext(self.tokenizer.pad_token_id, self.decoder_start, self.trunk_rows), model, batch, hidden
        )
        return CandidateScores(
            out.token_logprobs,
            out.token_mask,
            out.token_ids,
            batch.n_words,
            batch.owner,
            batch.counts,
            out.prompt_hidden,
            out.token_hidden,
        )

    #: Below this many prompt tokens per call, ``auto`` takes the one-pass kernel on one process too: one forward
    #: costs less than two when calls are small; above it, the prefix pass's causal fast path wins (BENCHMARKS.md).
    one_pass_max_prompt_tokens = 2048

    def _kernel_name(self, model, batch: CandidateBatch, mode: str) -> str:
        """The ``KERNELS`` row for this call: the mode, but a causal LM's shared scoring has two kernels."""
        if self.kind != "causal" or mode == "naive":
            return mode
        if self.shared_kernel != "auto":
            return self.shared_kernel
        if self.trunk is not None:  # one row per state, one cache entry; the prefix pass's gain was the trunk's
            return "one_pass"
        lengths = [len(p) for p in batch.prompt_ids]
        small = min(lengths) < 2 or sum(lengths) <= self.one_pass_max_prompt_tokens
        return "one_pass" if small or is_sharded(model) else "prefix_cache"

    def prompt_features(
        self, model, prompt_ids: list[list[int]], adapters: Sequence[str] | None = None
    ) -> torch.Tensor:
        """Final hidden state at each prompt's last real token (not a pad token), shape (B, hidden); ``adapters``: the
        LoRA adapter of each prompt (None: the active one).

        For an encoder-decoder: the decoder's final hidden state at its first position (GLAM's value head input).
        """
        device = device_of(model)
        ids, mask = pad(prompt_ids, device, self.tokenizer.pad_token_id)
        if self.encoder_decoder:
            start = torch.full((len(prompt_ids), 1), self.decoder_start, dtype=torch.long, device=device)
            with rows_through(model, adapters):
                out = model(
                    input_ids=ids, attention_mask=mask.long(), decoder_input_ids=start, output_hidden_states=True
                )
            return out.decoder_hidden_states[-1][:, 0].float()
        rows = lambda: ([("prompt", tuple(p)) for p in prompt_ids], [len(p) for p in prompt_ids])  # noqa: E731
        trunk = self.trunk_rows(model, rows)
        with trunk, rows_through(model, adapters):
            out = model(
                input_ids=ids, attention_mask=mask.long(), output_hidden_states=True, **no_logits(model, device)
            )
        last = mask.sum(1) - 1
        return out.hidden_states[-1][torch.arange(len(prompt_ids), device=device), last].float()
