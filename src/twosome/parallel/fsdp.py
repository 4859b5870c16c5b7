"""Shard a transformer and its small heads with FSDP2 (``torch.distributed.fsdp.fully_shard``).

One FSDP unit per transformer block (the classes the model lists in ``_no_split_modules``, as accelerate does), one
for what is left of the LM (embeddings, final norm, LM head) and one per head. A unit all-gathers its parameters as
one flat buffer, which needs one dtype: when a block mixes dtypes (a bfloat16 base model with float32 LoRA
weights), its adapter layers become units of their own first, so the memory of the base weights is still divided
by the number of ranks and the adapters keep their precision.

Every ``forward`` of a unit is a collective: ranks must call the LM the same number of times, so training turns
agents' memoization off under FSDP (``agents.capabilities.Memoizing``).
"""

from __future__ import annotations

from torch import nn
from torch.distributed.device_mesh import DeviceMesh
from torch.distributed.fsdp import FSDPModule, fully_shard


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


def _own_dtypes(unit: nn.Module) -> set:
    """Dtypes of the parameters ``unit``'s FSDP group would hold: those not already in an inner FSDP unit."""
    inner = {id(p) for m in unit.modules() if m is not unit and isinstance(m, FSDPModule) for p in m.parameters()}
    return {p.dtype for p in unit.parameters() if id(p) not in inner}


def transformer_units(lm: nn.Module) -> list[nn.Module]:
    """FSDP units for a Hugging Face LM, innermost first: each block, then the LM itself (embeddings, final norm,
    LM head)."""
    return [*transformer_blocks(lm), lm]


def _adapter_leaves(unit: nn.Module) -> list[nn.Module]:
    """LoRA's weight modules inside ``unit``: sharded on their own when the unit mixes dtypes."""
    names = ("lora_A", "lora_B", "lora_embedding_A", "lora_embedding_B")
    return [leaf for name, sub in unit.named_modules() if name.rsplit(".", 1)[-1] in names for leaf in sub.children()]


def shard(units: list[nn.Module], mesh: DeviceMesh) -> int:
    """Apply FSDP2 to ``units`` in order (inner modules before the modules that contain them); return the number of
    FSDP units made. A unit that mixes dtypes (a bfloat16 block with float32 adapters) gets its adapters sharded
    as units of their own first."""
    made = 0
    for unit in units:
        if len(_own_dtypes(unit)) > 1:
            for leaf in _adapter_leaves(unit):
                fully_shard(leaf, mesh=mesh)
                made += 1
        fully_shard(unit, mesh=mesh)
        made += 1
    return made
