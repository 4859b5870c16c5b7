"""The formatting helpers behind docs/BENCHMARKS.md's generated tables, on tiny synthetic data."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
from doctables import benchmarks as tb  # noqa: E402
from doctables import common  # noqa: E402


def scoring_frame(**extra) -> pd.DataFrame:
    rows = [
        (mode, phase, prompt, actions, seconds)
        for phase, prompt, actions, naive, shared in [
            ("update", 150, 8, 0.010, 0.005),
            ("rollout", 400, 8, 0.012, 0.006),
            ("rollout", 150, 42, 0.090, 0.009),
            ("rollout", 150, 2, 0.006, 0.003),
        ]
        for mode, seconds in (("naive", naive), ("shared", shared))
    ]
    frame = pd.DataFrame(rows, columns=["mode", "phase", "target_prompt_tokens", "actions", "seconds_per_decision"])
    return frame.assign(**extra)


def test_markdown_writes_header_separator_rows_and_caption():
    table = pd.DataFrame({"a": ["1"], "b": ["x"]})
    assert tb.markdown(table, "note.") == "| a | b |\n|---|---|\n| 1 | x |\n\nnote.\n"
    assert tb.markdown(table) == "| a | b |\n|---|---|\n| 1 | x |\n"


def test_cpu_table_shows_recorded_flags_or_says_they_are_missing():
    table = pd.DataFrame({"x": ["1"]})
    assert tb.cpu_table(table, "Cap.").endswith("Cap. CPU flags not recorded.\n")
    with_flags = tb.cpu_table(table.assign(cpu="avx512_bf16=no"))
    assert with_flags.startswith("| x | CPU flags |") and "| 1 | avx512_bf16=no |" in with_flags
    assert tb.NO_CPU_FLAGS not in with_flags


def test_cpu_column_names_the_widest_vector_unit():
    flags = "avx512f={} avx512_bf16={} amx_bf16={} amx_tile={}"
    assert common.cpu_with_isa("AMD EPYC; " + flags.format("no", "no", "no", "no")) == "AMD EPYC (no AVX512)"
    assert common.cpu_with_isa("AMD EPYC; " + flags.format("yes", "yes", "no", "no")) == "AMD EPYC (AVX512-BF16)"
    assert common.cpu_with_isa("Xeon; " + flags.format("yes", "yes", "yes", "yes")) == "Xeon (AMX)"
    assert common.cpu_with_isa("Xeon; " + flags.format("yes", "no", "no", "no")) == "Xeon (AVX512)"
    assert common.cpu_with_isa("Xeon") == "Xeon (flags not recorded)"


def test_rate_keeps_three_significant_figures():
    assert [tb.rate(v) for v in (3.9684, 18.8047, 355.6076)] == ["3.97", "18.8", "355.6"]


def test_phase_shares_and_targets():
    row = pd.Series({"rollout_share": 0.3817, "value_share": 0.054, "policy_share": 0.5643})
    assert tb.phase_shares(row) == "38/5/56%"
    assert tb.against_target(4.19, 4.0) == "**4.19x** (target 4x)"
    assert tb.against_target(3.96, 4.0) == "3.96x (target 4x)"
    assert tb.against_target(2.46, None, bold=True, note="target 5x") == "**2.46x** (target 5x)"
    assert tb.against_target(1.03, None) == "1.03x"


def test_scoring_rows_speedup_order_and_flags():
    out = tb.scoring_rows(scoring_frame(), ("naive", "shared"), 2)
    assert list(zip(out["phase"], out["prompt tokens"], out["actions"], strict=True)) == [
        ("rollout", 150, 2),
        ("rollout", 150, 42),
        ("rollout", 400, 8),
        ("update", 150, 8),
    ]
    assert list(out["naive"]) == ["6.00", "90.00", "12.00", "10.00"]
    # 42 actions at 150 tokens meets its 8x target; 400-token prompts have no target.
    assert list(out["speedup (shared)"]) == ["2.00x", "**10.00x** (target 8x)", "2.00x", "2.00x (target 2.5x)"]
    assert "cpu" not in out
    assert set(tb.scoring_rows(scoring_frame(cpu="amx_bf16=yes"), ("naive", "shared"), 2)["cpu"]) == {"amx_bf16=yes"}


def test_cost_growth_is_shared_rollout_cost_ratio():
    assert tb.cost_growth(scoring_frame()).startswith("Shared rollout cost at 42 actions is 3.00x its cost at 2")


def test_e2e_rows_compare_ref_with_this():
    shares = {"rollout_share": 0.25, "value_share": 0.25, "policy_share": 0.5}
    frame = pd.DataFrame(
        [
            {
                "env": "overcooked",
                "model": "tiny",
                "scorer": "shared",
                "code": code,
                "updates_measured": 19.0,
                "env_steps_per_second": sps,
                **shares,
            }
            for code, sps in (("this", 400.0), ("abc1234", 200.0))
        ]
    )
    (row,) = tb.e2e_rows(frame, ["env"], lambda r: {"case": r["env"]}).to_dict("records")
    assert row == {
        "case": "overcooked",
        "updates measured": "19",
        "before (abc1234)": "200.0 (25/25/50%)",
        "after": "400.0 (25/25/50%)",
        "speedup": "2.00x (target: no slower)",
    }


def test_update_phases_per_update_steps_and_rate():
    metrics = pd.DataFrame(
        {
            "update": [1.0, 2.0, None],
            "global_step": [128.0, 256.0, None],
            "charts/rollout_seconds": [6.0, 2.0, None],
            "charts/value_seconds": [1.0, 1.0, None],
            "charts/policy_seconds": [1.0, 1.0, None],
            "charts/gpu_peak_memory_gb": [14.48, 14.48, None],
        }
    )
    out = tb.update_phases(metrics)
    assert list(out["update"]) == ["1 (warm-up)", "2"]
    assert list(out["total s"]) == ["8.0", "4.0"]
    assert list(out["env steps/s"]) == ["16.0", "32.0"]
    assert list(out["peak GPU memory GB"]) == ["14.5", "14.5"]


def test_update_memory_table_gives_each_case_and_the_memory_a_chunks_decision_adds(tmp_path):
    """Peaks on a line (0.5 GiB + 1 GiB per decision in a chunk): the caption's slope and base are that line's; a
    killed case is a row with its outcome and no seconds, and is left out of the fit."""
    bench = tmp_path / tb.BENCH
    bench.mkdir(parents=True)
    run = "env=textworld model=smollm2"
    rows = [(run, 1, 32, chunk, 0.5 + chunk, "finished", 60.0, 10.0, 32.0, "avx512f=yes") for chunk in (1, 2, 4)]
    rows.append((run, 1, 32, 32, 19.8, "exit -9 (killed: out of memory?)", 500.0, None, None, "avx512f=yes"))
    columns = ["overrides", "threads", "decisions", "chunk", "peak_rss_gib", "outcome", "wall_seconds",
               "rollout_seconds", "update_seconds", "cpu"]  # fmt: skip
    pd.DataFrame(rows, columns=columns).to_csv(bench / "update_memory.csv", index=False)
    table = tb.update_memory_cpu(tmp_path)
    assert f"`{run}`: 1.00 GiB per decision in a chunk, above 0.50 GiB" in table
    assert f"| {run} | 1 | 32 | 4 | 4.50 | finished | 1.00 | avx512f=yes |" in table
    assert f"| {run} | 1 | 32 | 32 | 19.80 | exit -9 (killed: out of memory?) | - | avx512f=yes |" in table
