"""``model.dtype=auto``: the frozen base model's dtype chosen by measuring, not assuming.

Whether bfloat16 pays on a CPU depends on the CPU: with AVX512-BF16 or AMX kernels a bfloat16 matmul ran about 2x
faster than float32 on one of this project's machines; on another, without them, 4x slower (docs/BENCHMARKS.md).
So on a CPU ``auto`` times one matmul of a SmolLM2-sized layer in both dtypes at start-up (about 0.1 s) and picks
bfloat16 only where it is faster; on a GPU it picks bfloat16 where the GPU supports it. Either way it says which
it chose, and why.
"""

from __future__ import annotations

import logging
import time
from functools import cache
from pathlib import Path

import torch

log = logging.getLogger(__name__)

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


def _median_seconds(fn, repeats: int = 5) -> float:
    fn()  # warm-up: the first call picks and caches the kernel
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


@cache
def bfloat16_speedup() -> float:
    """float32 time / bfloat16 time of a (256 x 576) @ (576 x 1536) matmul on this CPU (> 1: bfloat16 is faster)."""
    generator = torch.Generator().manual_seed(0)
    a32, w32 = torch.randn(256, 576, generator=generator), torch.randn(1536, 576, generator=generator)
    a16, w16 = a32.bfloat16(), w32.bfloat16()
    with torch.no_grad():
        fp32 = _median_seconds(lambda: torch.nn.functional.linear(a32, w32))
        bf16 = _median_seconds(lambda: torch.nn.functional.linear(a16, w16))
    return fp32 / bf16


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
        f"model.dtype=auto: {chosen} (a bfloat16 matmul ran {speedup:.2f}x the float32 speed on this CPU: "
        f"{cpu_flags()}; model.dtype=float32|bfloat16 overrides)"
    )
    return chosen
