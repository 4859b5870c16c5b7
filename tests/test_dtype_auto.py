"""model.dtype=auto: bfloat16 only where a start-up probe finds it faster; both branches, probe mocked."""

from __future__ import annotations

import math

import pytest
import torch

from twosome.lm import dtype as auto
from twosome.lm.loading import load_lm


@pytest.fixture
def probe(monkeypatch):
    """Set what the probe measures; fail if a test that should not probe does."""

    def set_speedup(value):
        monkeypatch.setattr(auto, "bfloat16_speedup", lambda: value)

    return set_speedup


@pytest.mark.parametrize("speedup,chosen", [(2.0, "bfloat16"), (1.05, "float32"), (0.26, "float32")])
def test_auto_on_a_cpu_follows_the_probe(probe, capsys, speedup, chosen):
    probe(speedup)
    assert auto.resolve_dtype("auto", "cpu") == chosen
    said = capsys.readouterr().out
    assert f"model.dtype=auto: {chosen}" in said and f"{speedup:.2f}x" in said and "avx512_bf16=" in said


def test_explicit_dtypes_are_kept_without_probing(monkeypatch):
    monkeypatch.setattr(auto, "bfloat16_speedup", lambda: pytest.fail("probed for an explicit dtype"))
    for name in ("float32", "bfloat16", "float16"):
        assert auto.resolve_dtype(name, "cpu") == name
    with pytest.raises(ValueError, match=r"model.dtype='fp8' is not valid; valid: \['auto'"):
        auto.resolve_dtype("fp8")


def test_auto_on_a_gpu_is_bfloat16_where_supported(monkeypatch):
    monkeypatch.setattr(auto, "bfloat16_speedup", lambda: pytest.fail("the CPU probe ran for a GPU"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert auto.resolve_dtype("auto", "cuda") == "bfloat16"
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert auto.resolve_dtype("auto", "cuda") == "float32"


@pytest.mark.parametrize("speedup,expected", [(3.0, torch.bfloat16), (0.5, torch.float32)])
def test_load_lm_loads_the_dtype_auto_chose(probe, tiny_model_dir, speedup, expected):
    probe(speedup)
    model, _ = load_lm(str(tiny_model_dir), None, "auto", device="cpu")
    assert next(model.parameters()).dtype == expected


def test_the_real_probe_measures_a_ratio():
    auto.bfloat16_speedup.cache_clear()
    speedup = auto.bfloat16_speedup()
    assert math.isfinite(speedup) and speedup > 0
    assert auto.bfloat16_speedup() == speedup  # measured once per process
