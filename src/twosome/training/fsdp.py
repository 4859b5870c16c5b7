"""Shard a transformer and its small heads with FSDP2 (``torch.distributed.fsdp.fully_shard``).

One FSDP unit per transformer block (the classes the model lists in ``_no_split_modules``, as accelerate does), one
for what is left of the LM (embeddings, final norm, LM head) and one per head. A unit all-gathers its parameters as
one flat buffer, which needs one dtype: when a block mixes dtypes (a bfloat16 base model with float32 LoRA
weights), its adapter layers become units of their own first, so the memory of the base weights is still divided
by the number of ranks and the adapters keep their precision.

Every ``forward`` of a unit is a collective: ranks must call the LM the same number of times (see
``ActorCritic.lockstep``).
"""

from __future__ import annotations

from torch import nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import fully_shard


def transformer_blocks(lm: nn.Module) -> list[nn.Module]:
    """The repeated blocks of a Hugging Face model (LlamaDecoderLayer, T5Block, GPT2Block, ...)."""
    base = lm.get_base_model() if hasattr(lm, "get_base_model") else lm
    names = set(getattr(base, "_no_split_modules", None) or [])
    if not names:
        raise ValueError(
            f"{type(base).__name__} does not list its transformer blocks in `_no_split_modules`; "
            "FSDP needs them to shard the model layer by layer"
        )
    return [m for m in lm.modules() if type(m).__name__ in names]


def _dtypes(module: nn.Module) -> set:
    return {p.dtype for p in module.parameters()}


def shard_transformer(lm: nn.Module, mesh: DeviceMesh) -> int:
    """Shard ``lm`` in place, block by block; return the number of FSDP units made."""
    units = 0
    for block in transformer_blocks(lm):
        if len(_dtypes(block)) > 1:  # adapters (float32) in their own units, base weights in the block's unit
            for name, sub in block.named_modules():
                if name.rsplit(".", 1)[-1] in ("lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B"):
                    for leaf in sub.children():
                        fully_shard(leaf, mesh=mesh)
                        units += 1
        fully_shard(block, mesh=mesh)
        units += 1
    fully_shard(lm, mesh=mesh)
    return units + 1


def shard_modules(modules: list[nn.Module], mesh: DeviceMesh) -> int:
    """Small modules called on their own (critic and affordance heads, MLP actors): one unit each."""
    for module in modules:
        fully_shard(module, mesh=mesh)
    return len(modules)
