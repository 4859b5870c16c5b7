"""Benchmarks that anyone can rerun; timings live here, never in test assertions."""
