"""The scoring benchmark runs end to end on the default model and survives a case that does not fit in memory."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from twosome.bench import scoring


def test_benchmark_writes_its_tables_and_reports_flops(tmp_path):
    scoring.main(["--actions", "2", "--prompt-lengths", "50", "--repeats", "1", "--envs", "2", "--out", str(tmp_path)])
    df = pd.read_csv(tmp_path / "scoring.csv")
    assert set(df["mode"]) == {"naive", "shared"} and set(df.phase) == {"rollout", "update"}
    assert (df.tflops > 0).all() and (df.decisions_per_second > 0).all()
    # naive runs the prompt once per action, shared once per prompt: more tokens for the same decisions
    tokens = df[(df.phase == "rollout") & (df.actions == 2)].set_index("mode").tokens_processed
    assert tokens["naive"] > tokens["shared"]
    assert (tmp_path / "scoring.png").stat().st_size > 1000 and (tmp_path / "speedup.csv").exists()


def test_out_of_memory_case_is_recorded_not_fatal(tmp_path, monkeypatch):
    real = scoring.time_call

    def flaky(fn, device, repeats):
        if fn.__name__ == "update":
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(fn, device, repeats)

    monkeypatch.setattr(scoring, "time_call", flaky)
    scoring.main(["--actions", "2", "--prompt-lengths", "50", "--repeats", "1", "--envs", "2", "--out", str(tmp_path)])
    df = pd.read_csv(tmp_path / "scoring.csv")
    assert df[df.phase == "update"].seconds_per_call.map(math.isnan).all()
    assert not df[df.phase == "rollout"].seconds_per_call.map(math.isnan).any()


def test_benchmark_under_fsdp_shards_the_model_over_two_ranks(tmp_path):
    """--fsdp 2: the LM sharded block by block over two gloo ranks keeps the shared mode (one forward per prompt)."""
    import json

    args = ["--fsdp", "2", "--actions", "2", "--prompt-lengths", "50", "--repeats", "1", "--envs", "2"]
    scoring.main([*args, "--out", str(tmp_path)])
    df = pd.read_csv(tmp_path / "scoring.csv")
    assert set(df["mode"]) == {"naive", "shared"} and (df.decisions_per_second > 0).all()
    assert json.loads((tmp_path / "meta.json").read_text())["fsdp_ranks"] == 2


def test_both_shared_kernels_are_timed_apart_and_a_bad_kernel_is_refused(tmp_path, monkeypatch):
    """--kernels: experiments/gpu_benchmark.py asks whether the CPU-measured choice of kernel holds on a GPU."""
    seen = []
    real = scoring.ActionScorer.score

    def spy(self, model, batch, mode=None, hidden=False):
        seen.append(self.shared_kernel)
        return real(self, model, batch, mode, hidden)

    monkeypatch.setattr(scoring.ActionScorer, "score", spy)
    args = ["--actions", "2", "--prompt-lengths", "50", "--repeats", "1", "--envs", "2", "--out", str(tmp_path)]
    scoring.main([*args, "--kernels", "auto,one_pass,prefix_cache"])
    df = pd.read_csv(tmp_path / "scoring.csv")
    assert set(df["mode"]) == {"naive", "shared", "shared/one_pass", "shared/prefix_cache"}
    assert {"one_pass", "prefix_cache"} <= set(seen)
    tokens = df[(df.phase == "rollout") & (df.actions == 2)].set_index("mode").tokens_processed
    assert tokens["shared/one_pass"] == tokens["shared/prefix_cache"] == tokens["shared"]  # the same work
    with pytest.raises(SystemExit):
        scoring.main([*args, "--kernels", "flash"])
