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


@pytest.mark.parametrize(
    "args, message",
    [(["--models", "gpt5"], "--models ['gpt5'] not in"), (["--extra", "env=nope"], "Could not find 'env/nope'")],
)
def test_unknown_models_and_overrides_run_would_refuse_are_rejected_before_anything_runs(
    tmp_path, capsys, args, message
):
    with pytest.raises(SystemExit):
        seed_batch.main(["--out", str(tmp_path / "out"), *args])
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()
