"""The dtype benchmark times both dtypes on the default model and names the CPU features it depends on."""

from __future__ import annotations

import pandas as pd

from twosome.bench import dtype


def test_dtype_benchmark_on_the_default_model(tmp_path, tiny_model_dir):
    dtype.main(
        [
            "--model-path",
            str(tiny_model_dir),
            "--batch",
            "1",
            "--tokens",
            "16",
            "--repeats",
            "1",
            "--out",
            str(tmp_path),
        ]
    )
    df = pd.read_csv(tmp_path / "dtype.csv")
    assert set(df["dtype"]) == {"float32", "bfloat16"} and len(df) == 6 and (df.seconds > 0).all()
    assert df.cpu.iloc[0].startswith("avx512f=")
