"""The generated tables the prose of docs/RESULTS.md quotes where it says what a claim rests on: each GoTo seed
against chance, sample efficiency task by task, the SmolLM2 claims task by task, the earlier studies' dtype as
recorded, the TextWorld comparison at equal experience, and the campaign's learning curves (hand-counted tiny
archives)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from test_docs_tables import fake_archived_run  # also puts analysis/ on sys.path


def test_the_goto_chance_table_places_each_seed_against_the_uniform_policy_s_interval(tmp_path):
    """Uniform policy 50/200 = 0.25, Wilson [0.20, 0.31]: seeds at 0.40, 0.25 and 0.00 are above, within and below
    it; 1 of 3 above its interval; P(seed > 0.25, the uniform taken as fixed) = (1 + 0.5 + 0) / 3 = 0.50. An arm with
    no seed archived (random weights, token-normalized) is a row that says so."""
    from studies.smollm2_cpu import glam

    uniform = tmp_path / glam.GLAM / "random_uniform"
    uniform.mkdir(parents=True)
    (uniform / "summary.json").write_text(json.dumps({"eval/success_rate": 0.25, "eval/episodes": 200.0}))
    arm = tmp_path / glam.CAMPAIGN_GOTO["pretrained"]
    for seed, success in ((2, 0.0), (0, 0.4), (1, 0.25)):
        fake_archived_run(arm, "glam", "none", seed, success)
    rows = glam.smollm2_cpu_goto_chance(tmp_path).splitlines()
    assert "50/200 = 0.25 [0.20, 0.31]" in rows[0] and "fixed at 0.25" in rows[0]
    pretrained, random, token = rows[2:5]
    cells = pretrained.split(" | ")
    assert cells[1] == "s0: 0.40 (above); s1: 0.25 (within); s2: 0.00 (below)" and cells[2] == "1/3"
    assert cells[3].startswith("0.50 [")
    assert random == "| random weights | no seed archived yet | - | - |"
    assert token == "| random weights, token-normalized | no seed archived yet | - | - |"


def efficiency_run(directory: Path, agent: str, norm: str, seed: int, steps: int, returns: dict[int, float]) -> None:
    """An archived run whose training episodes (one per listed step) return the given fractions of optimal."""
    fake_archived_run(directory, agent, norm, seed, 1.0)
    run = directory / f"{agent}-{norm}-s{seed}"
    summary = json.loads((run / "summary.json").read_text())
    (run / "summary.json").write_text(json.dumps({**summary, "env_steps": steps}))
    lines = [f"{step},1,{0.95**5 * r}," for step, r in returns.items()]
    header = "global_step,charts/episodes,charts/discounted_return,eval/discounted_return\n"
    (run / "metrics.csv").write_text(header + "\n".join(lines) + "\n")


def test_sample_efficiency_per_task_reads_both_arms_at_twosome_s_budget_and_says_where_in_ppo_s_schedule(tmp_path):
    """TWOSOME (word) trains 4,096 steps, PPO 8,192: both are read over (2,048, 4,096], TWOSOME at (0.5 + 1.0) / 2 =
    0.75 of optimal, PPO at (0 + 0.5) / 2 = 0.25, which is 50% into PPO's schedule. A TWOSOME (none) run is not
    TWOSOME (word): left out. Every word seed beats every PPO seed: P = 1.00, interim short of the planned 10."""
    from doctables import claims

    from studies.ten_seeds import tables as ten_seeds

    task = tmp_path / ten_seeds.TEN_SEEDS / "food_preparation"
    for seed in (0, 1):
        efficiency_run(task, "twosome", "word", seed, 4096, {1024: 0.0, 3072: 0.5, 4096: 1.0})
        efficiency_run(task, "ppo", "none", seed, 8192, {3072: 0.0, 4096: 0.5, 8192: 1.0})
    efficiency_run(task, "twosome", "none", 0, 4096, {4096: 0.0})
    scores = claims.efficiency_scores(tmp_path, {"food_preparation": task})
    assert scores["food_preparation"]["budget"] == 4096 and scores["food_preparation"]["ppo_steps"] == 8192
    assert scores["food_preparation"]["word"] == pytest.approx([0.75, 0.75])
    assert scores["food_preparation"]["ppo"] == pytest.approx([0.25, 0.25])
    row = claims.sample_efficiency_per_task(tmp_path).splitlines()[2]
    assert row.startswith("| default model | Food Preparation | 4,096 | mid-schedule: 50% of its 8,192 steps | ")
    assert "| 0.75 [0.75, 0.75] (2) | 0.25 [0.25, 0.25] (2) | 1.00 [1.00, 1.00] | interim, 2 of 10" in row
    assert claims.where_read(49_920, 49_664) == "at its end (49,664 steps)"


def test_the_claims_per_task_table_gives_each_task_s_own_seeds_and_those_ending_at_zero(tmp_path):
    """Tomato Salad alone: word seeds 1.0, 0.0, 1.0 against SayCan's 0.9, 0.8: P = (2 + 0 + 2) / 6 = 0.67; one word
    seed of three ends at 0.00, no SayCan seed; greedy return / optimal beside (here equal to the success)."""
    from doctables import claims

    from studies.smollm2_cpu import tables as smollm2_cpu

    base = tmp_path / smollm2_cpu.CAMPAIGN / "tomato_salad"
    for seed, success in enumerate([1.0, 0.0, 1.0]):
        fake_archived_run(base / "word", "twosome", "word", seed, success)
    for seed, success in enumerate([0.9, 0.8]):
        fake_archived_run(base / "saycan", "saycan", "word", seed, success)
    (row,) = claims.smollm2_cpu_claims_per_task(tmp_path).splitlines()[2:]
    cells = row.strip("| ").split(" | ")
    assert cells[:2] == ["Tomato Salad", "TWOSOME (word) > SayCan (word)"]
    assert cells[3] == "1/3" and cells[6] == "0/2" and cells[8].startswith("0.67 [")
    assert cells[9].startswith("interim, 2 of 10")


def test_the_dtype_table_labels_an_earlier_study_s_dtype_as_its_runs_recorded_it(tmp_path):
    """Runs that recorded `dtype: auto` and no resolved dtype are labelled so, never as bfloat16."""
    from studies.smollm2_cpu import tables as smollm2_cpu

    earlier = tmp_path / smollm2_cpu.BFLOAT16[("tomato_salad", "word")]
    for seed in (0, 1):
        fake_archived_run(tmp_path / smollm2_cpu.CAMPAIGN / "tomato_salad" / "word", "twosome", "word", seed, 1.0)
        fake_archived_run(earlier, "twosome", "word", seed, 1.0)
        (earlier / f"twosome-word-s{seed}" / "config.yaml").write_text("env:\n  gamma: 0.95\nmodel:\n  dtype: auto\n")
    out = smollm2_cpu.smollm2_cpu_dtype(tmp_path)
    assert "| Tomato Salad | TWOSOME (word) | auto (resolved dtype not recorded) | 0 | 1.00 | 1.00 |" in out
    assert "earlier study, dtype auto (resolved dtype not recorded)" in out and "bfloat16" not in out


def test_smollm2_against_drrn_at_equal_steps_is_named_a_comparison_of_learning_speed():
    from studies.textworld import tables as textworld

    pair = ("smollm2/word", "drrn_1024")
    rows = [question for first, other, _, question in textworld.CLAIMS if (first, other) == pair]
    assert rows[0].startswith("learns faster at equal experience") and "prior" not in " ".join(rows)


def test_the_campaign_curves_count_training_wins_over_the_last_window_of_steps():
    """Episodes (successes) at steps 1024: 2 (1), 3072: 4 (1), 4096: 3 (3): over the last 1,024 steps 1/2, 1/4, 3/3;
    over the last 2,048 steps, at 4096, (1 + 3) / (4 + 3)."""
    import smollm2_cpu_curves

    metrics = pd.DataFrame({"global_step": [1024, 2048, 3072, 4096], "charts/episodes": [2, None, 4, 3],
                            "charts/success_rate": [0.5, None, 0.25, 1.0]})  # fmt: skip
    assert list(smollm2_cpu_curves.windowed_success(metrics, 1024).success) == pytest.approx([0.5, 0.25, 1.0])
    assert smollm2_cpu_curves.windowed_success(metrics, 2048).success.iloc[-1] == pytest.approx(4 / 7)


def test_the_campaign_curves_average_ppo_from_scratch_over_its_seeds_once_each_has_a_value(monkeypatch):
    """Seed a logs at 1024 (win rate 1) and 3072 (0); seed b at 2048 (0.5) only: from 2048, each seed's latest
    value, so (1 + 0.5) / 2 at 2048 and (0 + 0.5) / 2 at 3072; nothing before 2048; GoTo reads none."""
    import smollm2_cpu_curves

    a = pd.DataFrame({"global_step": [1024, 3072], "charts/episodes": [2, 2], "charts/success_rate": [1.0, 0.0]})
    b = pd.DataFrame({"global_step": [2048], "charts/episodes": [4], "charts/success_rate": [0.5]})
    monkeypatch.setattr(smollm2_cpu_curves, "ppo_from_scratch", lambda root, task: pd.DataFrame({"metrics": [a, b]}))
    smollm2_cpu_curves.scratch_curve.cache_clear()
    curve, seeds = smollm2_cpu_curves.scratch_curve("entertainment", 1024)
    assert seeds == 2 and list(curve.step) == [2048, 3072]
    assert list(curve.success) == pytest.approx([0.75, 0.25])
    assert smollm2_cpu_curves.scratch_curve("glam_goto", 1024) is None
    smollm2_cpu_curves.scratch_curve.cache_clear()
