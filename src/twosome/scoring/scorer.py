"""Batched log-likelihood of candidate action texts given prompts, for any Hugging Face causal or seq2seq LM.

Prompt and candidate are tokenized separately and their ids concatenated (never re-tokenized together), so the
candidate's span is known exactly and is the same in rollouts and updates. Sequences are right-padded: real tokens
keep positions 0..n-1 and padding after them cannot influence them under the causal mask. An encoder-decoder
model (T5, as GLAM) reads the prompt in its encoder and the candidate in its decoder, after the start token.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from transformers import PreTrainedTokenizerBase

from twosome.scoring.normalization import normalize

SCORING_MODES = ("shared", "shared_repeat", "naive")


@dataclass
class CandidateBatch:
    """Token ids for B prompts and their C candidates (flattened; candidate j belongs to prompt ``owner[j]``)."""

    prompt_ids: list[list[int]]
    candidate_ids: list[list[int]]
    owner: torch.Tensor
    n_words: torch.Tensor
    counts: list[int]

    @property
    def n_tokens(self) -> torch.Tensor:
        return torch.tensor([len(c) for c in self.candidate_ids])


@dataclass
class CandidateScores:
    """Per-candidate summed log-probability with the counts the normalizations divide by."""

    logprob_sum: torch.Tensor
    n_tokens: torch.Tensor
    n_words: torch.Tensor
    owner: torch.Tensor
    counts: list[int]

    def normalized(self, mode: str) -> torch.Tensor:
        return normalize(
            self.logprob_sum, self.n_tokens.to(self.logprob_sum.device), self.n_words.to(self.logprob_sum.device), mode
        )

    def padded(self, values: torch.Tensor, fill: float = float("-inf")) -> torch.Tensor:
        """Scatter per-candidate ``values`` into a (B, max candidates) matrix, ``fill`` where a prompt has fewer."""
        width = max(self.counts)
        out = values.new_full((len(self.counts), width), fill)
        col = torch.cat([torch.arange(n) for n in self.counts]).to(values.device)
        return out.index_put((self.owner.to(values.device), col), values)


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
    ):
        if mode not in SCORING_MODES:
            raise ValueError(f"scorer mode {mode!r} is not valid; valid: {list(SCORING_MODES)}")
        self.mode = mode
        if tokenizer.pad_token_id is None:
            raise ValueError("the tokenizer needs a pad token (set tokenizer.pad_token) to batch sequences")
        self.tokenizer = tokenizer
        self.encoder_decoder = encoder_decoder
        if encoder_decoder:
            # The candidate is a decoder sequence of its own: no separator, decoding starts from the start token.
            self.separator = ""
            self.decoder_start = tokenizer.pad_token_id if decoder_start_token_id is None else decoder_start_token_id
        else:
            self.separator = _action_separator(tokenizer)
        self._prompt_cache: dict[str, list[int]] = {}
        self._action_cache: dict[str, list[int]] = {}
        self._cache_size = cache_size

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

    def encode(self, prompts: Sequence[str], candidates: Sequence[Sequence[str]]) -> CandidateBatch:
        if len(prompts) != len(candidates):
            raise ValueError(f"got {len(prompts)} prompts but {len(candidates)} candidate lists")
        for i, cands in enumerate(candidates):
            if len(cands) == 0:
                raise ValueError(f"prompt {i} has an empty candidate list; every prompt needs at least one action")
        flat = [a for cands in candidates for a in cands]
        return CandidateBatch(
            prompt_ids=[self.prompt_ids(p) for p in prompts],
            candidate_ids=[self.action_ids(a) for a in flat],
            owner=torch.repeat_interleave(torch.arange(len(prompts)), torch.tensor([len(c) for c in candidates])),
            n_words=torch.tensor([max(len(a.split()), 1) for a in flat]),
            counts=[len(c) for c in candidates],
        )

    def _pad(self, rows: list[list[int]], device) -> tuple[torch.Tensor, torch.Tensor]:
        """Right-pad id lists into (ids, attention mask)."""
        lengths = torch.tensor([len(r) for r in rows])
        flat = torch.tensor([t for r in rows for t in r], dtype=torch.long)
        mask = (torch.arange(int(lengths.max()))[None, :] < lengths[:, None]).long()
        ids = torch.full(mask.shape, self.tokenizer.pad_token_id, dtype=torch.long)
        ids[mask.bool()] = flat
        return ids.to(device), mask.to(device)

    def score(self, model, batch: CandidateBatch, mode: str | None = None) -> CandidateScores:
        """Summed log-probability of every candidate; gradients flow into whatever in ``model`` requires them.

        All modes give the same numbers (tests hold them to 1e-5). ``shared`` (default) encodes each prompt once
        and packs all its candidates into one row after the cached prompt, with a tree attention mask;
        ``shared_repeat`` instead repeats the prompt's cache once per candidate (simpler, slower with many
        actions); ``naive`` runs every prompt+candidate sequence in full, as the original TWOSOME did.
        """
        mode = mode or self.mode
        if mode not in SCORING_MODES:
            raise ValueError(f"scorer mode {mode!r} is not valid; valid: {list(SCORING_MODES)}")
        if self.encoder_decoder:
            logprob_sum = self._score_seq2seq(model, batch, share_encoder=mode != "naive")
            return CandidateScores(logprob_sum, batch.n_tokens, batch.n_words, batch.owner, batch.counts)
        has_prefix = max(len(p) for p in batch.prompt_ids) >= 2
        if mode == "shared" and has_prefix:
            logprob_sum = self._score_packed(model, batch)
        elif mode == "shared_repeat" and has_prefix:
            logprob_sum = self._score_repeat(model, batch)
        else:
            logprob_sum = self._score_naive(model, batch)
        return CandidateScores(logprob_sum, batch.n_tokens, batch.n_words, batch.owner, batch.counts)

    def _candidate_logprob(self, logits: torch.Tensor, targets: torch.Tensor, c_len: torch.Tensor) -> torch.Tensor:
        """Sum over each row's first ``c_len`` positions of log_softmax(logits)[target]."""
        valid = torch.arange(targets.shape[1], device=targets.device)[None, :] < c_len[:, None]
        token_logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets[..., None]).squeeze(-1)
        return (token_logp * valid).sum(-1)

    def _score_naive(self, model, batch: CandidateBatch) -> torch.Tensor:
        device = _device_of(model)
        owner = batch.owner.tolist()
        seqs = [batch.prompt_ids[o] + c for o, c in zip(owner, batch.candidate_ids)]
        ids, mask = self._pad(seqs, device)
        p_len = torch.tensor([len(batch.prompt_ids[o]) for o in owner], device=device)
        c_len = batch.n_tokens.to(device)
        # Only positions that predict candidate tokens need logits: keep one contiguous window for all rows.
        first = int(p_len.min()) - 1
        last = int((p_len + c_len).max()) - 1
        kwargs = {}
        offset = 0
        if _accepts_logits_to_keep(model):
            kwargs["logits_to_keep"] = torch.arange(first, last, device=device)
            offset = first
        logits = model(input_ids=ids, attention_mask=mask, **kwargs).logits
        steps = torch.arange(int(c_len.max()), device=device)
        pred_pos = (p_len[:, None] - 1 + steps[None, :]).clamp(max=ids.shape[1] - 2)  # position predicting token
        targets = ids.gather(1, pred_pos + 1)
        picked = logits.gather(1, (pred_pos - offset)[..., None].expand(-1, -1, logits.shape[-1]))
        return self._candidate_logprob(picked, targets, c_len)

    def _score_repeat(self, model, batch: CandidateBatch) -> torch.Tensor:
        """Prefix pass over the prompts minus their last token (cached), then one pass over the candidates.

        The candidate pass feeds [last prompt token, candidate tokens but the last]: its logits at step k predict
        candidate token k. The cache rows are gathered per candidate inside the graph, so in updates the gradient
        reaches the adapters through the prompt's keys and values too. Right-padded prefixes leave masked holes
        in the cache; candidate positions are set explicitly to continue each prompt.
        """
        device = _device_of(model)
        prefix_ids, prefix_mask = self._pad([p[:-1] for p in batch.prompt_ids], device)
        out = model(input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True, **self._one_logit(model))
        cache = out.past_key_values
        owner = batch.owner.to(device)
        cache.batch_select_indices(owner)
        owner_list = batch.owner.tolist()
        inputs = [[batch.prompt_ids[o][-1]] + c[:-1] for o, c in zip(owner_list, batch.candidate_ids)]
        cand_ids, cand_mask = self._pad(inputs, device)
        targets, _ = self._pad(batch.candidate_ids, device)
        p_len = torch.tensor([len(batch.prompt_ids[o]) for o in owner_list], device=device)
        positions = p_len[:, None] - 1 + torch.arange(cand_ids.shape[1], device=device)[None, :]
        logits = model(
            input_ids=cand_ids,
            attention_mask=torch.cat([prefix_mask[owner], cand_mask], dim=1),
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
        ).logits
        return self._candidate_logprob(logits, targets, batch.n_tokens.to(device))

    def _score_packed(self, model, batch: CandidateBatch) -> torch.Tensor:
        """Prefix pass (cached) as in ``_score_repeat``, then each prompt's candidates packed into one row.

        A 4D mask lets each candidate token see the prompt and the earlier tokens of its own candidate only
        (tree attention); positions restart at the prompt's end for every candidate.
        """
        device = _device_of(model)
        prefix_ids, prefix_mask = self._pad([p[:-1] for p in batch.prompt_ids], device)
        out = model(input_ids=prefix_ids, attention_mask=prefix_mask, use_cache=True, **self._one_logit(model))
        owner = batch.owner.tolist()
        rows: list[list[int]] = [[] for _ in batch.prompt_ids]
        seg_rows: list[list[int]] = [[] for _ in batch.prompt_ids]
        pos_rows: list[list[int]] = [[] for _ in batch.prompt_ids]
        for j, (o, c) in enumerate(zip(owner, batch.candidate_ids)):
            rows[o] += [batch.prompt_ids[o][-1]] + c[:-1]
            seg_rows[o] += [j] * len(c)
            pos_rows[o] += list(range(len(batch.prompt_ids[o]) - 1, len(batch.prompt_ids[o]) - 1 + len(c)))
        ids, mask = self._pad(rows, device)
        seg, _ = self._pad_values(seg_rows, -1, device)
        pos, _ = self._pad_values(pos_rows, 0, device)
        length = ids.shape[1]
        same = seg[:, :, None] == seg[:, None, :]
        causal = torch.ones(length, length, dtype=torch.bool, device=device).tril()
        own = same & causal[None] & (seg[:, :, None] >= 0)
        own = own | torch.eye(length, dtype=torch.bool, device=device)[None]  # padded queries see themselves
        see_prompt = prefix_mask.bool()[:, None, :].expand(-1, length, -1)
        allowed = torch.cat([see_prompt, own], dim=2)[:, None]
        attn = allowed if model.config._attn_implementation == "sdpa" else _additive(allowed, model.dtype)
        logits = model(
            input_ids=ids, attention_mask=attn, position_ids=pos, past_key_values=out.past_key_values, use_cache=True
        ).logits
        targets_rows = [
            [t for o2, c in zip(owner, batch.candidate_ids) if o2 == o for t in c] for o in range(len(rows))
        ]
        targets, _ = self._pad(targets_rows, device)
        token_logp = torch.log_softmax(logits.float(), -1).gather(-1, targets[..., None]).squeeze(-1)
        valid = seg >= 0
        flat_seg = seg[valid]
        return torch.zeros(len(batch.candidate_ids), device=device, dtype=token_logp.dtype).index_add(
            0, flat_seg, token_logp[valid]
        )

    def _score_seq2seq(self, model, batch: CandidateBatch, share_encoder: bool) -> torch.Tensor:
        """Encoder over the prompts, decoder over [start, candidate but its last token] predicting the candidate.

        ``share_encoder`` encodes each prompt once and gathers its output per candidate inside the graph (gradients
        reach the encoder's adapters from every candidate); otherwise every (prompt, candidate) pair is encoded.
        """
        device = _device_of(model)
        owner = batch.owner.to(device)
        if share_encoder:
            enc_ids, enc_mask = self._pad(batch.prompt_ids, device)
            hidden = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask).last_hidden_state
            hidden, enc_mask = hidden[owner], enc_mask[owner]
        else:
            enc_ids, enc_mask = self._pad([batch.prompt_ids[o] for o in batch.owner.tolist()], device)
            hidden = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask).last_hidden_state
        dec_ids, dec_mask = self._pad([[self.decoder_start] + c[:-1] for c in batch.candidate_ids], device)
        targets, _ = self._pad(batch.candidate_ids, device)
        logits = model(
            encoder_outputs=(hidden,),
            attention_mask=enc_mask,
            decoder_input_ids=dec_ids,
            decoder_attention_mask=dec_mask,
        ).logits
        return self._candidate_logprob(logits, targets, batch.n_tokens.to(device))

    def _pad_values(self, rows: list[list[int]], fill: int, device) -> tuple[torch.Tensor, torch.Tensor]:
        lengths = torch.tensor([len(r) for r in rows])
        mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
        out = torch.full(mask.shape, fill, dtype=torch.long)
        out[mask] = torch.tensor([t for r in rows for t in r], dtype=torch.long)
        return out.to(device), mask.to(device)

    @staticmethod
    def _one_logit(model) -> dict:
        return {"logits_to_keep": 1} if _accepts_logits_to_keep(model) else {}

    def prompt_features(self, model, prompt_ids: list[list[int]]) -> torch.Tensor:
        """Final hidden state at each prompt's last real token (not a pad token), shape (B, hidden).

        For an encoder-decoder: the decoder's final hidden state at its first position (GLAM's value head input).
        """
        device = _device_of(model)
        if self.encoder_decoder:
            ids, mask = self._pad(prompt_ids, device)
            start = torch.full((len(prompt_ids), 1), self.decoder_start, dtype=torch.long, device=device)
            out = model(input_ids=ids, attention_mask=mask, decoder_input_ids=start, output_hidden_states=True)
            return out.decoder_hidden_states[-1][:, 0].float()
        ids, mask = self._pad(prompt_ids, device)
        out = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, **self._one_logit(model))
        last = mask.sum(1) - 1
        hidden = out.hidden_states[-1]
        return hidden[torch.arange(len(prompt_ids), device=device), last].float()


def _additive(allowed: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, torch.finfo(dtype).min)


def _device_of(model) -> torch.device:
    return next(model.parameters()).device


_LOGITS_TO_KEEP: dict[type, bool] = {}


def _accepts_logits_to_keep(model) -> bool:
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    cls = type(base)
    if cls not in _LOGITS_TO_KEEP:
        _LOGITS_TO_KEEP[cls] = "logits_to_keep" in inspect.signature(cls.forward).parameters
    return _LOGITS_TO_KEEP[cls]
