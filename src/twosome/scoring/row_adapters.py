"""Rows of one forward pass through different LoRA adapters of one base model (seeds batched through one
frozen LM, each row through its own run's adapter; the idea of S-LoRA/punica's batched LoRA).

peft computes such a mixed batch in every LoRA layer when the layer's forward receives ``adapter_names`` (one name
per row: the base output once, then each adapter's low-rank term on its own rows). Its model-level switch refuses a
model in training mode and cannot reach an encoder called on its own (T5's, in the scorer); this hook gives the
names to every LoRA layer for exactly one call, whatever part of the model is called. Gradients flow into each
adapter from its own rows only.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from torch import nn


def lora_layers(model: nn.Module) -> list[nn.Module]:
    from peft.tuners.lora import LoraLayer

    return [m for m in model.modules() if isinstance(m, LoraLayer)]


@contextlib.contextmanager
def rows_through(model: nn.Module, adapters: Sequence[str] | None):
    """While open, row ``i`` of every batch entering ``model``'s LoRA layers goes through adapter ``adapters[i]``
    (``"__base__"``: none). ``None``: the active adapter, as without this context."""
    if adapters is None:
        yield
        return
    names = list(adapters)

    def inject(layer, args, kwargs):
        if args and len(args[0]) != len(names):
            raise ValueError(
                f"{len(names)} adapter names for a batch of {len(args[0])} rows in {type(layer).__name__}: "
                "one name per row of the call"
            )
        return args, {**kwargs, "adapter_names": names}

    handles = [layer.register_forward_pre_hook(inject, with_kwargs=True) for layer in lora_layers(model)]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()
