"""The seed-group benchmark runs the same seeds both ways and reports throughput and memory for each."""

from __future__ import annotations

import pandas as pd
import pytest

from twosome.bench import seed_batch


def test_seed_batch_benchmark_runs_both_ways_on_the_tiny_model(tmp_path):
    seed_batch.main(["--out", str(tmp_path), "--seeds", "2", "--updates", "2", "--num-envs", "2", "--num-steps", "8"])
    df = pd.read_csv(tmp_path / "seed_batch.csv")
    assert df["way"].tolist() == ["separate", "batched"] and df["ok"].all()
    assert df["processes"].tolist() == [2, 1]
    assert (df["env_steps"] == 2 * 2 * 16).all()  # both ways do the same work: 2 seeds x 2 updates x 16 steps
    assert (df["env_steps_per_second"] > 0).all() and (df["peak_rss_gib"] > 0).all()
    assert df["cpu"].str.contains("avx512f=").all()


def test_unknown_models_are_rejected(tmp_path):
    with pytest.raises(SystemExit):
        seed_batch.main(["--out", str(tmp_path), "--models", "gpt5"])
    assert not (tmp_path / "seed_batch.csv").exists()
