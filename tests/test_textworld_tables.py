"""The generated TextWorld study's tables (studies/textworld/tables.py): each seed's unseen games joined to its run,
the claims' statuses, each trained seed on its own and the walkthrough prior, on archives built by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))


def test_the_textworld_tables_join_each_seed_s_unseen_games_to_its_run_and_compare_seeds(tmp_path):
    """Each seed's unseen-game rows land on that seed's row, whatever the file order; a run still being evaluated
    (no summary) is skipped; the claims are probabilities of improvement over the seeds' own success rates."""
    from studies.textworld import tables as textworld
    from twosome.evaluation.statistics import probability_of_improvement

    def archive(arm, seed, training, test, summary=True, env_steps=8192):
        run = tmp_path / textworld.CAMPAIGN / arm / f"run-s{seed}"
        (run / "unseen").mkdir(parents=True)
        rows = [("twosome/TextWorld-CookingTest-v0", test), ("twosome/TextWorld-CookingValid-v0", test / 2)]
        lines = ["task,seed,applicable,success_rate,episodes"] + [f"{t},{seed},True,{r},50" for t, r in rows]
        (run / "unseen" / "generalization.csv").write_text("\n".join(lines) + "\n")
        if summary:
            s = {"seed": seed, "sampled/success_rate": training, "sampled/episodes": 100, "env_steps": env_steps,
                 "wall_seconds": 600.0, "cpu": "cpu; avx512f=yes avx512_bf16=no amx_bf16=no amx_tile=no",
                 "model_dtype": "float32"}  # fmt: skip
            (run / "summary.json").write_text(json.dumps(s))

    trained = {3: (0.9, 0.6), 1: (1.0, 0.2), 0: (0.5, 0.4)}
    for seed, (training, test) in trained.items():
        archive("tiny/word", seed, training, test)
    archive("tiny/word", 4, 1.0, 1.0, summary=False)  # still being evaluated
    for seed in range(2):
        archive("tiny/untrained", seed, 0.1 * seed, 0.0, env_steps=0)
    runs = textworld.seed_scores(tmp_path / textworld.CAMPAIGN / "tiny/word")
    assert list(runs.seed) == [0, 1, 3]
    assert list(runs.test) == [0.4, 0.2, 0.6] and list(runs.validation) == [0.2, 0.1, 0.3]
    assert list(runs.training) == [0.5, 1.0, 0.9]
    arms = textworld.textworld_cpu_arms(tmp_path)
    word_row, untrained_row = arms.splitlines()[2:4]
    assert word_row.startswith("| default model | TWOSOME (word) | 8,192 | 3/5 (0, 1, 3) |")
    assert untrained_row.startswith("| default model | untrained TWOSOME (word) | - (evaluation only) | 2/5 (0, 1) |")
    assert "| 10.0 | 13.7 |" in word_row and "| 10.0 | - |" in untrained_row  # minutes; env steps/s (none untrained)
    expected = probability_of_improvement([0.4, 0.2, 0.6], [0.0, 0.0]).text()
    claims = textworld.textworld_cpu_claims(tmp_path)
    assert f"| test games | {expected} | interim, 2 of 5 (rule set after the data) |" in claims
    assert "not run (3 and 0 seeds)" in claims  # DRRN not archived yet
    # the mechanism's claims were fixed before their first seed, under the status rules: no late mark
    archive("smollm2/word_mechanism", 0, 0.3, 0.2, env_steps=1024)
    archive("drrn_1024", 0, 0.1, 0.1, env_steps=1024)
    mechanism = [r for r in textworld.textworld_cpu_claims(tmp_path).splitlines() if "+ mechanism" in r]
    assert len(mechanism) == 3
    assert all(r.endswith("| interim, 1 of 5 |") for r in mechanism[:2]), mechanism
    assert mechanism[2].endswith("| not run (1 and 0 seeds) |")  # SmolLM2 without it not archived here


def test_the_textworld_per_seed_table_counts_each_seed_s_training_wins_from_its_own_metrics(tmp_path):
    """Wins summed over updates from the logged rates (2 of 4, then 1 of 2: 3 of 6), points and entropy at the first
    and last update, final sampled success as a count, and "not run" where a seed's unseen games are missing."""
    from studies.textworld import tables as textworld

    for arm, seed, entropy in (("smollm2/word", 2, 2.0), ("smollm2/word_mechanism", 0, 1.4)):
        run = tmp_path / textworld.CAMPAIGN / arm / f"run-s{seed}"
        run.mkdir(parents=True)
        (run / "summary.json").write_text(
            json.dumps({"seed": seed, "sampled/success_rate": 0.07, "sampled/episodes": 100, "model_dtype": "float32"})
        )
        (run / "metrics.csv").write_text(
            "global_step,charts/episodes,charts/success_rate,charts/episodic_return,losses/entropy\n"
            f"128,4,0.5,1.25,{entropy}\n128,,,,\n256,2,0.5,2.0,{entropy + 0.5}\n"
        )
    rows = textworld.textworld_smollm2_seeds(tmp_path).splitlines()[2:]
    assert rows == [
        "| TWOSOME (word) | 2 | 3/6 = 0.50 [0.19, 0.81] | 1.25 -> 2.00 | 2.00 -> 2.50 | 7/100 = 0.07 [0.03, 0.14] | "
        "not run |",
        "| TWOSOME (word) + mechanism | 0 | 3/6 = 0.50 [0.19, 0.81] | 1.25 -> 2.00 | 1.40 -> 1.90 | "
        "7/100 = 0.07 [0.03, 0.14] | not run |",
    ]
    assert textworld.textworld_smollm2_seeds(tmp_path / "nothing").startswith("Not run yet")


def test_the_walkthrough_prior_table_gives_each_commands_median_over_games_beside_uniform(tmp_path):
    """Take commands of different ingredients are one kind; medians over games, a uniform policy's 1 / commands."""
    from studies.textworld import tables as textworld

    rows = [("twosome", "tiny-household", "word", game, step, command, p, rank, n)
            for game, (p_take, p_eat) in enumerate([(0.1, 1e-6), (0.3, 1e-4), (0.2, 1e-5)])
            for step, command, p, rank, n in [(0, f"take food{game} from fridge", p_take, 2, 10),
                                               (1, "eat meal", p_eat, 9, 20 + 5 * game)]]  # fmt: skip
    steps = pd.DataFrame(rows, columns=["agent", "model", "norm", "game", "step", "command", "probability", "rank",
                                        "commands"]).assign(split="train")  # fmt: skip
    (tmp_path / textworld.PRIOR).mkdir(parents=True)
    steps.to_csv(tmp_path / textworld.PRIOR / "tiny-word.csv", index=False)
    out = textworld.textworld_walkthrough_prior(tmp_path).splitlines()
    assert out[2] == "| tiny-household, untrained (word) | take <the ingredient> | 3 | 2.0e-01 | 1.0e-01 | 2 of 10 |"
    assert out[3] == "| tiny-household, untrained (word) | eat meal | 3 | 1.0e-05 | 4.0e-02 | 9 of 25 |"
