"""The update-memory benchmark: one real single-update run per chunk size, its peak memory from the kernel's record;
a case that fails is a row that says so, not a crash."""

from __future__ import annotations

import pandas as pd
import pytest

from twosome.bench import update_memory


def test_each_chunk_size_is_one_run_with_its_peak_memory_and_update_time(tmp_path, tiny_model_dir, capsys):
    run = [f"model.path={tiny_model_dir}", "model.build=null", "env=overcooked", "env.task=tomato_salad"]
    update_memory.main(["--chunks", "1,4", "--num-envs", "2", "--num-steps", "2", "--out", str(tmp_path), "--", *run])
    missing = [f"model.path={tmp_path / 'no-model'}", "model.build=null", "env=overcooked", "env.task=tomato_salad"]
    update_memory.main(["--chunks", "2", "--num-envs", "2", "--num-steps", "2", "--out", str(tmp_path), "--",
                        *missing])  # fmt: skip
    df = pd.read_csv(tmp_path / "update_memory.csv")
    assert df.chunk.tolist() == [1, 4, 2] and (df.decisions == 4).all()
    finished = df[df.outcome == "finished"]
    assert len(finished) == 2 and (finished.update_seconds > 0).all() and (finished.rollout_seconds > 0).all()
    assert finished.peak_rss_gib.between(0.1, 16).all()  # a Python process with torch: hundreds of MiB
    assert df.outcome.iloc[2] == "exit 1"  # a run that failed: a row, and the next case would still run
    assert "no-model" in capsys.readouterr().out  # with the end of its output, which names why
    assert df.cpu.str.contains("avx").all()


@pytest.mark.parametrize("args, message", [
    (["--chunks", "4,x"], "--chunks 4,x is not valid; valid: integers >= 1, comma-separated"),
    (["--chunks", "64"], "--chunks [64] is not valid; valid: 1 to the update's 32 decisions"),
    (["--num-steps", "0"], "--num-steps 0 is not valid; valid: an integer >= 1"),
    (["--", "ppo.policy_lr=-1"], "ppo.policy_lr=-1.0 is not valid; valid: > 0"),  # what src/run.py would refuse
    (["--", "env=nope"], "Could not find 'env/nope'"),
])  # fmt: skip
def test_bad_cases_are_refused_before_anything_runs(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        update_memory.main(["--out", str(tmp_path), *args])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "update_memory.csv").exists()
