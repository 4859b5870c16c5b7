"""experiments/gpu_benchmark.py: every step of the GPU measurements runs end to end on the CPU (--smoke), so no GPU time
is spent on a typo, and each step writes only its three small files under --out. (The scoring step is marked slow:
the scoring benchmark has its own tests.)"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("step", ["levers", pytest.param("scoring", marks=pytest.mark.slow), "seeds"])
def test_each_gpu_benchmark_step_runs_on_the_cpu_and_writes_its_table(tmp_path, step):
    out = tmp_path / "out"
    cmd = [sys.executable, str(ROOT / "experiments" / "gpu_benchmark.py"), step, "--smoke", "--out", str(out)]
    result = subprocess.run([*cmd, "--work", str(tmp_path / "work")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{step}{s}" for s in (".csv", ".log", "_environment.json"))
    df = pd.read_csv(out / f"{step}.csv")
    if step == "levers":
        assert set(df.lever) == {"chunk4", "auto", "auto_top8_other_math"} and (df.exit == 0).all()
        assert set(df[df.lever == "auto"].policy_chunk_size) == {8.0}  # the whole minibatch on a CPU
        assert df.groupby("lever")["update"].max().eq(3).all()
        assert {"matmul_tflops", "floor_update_seconds", "floor_env_steps_per_second"} <= set(df.columns)  # NaN: no GPU
    elif step == "scoring":
        assert set(df.actions) == {8, 42} and set(df.envs) == {4, 16}
    else:
        assert bool(df.ok.all()) and df.seeds.tolist() == [2] and df.way.tolist() == ["batched"]
