"""Analysis scripts on synthetic run directories."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
import learning_curves  # noqa: E402


def fake_run(root: Path, seed: int, norm: str, returns: list[float]) -> None:
    root.mkdir(parents=True)
    summary = {"seed": seed, "env_id": "twosome/Overcooked-TomatoSalad-v0", "agent": "twosome", "norm": norm}
    (root / "summary.json").write_text(json.dumps(summary))
    steps = [128 * (i + 1) for i in range(len(returns))]
    pd.DataFrame({"global_step": steps, "charts/discounted_return": returns}).to_csv(root / "metrics.csv", index=False)


def test_learning_curves_group_runs_and_write_figures(tmp_path):
    fake_run(tmp_path / "sweep" / "0", 0, "word", [0.0, 0.5, 1.0])
    fake_run(tmp_path / "sweep" / "1", 1, "word", [0.2, 0.7, 1.0])
    fake_run(tmp_path / "sweep" / "2", 0, "token", [0.0, 0.0, 0.1])
    (tmp_path / "sweep" / "not_a_run").mkdir()
    df = learning_curves.load_runs([tmp_path / "sweep"])
    assert df.run.nunique() == 3
    word = df[df.norm == "word"].groupby("global_step")["return"].mean()
    assert word.tolist() == [0.1, 0.6, 1.0]
    smoothed = learning_curves.smooth(df, window=2)
    first_run = smoothed[smoothed.run.str.endswith("0")].sort_values("global_step")["return"].tolist()
    assert first_run == [0.0, 0.25, 0.75]
    out = tmp_path / "fig" / "curves"
    learning_curves.main([str(tmp_path / "sweep"), "--out", str(out)])
    assert out.with_suffix(".png").stat().st_size > 1000 and out.with_suffix(".pdf").exists()


def test_curves_carry_a_run_that_logged_no_final_episode_to_the_last_step(tmp_path):
    """A seed whose last episode ended before the final update is carried there: the last point averages every
    seed, not only those whose episode happened to end in the final update (once: a spike at the end)."""
    fake_run(tmp_path / "a", 0, "word", [0.0, 0.2, 0.2, 0.2])
    fake_run(tmp_path / "b", 1, "word", [0.0, 0.6])
    df = learning_curves.smooth(learning_curves.load_runs([tmp_path]), window=1)
    last = df[df.global_step == 4 * 128]
    assert sorted(last["return"].tolist()) == [0.2, 0.6]


def test_summary_table_reports_steps_to_the_target_fraction_of_optimal(tmp_path):
    """The target is 97% of optimal: a return of exactly 95% (VirtualHome's plan one decision too long) does not
    count, whichever way it rounds."""
    from twosome.envs.overcooked import optimal_return

    best = optimal_return("twosome/Overcooked-TomatoSalad-v0")[0]
    for seed, curve in enumerate([[0.1, 0.5, 0.95 * best, best], [0.0, 0.1, 0.2, 0.3]]):
        run = tmp_path / f"run{seed}"
        fake_run(run, seed, "word", curve)
        metrics = pd.read_csv(run / "metrics.csv")
        metrics["eval/discounted_return"] = curve
        metrics.to_csv(run / "metrics.csv", index=False)
    table = learning_curves.summary_table(learning_curves.load_runs([tmp_path]))
    row = table.iloc[0]
    assert row.seeds == 2 and row.reached == 1
    assert row.steps_to_target == 4 * 128  # the first seed's 95% does not count: it reaches the target at its fourth
    assert abs(row.final_return - (best + 0.3) / 2) < 1e-9


def test_zero_shot_table_keeps_evaluations_only(tmp_path):
    import zero_shot_table

    base = {"env_id": "twosome/Overcooked-TomatoSalad-v0", "model": "smollm2-135m", "env_steps": 0}
    runs = {
        "zs_word": {**base, "agent": "zeroshot", "norm": "word", "eval/success_rate": 0.7, "eval/episodes": 100.0},
        "zs_none": {**base, "agent": "zeroshot", "norm": "none", "eval/success_rate": 0.0, "eval/episodes": 100.0},
        "random": {**base, "agent": "random", "norm": "word", "eval/success_rate": 0.4, "eval/episodes": 100.0},
        "trained": {**base, "agent": "twosome", "norm": "word", "env_steps": 1024, "eval/success_rate": 1.0},
    }
    for name, summary in runs.items():
        (tmp_path / "runs" / name).mkdir(parents=True)
        (tmp_path / "runs" / name / "summary.json").write_text(json.dumps(summary))
    table = zero_shot_table.main([str(tmp_path / "runs"), "--out", str(tmp_path / "out" / "zs")])
    assert len(table) == 3 and set(table.agent) == {"zeroshot", "random"}
    assert table.set_index("norm").loc["word", "success_rate"] == 0.7
    assert table[table.agent == "random"].model.item() == "-"  # random reads no model
    assert (tmp_path / "out" / "zs.png").stat().st_size > 1000
    assert pd.read_csv(tmp_path / "out" / "zs.csv").shape == (3, len(zero_shot_table.COLUMNS))


def test_runs_of_different_configurations_are_not_pooled_and_untrained_runs_are_drawn(tmp_path):
    """Runs differing in a setting other than the seed were once averaged as seeds; the title said "1 seeds ...
    95% CI"; zero-shot runs were missing from the plot; a single evaluation point was invisible."""
    for name, seed, lr in [("a", 0, 0.01), ("b", 1, 0.01), ("c", 0, 0.001)]:
        fake_run(tmp_path / "sweep" / name, seed, "word", [0.0, 0.5, 1.0])
        (tmp_path / "sweep" / name / "config.yaml").write_text(f"seed: {seed}\nppo:\n  policy_lr: {lr}\n")
    zero = tmp_path / "sweep" / "zeroshot"
    zero.mkdir()
    (zero / "summary.json").write_text(
        json.dumps(
            {
                "seed": 0,
                "env_id": "twosome/Overcooked-TomatoSalad-v0",
                "agent": "zeroshot",
                "norm": "word",
                "env_steps": 0,
                "eval/discounted_return": 0.3,
                "sampled/discounted_return": 0.6,
            }
        )
    )
    df = learning_curves.load_runs([tmp_path / "sweep"])
    assert sorted(df.variant.unique()) == ["ppo.policy_lr=0.001", "ppo.policy_lr=0.01"]
    untrained = learning_curves.eval_only_table([tmp_path / "sweep"])
    panels = learning_curves.plot(learning_curves.smooth(df, 2), tmp_path / "fig", untrained=untrained)
    title, legend, _ = panels[0]
    assert "1-2 seeds, 95% CI where more than 1 seed" in title  # one configuration has 2 seeds, the other 1
    assert "twosome (word) [ppo.policy_lr=0.001]" in legend and "twosome (word) [ppo.policy_lr=0.01]" in legend
    assert "zeroshot (word) (untrained; greedy evaluation return)" in legend
    # Training curves are sampled: the untrained line can be its sampled evaluation instead, named so.
    sampled = learning_curves.eval_only_table([tmp_path / "sweep"], evaluation="sampled")
    assert sampled.final_return.tolist() == [0.6] and untrained.final_return.tolist() == [0.3]
    legend = learning_curves.plot(learning_curves.smooth(df, 2), tmp_path / "sampled", untrained=sampled)[0][1]
    assert "zeroshot (word) (untrained; sampled evaluation return)" in legend
    # Two series with the same points, seed for seed, and two untrained agents with one return: one line each,
    # labelled with both names, instead of one hidden under the other.
    twin = df[df.variant == "ppo.policy_lr=0.001"]
    same = pd.concat([twin, twin.assign(norm="token")])
    untrained_twins = pd.concat([untrained, untrained.assign(norm="token")])
    legend = learning_curves.plot(same, tmp_path / "same", untrained=untrained_twins)[0][1]
    assert "twosome (token) [ppo.policy_lr=0.001] = twosome (word) [ppo.policy_lr=0.001]" in legend
    assert "zeroshot (word) = zeroshot (token) (untrained; greedy evaluation return)" in legend
    one = learning_curves.plot(df[df.variant == "ppo.policy_lr=0.001"], tmp_path / "one")[0][0]
    assert "1 seed, no CI" in one
    final_eval = df[df.variant == "ppo.policy_lr=0.01"].iloc[[-1]].assign(curve=learning_curves.CURVES["eval"])
    both = learning_curves.plot(pd.concat([df, final_eval]), tmp_path / "both", curves="both")
    assert both[0][2] == 1  # the single evaluation is a marked point, not an invisible one-point line


def test_legend_names_the_lm_of_text_agents_only(tmp_path):
    """PPO from scratch reads no text: its (older) summary names the config's default model, which the legend must
    not show beside the LMs of the agents that do read text."""
    runs = [("pre", "smollm2", True, 0.5), ("rand", "smollm2-random", True, 0.4), ("ppo", "tiny", False, 0.3)]
    for name, model, uses_lm, last in runs:  # distinct returns: identical series would be drawn as one line
        run = tmp_path / "sweep" / name
        fake_run(run, 0, "none" if uses_lm else "-", [0.0, last])
        agent = "glam" if uses_lm else "ppo"
        summary = json.loads((run / "summary.json").read_text()) | {"model": model, "agent": agent}
        (run / "summary.json").write_text(json.dumps(summary))
        (run / "config.yaml").write_text(f"seed: 0\nagent:\n  uses_lm: {str(uses_lm).lower()}\n")
    df = learning_curves.load_runs([tmp_path / "sweep"])
    assert df.groupby("run").model.first().to_dict() == {
        str(tmp_path / "sweep" / "pre"): "smollm2",
        str(tmp_path / "sweep" / "rand"): "smollm2-random",
        str(tmp_path / "sweep" / "ppo"): "-",
    }
    legend = learning_curves.plot(df, tmp_path / "fig")[0][1]
    assert "glam (none) smollm2" in legend and "glam (none) smollm2-random" in legend
    assert "ppo" in legend and "tiny" not in legend


def test_the_wording_figure_draws_the_committed_rows_and_refuses_rows_without_wordings(tmp_path):
    """analysis/wording_figure.py on the committed prompt-robustness rows, cut to two seeds."""
    import pytest
    import wording_figure

    root = Path(__file__).resolve().parent.parent
    rows = pd.read_csv(root / "studies/misalignment/data/prompt_robustness_tomato_salad.csv")
    rows[rows.seed.isin(sorted(rows.seed.unique())[:2])].to_csv(tmp_path / "rows.csv", index=False)
    path = wording_figure.main([str(tmp_path / "rows.csv"), "--out", str(tmp_path / "fig")])
    assert path.stat().st_size > 10_000
    rows.drop(columns="wording").to_csv(tmp_path / "old.csv", index=False)
    with pytest.raises(SystemExit, match="has no wording column"):
        wording_figure.main([str(tmp_path / "old.csv"), "--out", str(tmp_path / "fig2")])


def test_the_wording_figure_draws_runs_trained_in_other_wordings_as_separate_agents(tmp_path):
    """The committed wording-training rows (training on random paraphrases): two arms of TWOSOME runs, told apart by
    the wording they trained on; rows from before that column keep one label per agent."""
    import wording_figure

    root = Path(__file__).resolve().parent.parent
    rows = pd.read_csv(root / "studies/misalignment/data/wording_training_tomato_salad.csv")
    labels = wording_figure.labelled(rows).groupby("agent").seed.nunique()
    assert labels.to_dict() == {"TWOSOME trained on canonical": 5, "TWOSOME trained on random": 5}
    old = wording_figure.labelled(pd.read_csv(root / "studies/misalignment/data/prompt_robustness_tomato_salad.csv"))
    assert set(old.agent) == {"trained TWOSOME", "untrained twin"}
    assert wording_figure.main([str(root / "studies/misalignment/data/wording_training_food_preparation.csv"), "--out",
                                str(tmp_path / "fig")]).stat().st_size > 10_000  # fmt: skip


def test_the_misalignment_figure_draws_the_committed_runs_and_refuses_other_runs(tmp_path):
    """analysis/misalignment_figure.py on the committed agent=generate runs; a directory of other runs is
    refused, naming the file."""
    import json

    import misalignment_figure
    import pytest

    root = Path(__file__).resolve().parent.parent
    df = misalignment_figure.rows(root / "studies/misalignment/data/misalignment")
    assert set(df.decoding) <= {"greedy", "sample"} and df.invalid_share.between(0, 1).all()
    assert (df.episodes == 100).all()
    path = misalignment_figure.main(
        [str(root / "studies/misalignment/data/misalignment"), "--out", str(tmp_path / "fig")]
    )
    assert path.stat().st_size > 10_000
    (tmp_path / "other" / "run").mkdir(parents=True)
    (tmp_path / "other" / "run" / "summary.json").write_text(json.dumps({"run_name": "twosome-x-s0"}))
    with pytest.raises(SystemExit, match="has no eval/invalid_action_rate"):
        misalignment_figure.main([str(tmp_path / "other"), "--out", str(tmp_path / "fig2")])
