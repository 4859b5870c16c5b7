"""The forwards that score candidates, one per (model kind, kernel), in one table: a new model family adds rows to
``KERNELS`` and ``ActionScorer`` dispatches through it. Every kernel returns the same ``KernelOutput`` and the same
numbers (tests/test_scorer.py holds them to 1e-5 against one forward per sequence):

    token_logprobs (C, L), token_ids (C, L), token_mask (C, L), prompt_hidden (B, H) | None, token_hidden | None

A kernel is ``kernel(ctx, model, batch, hidden)``: ``ctx`` (``KernelContext``) is the little it needs of the scorer
(the pad and decoder start tokens, the trunk cache); it knows nothing else of it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from twosome.scoring.batch import CandidateBatch, KernelContext, KernelOutput, pad
from twosome.scoring.row_adapters import rows_through

Kernel = Callable[[KernelContext, object, CandidateBatch, bool], KernelOutput]


def token_logprobs(logits: torch.Tensor, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """log_softmax(logits)[target] at every (candidate, token), zero where ``mask`` is False."""
    token_logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, targets[..., None]).squeeze(-1)
    return token_logp * mask


def first_of_each_prompt(batch: CandidateBatch) -> torch.Tensor:
    """Index of each prompt's first candidate (its rows share the prompt's hidden state)."""
    return torch.tensor([0, *batch.counts[:-1]]).cumsum(0)


# --- causal LMs -------------------------------------------------------------------------------------------------


def causal_naive(ctx: KernelContext, model, batch: CandidateBatch, hidden: bool):
    """Every prompt+candidate sequence in full, as the original TWOSOME did."""
    device = device_of(model)
    owner = batch.owner.tolist()
    seqs = [batch.prompt_ids[o] + c for o, c in zip(owner, batch.candidate_ids)]
    ids, mask = pad(seqs, device, ctx.pad_id)
    p_len = torch.tensor([len(batch.prompt_ids[o]) for o in owner], device=device)
    targets, t_mask = pad(batch.candidate_ids, device, ctx.pad_id)
    # Only positions that predict candidate tokens need logits: keep one contiguous window for all rows.
    pred_pos = p_len[:, None] - 1 + torch.arange(targets.shape[1], device=device)[None, :]
    pred_pos = pred_pos.clamp(max=ids.shape[1] - 1)
    trunk = ctx.trunk_rows(model, lambda: ([("naive", tuple(q)) for q in seqs], [len(q) for q in seqs]))
    with trunk, rows_through(model, batch.candidate_rows()):
        out = model(input_ids=ids, attention_mask=mask.long(), output_hidden_states=hidden, **window(model, pred_pos))
    first = int(pred_pos.min()) if accepts_logits_to_keep(model) else 0
    picked = out.logits.gather(1, (pred_pos - first)[..., None].expand(-1, -1, out.logits.shape[-1]))
    token_logp = token_logprobs(picked, targets, t_mask)
    if not hidden:
        return KernelOutput(token_logp, targets, t_mask, None, None)
    h = out.hidden_states[-1]
    token_hidden = h.gather(1, pred_pos[..., None].expand(-1, -1, h.shape[-1]))
    return KernelOutput(
        token_logp, targets, t_mask, token_hidden[first_of_each_prompt(batch).to(device), 0], token_hidden
    )


@dataclass
class TreeLayout:
    """Each prompt's candidates packed into one row (shared scoring): the row's token ids, the candidate each
    position belongs to (-1: the prompt), the positions the model sees, and per candidate the row positions that
    predict its tokens. Token 0 of a candidate is predicted where its row holds the prompt's last token; token k > 0
    where the row holds its own token k - 1."""

    rows: list[list[int]] = field(default_factory=list)
    segments: list[list[int]] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    predicting: list[list[int]] = field(default_factory=list)

    def tensors(self, ctx: KernelContext, device, padding_segment: int) -> tuple[torch.Tensor, ...]:
        """Right-padded (ids, segments, positions, predicting positions) and the rows' causal mask (L, L);
        ``padding_segment``: the segment of padding (a value no query of a real token attends to)."""
        ids, _ = pad(self.rows, device, ctx.pad_id)
        seg, _ = pad(self.segments, device, padding_segment)
        pos, _ = pad(self.positions, device, 0)
        pred_pos, _ = pad(self.predicting, device, 0)
        length = ids.shape[1]
        return ids, seg, pos, pred_pos, torch.ones(length, length, dtype=torch.bool, device=device).tril()


def tree_layout(batch: CandidateBatch, with_prompt: bool) -> TreeLayout:
    """``with_prompt``: every row begins with its whole prompt, which all its candidates see (one pass). Otherwise
    the prompt but its last token is in a KV cache, and every candidate's segment begins with its own copy of the
    prompt's last token (prefix cache)."""
    layout = TreeLayout()
    for p in batch.prompt_ids:
        layout.rows.append(list(p) if with_prompt else [])
        layout.segments.append([-1] * len(p) if with_prompt else [])
        layout.positions.append(list(range(len(p))) if with_prompt else [])
    for j, (o, c) in enumerate(zip(batch.owner.tolist(), batch.candidate_ids)):
        prompt, start = batch.prompt_ids[o], len(layout.rows[o])
        segment = c[:-1] if with_prompt else [prompt[-1], *c[:-1]]
        first_position = len(prompt) - (0 if with_prompt else 1)
        layout.predicting.append([len(prompt) - 1] * with_prompt + list(range(start, start + len(segment))))
        layout.rows[o] += segment
        layout.segments[o] += [j] * len(segment)
        layout.positions[o] += range(first_position, first_position + len(segment))
    return layout


def causal_prefix_cache(ctx: KernelContext, model, batch: CandidateBatch, hidden: bool):
    """Prompts minus their last token run once with a KV cache (causal attention, its fast path); then one row per
    prompt holds, for each of its candidates, [the prompt's last token, the candidate but its last token], attending
    to the cache and to its own earlier tokens (tree mask), with positions that continue the prompt."""
    device = device_of(model)
    prefix_ids, prefix_mask = pad([p[:-1] for p in batch.prompt_ids], device, ctx.pad_id)
    with rows_through(model, batch.prompt_rows()):
        out = model(input_ids=prefix_ids, attention_mask=prefix_mask.long(), use_cache=True, **no_logits(model, device))
    layout = tree_layout(batch, with_prompt=False)
    ids, seg, pos, pred_pos, causal = layout.tensors(ctx, device, padding_segment=-1)
    length = ids.shape[1]
    own = (seg[:, :, None] == seg[:, None, :]) & causal[None] & (seg[:, :, None] >= 0)
    own = own | torch.eye(length, dtype=torch.bool, device=device)[None]  # padded queries see themselves
    allowed = torch.cat([prefix_mask[:, None, :].expand(-1, length, -1), own], dim=2)[:, None]
    with rows_through(model, batch.prompt_rows()):
        out = model(
            input_ids=ids,
            attention_mask=attention(model, allowed),
            position_ids=pos,
            use_cache=True,
            **continue_from(model, out),
            output_hidden_states=hidden,
        )
    owner = batch.owner.to(device)
    targets, t_mask = pad(batch.candidate_ids, device, ctx.pad_id)
    token_logp = token_logprobs(out.logits[owner[:, None], pred_pos], targets, t_mask)
    if not hidden:
        return KernelOutput(token_logp, targets, t_mask, None, None)
    h = out.hidden_states[-1]  # position 0 of every row is its first candidate's copy of the last prompt token
    return KernelOutput(token_logp, targets, t_mask, h[:, 0], h[owner[:, None], pred_pos])


def causal_one_pass(ctx: KernelContext, model, batch: CandidateBatch, hidden: bool):
    """One row per prompt: [prompt, c_1[:-1], c_2[:-1], ...] through one forward (an FSDP-sharded block may run
    only once per graph; small calls are cheaper so too)."""
    device = device_of(model)
    layout = tree_layout(batch, with_prompt=True)
    ids, seg, pos, pred_pos, causal = layout.tensors(ctx, device, padding_segment=-2)
    sees = (seg[:, None, :] == -1) | (seg[:, :, None] == seg[:, None, :])  # the prompt, or its own candidate
    allowed = (sees & causal[None])[:, None]

    def packed_rows():  # a row: its prompt and all its candidates, as packed
        owners = batch.owner.tolist()
        keys = [
            ("packed", tuple(p), tuple(tuple(c) for o, c in zip(owners, batch.candidate_ids) if o == i))
            for i, p in enumerate(batch.prompt_ids)
        ]
        return keys, [len(r) for r in layout.rows]

    head = output_head(model)
    with ctx.trunk_rows(model, packed_rows), rows_through(model, batch.prompt_rows()):
        out = model(
            input_ids=ids,
            attention_mask=attention(model, allowed),
            position_ids=pos,
            output_hidden_states=hidden or head is not None,
            **(no_logits(model, device) if head is not None else window(model, pred_pos)),
        )
    owner = batch.owner.to(device)
    if head is not None:  # logits at the predicting positions only, not over a window of every row
        gathered = out.hidden_states[-1][owner[:, None], pred_pos]  # (C, L, H)
        # as one 2-D product: a 3-D input in bfloat16 takes a batched path on the CPU that copies the head's weight
        picked = head(gathered.reshape(-1, gathered.shape[-1])).view(*gathered.shape[:2], -1)
    else:
        first = int(pred_pos.min()) if accepts_logits_to_keep(model) else 0
        picked = out.logits[owner[:, None], pred_pos - first]  # (C, L, V): each candidate reads its prompt's row
    targets, t_mask = pad(batch.candidate_ids, device, ctx.pad_id)
    token_logp = token_logprobs(picked, targets, t_mask)
    if not hidden:
        return KernelOutput(token_logp, targets, t_mask, None, None)
    h = out.hidden_states[-1]
    p_last = torch.tensor([len(p) - 1 for p in batch.prompt_ids], device=device)
    prompt_hidden = h[torch.arange(len(layout.rows), device=device), p_last]
    return KernelOutput(token_logp, targets, t_mask, prompt_hidden, h[owner[:, None], pred_pos])


# --- encoder-decoder LMs (T5, as GLAM) ----------------------------------------------------------------------------


def seq2seq_shared(ctx: KernelContext, model, batch: CandidateBatch, hidden: bool):
    """Encoder once per prompt, its output gathered per candidate inside the graph (gradients reach the encoder's
    adapters from every candidate); decoder over [start, candidate but its last token]."""
    device = device_of(model)
    enc_ids, enc_mask = pad(batch.prompt_ids, device, ctx.pad_id)
    with rows_through(model, batch.prompt_rows()):
        encoded = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask.long()).last_hidden_state
    owner = batch.owner.to(device)
    return _decode(ctx, model, batch, encoded[owner], enc_mask[owner], hidden)


def seq2seq_naive(ctx: KernelContext, model, batch: CandidateBatch, hidden: bool):
    """Every (prompt, candidate) pair encoded on its own."""
    device = device_of(model)
    enc_ids, enc_mask = pad([batch.prompt_ids[o] for o in batch.owner.tolist()], device, ctx.pad_id)
    with rows_through(model, batch.candidate_rows()):
        encoded = model.get_encoder()(input_ids=enc_ids, attention_mask=enc_mask.long()).last_hidden_state
    return _decode(ctx, model, batch, encoded, enc_mask, hidden)


def _decode(ctx: KernelContext, model, batch: CandidateBatch, encoded, enc_mask, hidden: bool):
    device = encoded.device
    dec_ids, dec_mask = pad([[ctx.decoder_start] + c[:-1] for c in batch.candidate_ids], device, ctx.pad_id)
    with rows_through(model, batch.candidate_rows()):
        out = model(
            encoder_outputs=(encoded,),
            attention_mask=enc_mask.long(),
            decoder_input_ids=dec_ids,
            decoder_attention_mask=dec_mask.long(),
            output_hidden_states=hidden,
        )
    targets, t_mask = pad(batch.candidate_ids, device, ctx.pad_id)
    token_logp = token_logprobs(out.logits, targets, t_mask)
    if not hidden:
        return KernelOutput(token_logp, targets, t_mask, None, None)
    h = out.decoder_hidden_states[-1]
    return KernelOutput(token_logp, targets, t_mask, h[first_of_each_prompt(batch).to(device), 0], h)


#: (model kind, kernel) -> kernel. ``causal``/``shared`` chooses between its two rows per call (ActionScorer).
KERNELS: dict[tuple[str, str], Kernel] = {
    ("causal", "naive"): causal_naive,
    ("causal", "one_pass"): causal_one_pass,
    ("causal", "prefix_cache"): causal_prefix_cache,
    ("seq2seq", "naive"): seq2seq_naive,
    ("seq2seq", "shared"): seq2seq_shared,
}


# --- what the kernels ask of a model ------------------------------------------------------------------------------


def attention(model, allowed: torch.Tensor) -> torch.Tensor:
    """A boolean mask (True: may attend) as the model's attention implementation takes it."""
    if model.config._attn_implementation == "sdpa":
        return allowed
    dtype = model.dtype
    return torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, torch.finfo(dtype).min)


def window(model, pred_pos: torch.Tensor) -> dict:
    """Ask for logits at the positions from the first that predicts a candidate token to the end only."""
    if not accepts_logits_to_keep(model):
        return {}
    first = int(pred_pos.min())
    return {"logits_to_keep": torch.arange(first, int(pred_pos.max()) + 1, device=pred_pos.device)}


def no_logits(model, device) -> dict:
    """For a call that reads hidden states only: the model computes no logits. An index (here empty), not the int
    ``logits_to_keep=1``, whose slice of the hidden states is not contiguous: in bfloat16 on the CPU the LM head then
    takes a batched matmul that copies its 49,152 x 576 weight once per row (SmolLM2: a third of a policy step)."""
    return {"logits_to_keep": torch.empty(0, dtype=torch.long, device=device)} if accepts_logits_to_keep(model) else {}


def is_sharded(model) -> bool:
    """Whether FSDP2 sharded ``model`` or a module inside it (a block then may run only once per graph)."""
    from torch.distributed.fsdp import FSDPModule

    return any(isinstance(m, FSDPModule) for m in model.modules())


def output_head(model):
    """The LM head, for logits at chosen positions only (rows of different prompt lengths predict at different
    columns: a window of positions shared by all rows holds mostly positions nobody reads). None where the head is
    adapted (its LoRA rows would not be the call's) or the model cannot skip its own logits."""
    from peft.tuners.lora import LoraLayer

    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    head = base.get_output_embeddings() if hasattr(base, "get_output_embeddings") else None
    if head is None or isinstance(head, LoraLayer) or not accepts_logits_to_keep(model):
        return None
    return head


def device_of(model) -> torch.device:
    return next(model.parameters()).device


_ACCEPTS: dict[tuple[type, str], bool] = {}


def accepts(model, argument: str) -> bool:
    """Whether the (base) model's ``forward`` takes ``argument``: transformers' arguments differ across releases."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    key = (type(base), argument)
    if key not in _ACCEPTS:
        _ACCEPTS[key] = argument in inspect.signature(type(base).forward).parameters
    return _ACCEPTS[key]


def accepts_logits_to_keep(model) -> bool:
    return accepts(model, "logits_to_keep")


def continue_from(model, out) -> dict:
    """The KV cache of ``out`` as the next call's argument: ``cache`` where transformers names it so (5.x, where
    ``past_key_values`` is deprecated and warns on every call), ``past_key_values`` before."""
    return {"cache": out.cache} if accepts(model, "cache") else {"past_key_values": out.past_key_values}
