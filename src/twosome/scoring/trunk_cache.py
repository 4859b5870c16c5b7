"""The frozen trunk, computed once per row (LoRA on the top blocks only, as in the LoRA-blocks check).

When LoRA adapts only the blocks from ``first`` upward (``agent.policy.lora_layers``), the hidden states entering
block ``first`` depend on the row's tokens, positions and attention mask alone: they are the same in the rollout, the
value phase and every policy minibatch and epoch, and for a state that repeats, in every later update. The cache keeps
them per row (the scorer's key says what the row is: its kernel's layout of one prompt and its candidates), bounded in
bytes, least recently used out, in the base model's dtype. A call whose rows are all known runs only blocks
``first``.. (the lower blocks pass their input through); any other call runs every block and keeps what block
``first`` received. No gradient is lost: nothing below block ``first`` is trained.

Off under FSDP: a sharded block's forward is a collective every rank makes together, and ranks' caches differ.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict
from collections.abc import Hashable, Sequence

import torch
from torch import nn


class TrunkCache:
    """Hidden states at the input of block ``first`` of ``blocks`` (the model's repeated blocks, in order), per row
    key, at most ``max_mb`` megabytes."""

    def __init__(self, first: int, max_mb: float, blocks: Sequence[nn.Module]):
        if first < 1:
            raise ValueError(f"first={first}: with every block adapted there is no frozen trunk to cache")
        self.first, self.max_bytes, self.blocks = int(first), int(max_mb * 2**20), list(blocks)
        self.rows: OrderedDict[Hashable, torch.Tensor] = OrderedDict()
        self.bytes = 0
        self.hits = self.misses = 0

    def get(self, key: Hashable) -> torch.Tensor | None:
        value = self.rows.get(key)
        if value is not None:
            self.rows.move_to_end(key)
        return value

    def put(self, key: Hashable, value: torch.Tensor) -> None:
        size = value.numel() * value.element_size()
        if size > self.max_bytes:
            return
        old = self.rows.pop(key, None)
        if old is not None:
            self.bytes -= old.numel() * old.element_size()
        while self.rows and self.bytes + size > self.max_bytes:
            _, dropped = self.rows.popitem(last=False)
            self.bytes -= dropped.numel() * dropped.element_size()
        self.rows[key] = value
        self.bytes += size

    def clear(self) -> None:
        self.rows.clear()
        self.bytes = 0

    @contextlib.contextmanager
    def rows_of(self, keys: Sequence[Hashable], lengths: Sequence[int]):
        """Around one forward of the model whose row ``i`` is ``keys[i]`` with ``lengths[i]`` real positions."""
        blocks = self.blocks
        known = [self.get(k) for k in keys]
        if all(v is not None for v in known):
            self.hits += len(keys)
            with _skip_trunk(blocks, self.first, known):
                yield
            return
        self.misses += len(keys)
        seen: list[torch.Tensor] = []

        def keep(block, args, kwargs):
            seen.append((args[0] if args else kwargs["hidden_states"]).detach())

        handle = blocks[self.first].register_forward_pre_hook(keep, with_kwargs=True)
        try:
            yield
        finally:
            handle.remove()
        if seen:
            for key, row, length in zip(keys, seen[0], lengths):
                self.put(key, row[:length].clone())


@contextlib.contextmanager
def _skip_trunk(blocks: list[nn.Module], first: int, rows: list[torch.Tensor]):
    """Blocks below ``first`` return their input; block ``first`` receives the cached rows (right-padded)."""
    length = max(r.shape[0] for r in rows)
    hidden = rows[0].new_zeros(len(rows), length, rows[0].shape[-1])
    for i, r in enumerate(rows):
        hidden[i, : r.shape[0]] = r

    def cached(block, args, kwargs):
        if args:
            return (hidden.to(args[0].device), *args[1:]), kwargs
        return args, {**kwargs, "hidden_states": hidden.to(kwargs["hidden_states"].device)}

    def passthrough(hidden_states, *args, **kwargs):
        return hidden_states

    for block in blocks[:first]:
        block.forward = passthrough
    handle = blocks[first].register_forward_pre_hook(cached, with_kwargs=True)
    try:
        yield
    finally:
        handle.remove()
        for block in blocks[:first]:
            del block.forward
