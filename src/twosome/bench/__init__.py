"""Benchmarks that anyone can rerun; timings live here, never in test assertions."""

from __future__ import annotations

from pathlib import Path


def append_rows(df, out: Path, name: str) -> Path:
    """Append a benchmark's rows to ``out/name`` (a CSV that grows one case at a time; the header once)."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / name
    df.to_csv(path, mode="a", header=not path.exists(), index=False)
    return path
