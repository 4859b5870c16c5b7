"""``model.dtype=auto``: the frozen base model's dtype chosen by measuring, not assuming.

Whether bfloat16 pays on a CPU depends on the CPU, and a plain matmul does not tell: on one of this project's
machines (AVX512-BF16) SmolLM2's forward and backward ran 1.9x faster in bfloat16, yet training ran 3.5x slower,
because every LoRA-adapted projection casts between the bfloat16 base and the float32 adapter; on another (no
bfloat16 instructions) bfloat16 was slower at every level (docs/BENCHMARKS.md). So on a CPU ``auto`` times what
training does to one SmolLM2-sized projection, at start-up (well under a second): the frozen base in each dtype
with a float32 LoRA adapter, forward and backward to the adapter and the input. It picks bfloat16 only where that
is faster; on a GPU it picks bfloat16 where the GPU supports it. Either way it says which it chose, and why.
"""

from __future__ import annotations

import time
from functools import cache
from pathlib import Path

import torch

NAMES = ("auto", "bfloat16", "float16", "float32")
FASTER = 1.1  # bfloat16 must be at least this much faster: a tie is not worth the lost precision


def cpu_flags() -> str:
    """The CPU features bfloat16 speed depends on, as ``name=yes|no`` (recorded beside every CPU timing)."""
    try:
        flags = Path("/proc/cpuinfo").read_text().split("flags")[1].split("\n")[0].split()
    except (OSError, IndexError):
        return "unknown"
    wanted = ("avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return " ".join(f"{f}={'yes' if f in flags else 'no'}" for f in wanted)


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), or "unknown"."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def _lora_step(dtype: torch.dtype, tokens: int = 512, width: int = 576, rank: int = 8):
    """One training step of a LoRA-adapted projection as peft runs it: frozen base in ``dtype``, float32 adapter
    (the input cast to float32 for it, its output cast back), backward to the adapter and the input."""
    generator = torch.Generator().manual_seed(0)
    base = torch.randn(width, width, generator=generator).to(dtype)
    a = (torch.randn(rank, width, generator=generator) / width**0.5).requires_grad_()
    b = torch.randn(width, rank, generator=generator).requires_grad_()
    x = torch.randn(tokens, width, generator=generator).to(dtype).requires_grad_()

    def step():
        y = torch.nn.functional.linear(x, base)
        y = y + torch.nn.functional.linear(torch.nn.functional.linear(x.float(), a), b).to(dtype)
        y.float().square().mean().backward()
        a.grad = b.grad = x.grad = None

    return step


@cache
def bfloat16_speedup(repeats: int = 30) -> float:
    """float32 time / bfloat16 time of a LoRA-adapted projection's forward and backward on this CPU (> 1:
    bfloat16 is faster). The two are timed in turn and each keeps its fastest step: other work on the machine only
    ever adds time, and taking turns spreads it over both (timed one after the other, a busy machine once read
    0.77x where the idle one reads 2.2x)."""
    steps = {dtype: _lora_step(dtype) for dtype in (torch.float32, torch.bfloat16)}
    best = dict.fromkeys(steps, float("inf"))
    for step in steps.values():
        step()  # warm-up: the first call picks and caches the kernel
    for _ in range(repeats):
        for dtype, step in steps.items():
            start = time.perf_counter()
            step()
            best[dtype] = min(best[dtype], time.perf_counter() - start)
    return best[torch.float32] / best[torch.bfloat16]


def resolve_dtype(name: str, device: str = "cpu") -> str:
    """``name`` unless it is ``auto``; then bfloat16 or float32 for ``device`` ("cpu" or "cuda"), logged with why."""
    if name not in NAMES:
        raise ValueError(f"model.dtype={name!r} is not valid; valid: {list(NAMES)}")
    if name != "auto":
        return name
    if device.startswith("cuda"):
        chosen = "bfloat16" if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else "float32"
        print(f"model.dtype=auto: {chosen} on the GPU")
        return chosen
    speedup = bfloat16_speedup()
    chosen = "bfloat16" if speedup >= FASTER else "float32"
    print(
        f"model.dtype=auto: {chosen} (a LoRA-adapted projection trained at {speedup:.2f}x the float32 speed in "
        f"bfloat16 on this CPU: "
        f"{cpu_flags()}; model.dtype=float32|bfloat16 overrides)"
    )
    return chosen
