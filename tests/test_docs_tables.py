"""docs/ tables are generated from the raw data under docs/: regenerating them changes nothing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
import archive_runs  # noqa: E402
import docs_tables  # noqa: E402


def test_every_table_in_docs_matches_its_raw_data(capsys):
    """The test CI runs: a number typed into a generated table, or data changed without regenerating, fails here,
    as does a new table that is neither generated nor marked "raw data not kept"."""
    status = docs_tables.main(["--check"])
    assert status == 0, capsys.readouterr().out


def test_a_status_is_holds_an_equivalence_within_a_stated_margin_or_not_shown():
    """The rule of RESULTS' "How to read these numbers": a point estimate of 0.5 with a wide interval is not an
    equivalence, and no status says "no difference" or "direction only"."""
    from doctables.common import status

    from twosome.evaluation.statistics import Estimate

    assert status(Estimate(0.8, 0.6, 0.95, 10), 10) == "**holds**"
    assert status(Estimate(0.2, 0.05, 0.4, 10), 10) == "**reversed**"
    assert status(Estimate(0.5, 0.16, 1.0, 5), 5) == "not shown (5 seeds)"
    assert status(Estimate(0.62, 0.35, 0.85, 10), 10) == "not shown (10 seeds)"
    assert status(Estimate(0.5, 0.45, 0.58, 10), 10) == "equivalent within ±0.1 (10 seeds)"
    assert status(Estimate(0.5, float("nan"), float("nan"), 1), 1) == "not shown (1 seeds)"


def test_no_claim_in_the_docs_says_no_difference_or_an_equivalence_without_its_margin():
    """Every status cell of every table in docs/: "no difference" and "direction only" are retired, and an
    equivalence names its margin."""
    import re

    for doc in sorted((ROOT / "docs").glob("*.md")):
        for line in doc.read_text().splitlines():
            if not line.startswith("|"):
                continue
            cells = [c.strip().lower() for c in line.strip("|").split("|")]
            for cell in cells:
                assert "no difference" not in cell and "direction only" not in cell, f"{doc.name}: {line}"
                if re.search(r"\bequivalen", cell):
                    assert re.search(r"equivalent within ±\s*[0-9.]+", cell), f"{doc.name}: no margin in {line}"


def test_render_rewrites_blocks_and_names_what_changed(tmp_path):
    text = "intro\n<!-- table: t -->\n| a |\n|---|\n| 1 |\n<!-- /table -->\n\n<!-- table: typed -->\n| x |\n|---|\n"
    text += "| 9 |\n<!-- /table -->\n"
    new, changed = docs_tables.render(text, tmp_path, {"t": lambda root: "| a |\n|---|\n| 2 |\n"})
    assert changed == ["t"] and "| 2 |" in new and "| 1 |" not in new and "| 9 |" in new  # typed blocks stay
    assert docs_tables.render(new, tmp_path, {"t": lambda root: "| a |\n|---|\n| 2 |\n"})[1] == []
    with pytest.raises(KeyError, match="names no registered table"):
        docs_tables.render(text, tmp_path, {})


def test_an_interval_quoted_outside_the_generated_tables_must_be_one_they_give():
    """Prose quotes the tables: a quote left behind by new data, or a count the tables do not give, is named with
    its line; a quote by count or by point of a table's "16/26 = 0.62 [0.43, 0.78]" is the same estimate."""
    table = (
        "<!-- table: t -->\n| 16/26 = 0.62 [0.43, 0.78] | 0.10 [0.00, 0.24] | -0.04 [-0.10, 0.02] |\n<!-- /table -->\n"
    )
    typed = "<!-- table: typed -->\n| claim | 0.10 [0.00, 0.24], was 0.05 [0.00, 0.20] |\n<!-- /table -->\n"
    prose = "16/26 [0.43, 0.78] and 0.62 [0.43, 0.78], -0.04 [-0.10, 0.02]\n(Wilson interval [0.07, 0.59])\n"
    text = "intro\n" + table + prose + typed + "stale: 0.70 [0.50, 0.90]; 3/26 [0.43, 0.78]\n"
    assert docs_tables.unquoted_estimates(text) == [
        (8, "0.05 [0.00, 0.20]"),
        (10, "0.70 [0.50, 0.90]"),
        (10, "3/26 [0.43, 0.78]"),
    ]
    assert docs_tables.unquoted_estimates(table + prose) == []


def test_unmarked_tables_are_found():
    text = "| a |\n|---|\n| 1 |\n\n| b (raw data not kept) |\n|---|\n| 2 |\n\n<!-- table: typed -->\n| c |\n|---|\n"
    text += "<!-- /table -->\n"
    assert docs_tables.unmarked_tables(text) == [1]


def test_archive_keeps_the_columns_tables_read(tmp_path):
    run = tmp_path / "multirun" / "3_twosome-x-s1"
    run.mkdir(parents=True)
    checkout = "/" + "/".join(("home", "someone", "twosome"))  # a machine's path (spelt so the repository has none)
    config = (
        f"paths:\n  root_dir: {checkout}\n  runs_dir: {checkout}/runs\nmodel:\n  path: {checkout}/models/m\nseed: 1\n"
    )
    (run / "config.yaml").write_text(config)
    (run / "summary.json").write_text(json.dumps({"run_name": "twosome-x-s1", "sampled/success_rate": 0.5}))
    pd.DataFrame(
        {
            "global_step": [128, 256],
            "charts/success_rate": [0.1234567891, 0.5],
            "losses/value_loss": [1.0, 2.0],
            "eval/discounted_return": [None, 0.9],
        }
    ).to_csv(run / "metrics.csv", index=False)
    unfinished = tmp_path / "multirun" / "4_twosome-x-s2"
    unfinished.mkdir()
    (unfinished / "config.yaml").write_text("seed: 2\n")
    done = archive_runs.main([str(tmp_path / "multirun"), "--out", str(tmp_path / "data")])
    assert [p.name for p in done] == ["twosome-x-s1"]
    kept = pd.read_csv(tmp_path / "data" / "twosome-x-s1" / "metrics.csv")
    assert list(kept.columns) == ["global_step", "charts/success_rate", "eval/discounted_return"]
    assert kept["charts/success_rate"].tolist() == [0.123457, 0.5]
    assert (tmp_path / "data" / "twosome-x-s1" / "summary.json").read_text() == (run / "summary.json").read_text()
    archived = (tmp_path / "data" / "twosome-x-s1" / "config.yaml").read_text()
    assert checkout not in archived and "root_dir: .\n" in archived and "path: ./models/m\n" in archived
    with pytest.raises(SystemExit, match="no such run directory"):
        archive_runs.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "data")])


def fake_archived_run(directory: Path, agent: str, norm: str, seed: int, success: float) -> None:
    run = directory / f"{agent}-{norm}-s{seed}"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text("env:\n  gamma: 0.95\n")
    summary = {
        "run_name": run.name,
        "agent": agent,
        "norm": norm,
        "seed": seed,
        "env_id": "twosome/VirtualHome-FoodPreparation-v0",
        "env_steps": 0,
        "eval/discounted_return": 0.95**5 * success,
        "sampled/success_rate": success,
        "sampled/episodes": 100,
        "sampled/discounted_return": 0.95**5 * success,
    }
    (run / "summary.json").write_text(json.dumps(summary))


def test_performance_profiles_count_runs_above_each_threshold(tmp_path):
    import performance_profiles

    for task, rates in {"a": [0.2, 0.9], "b": [1.0, 0.6]}.items():
        for seed, rate in enumerate(rates):
            fake_archived_run(tmp_path / "data" / task, "twosome", "word", seed, rate)
    df = performance_profiles.main([str(tmp_path / "data"), "--out", str(tmp_path / "fig" / "profiles")])

    def at(tau):
        return df.iloc[(df.tau - tau).abs().argmin()].fraction

    assert (at(0.0), at(0.5), at(0.95), at(1.0)) == (1.0, 0.75, 0.25, 0.0)
    assert (tmp_path / "fig" / "profiles.png").stat().st_size > 1000
    with pytest.raises(SystemExit, match="no such directory"):
        performance_profiles.main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "x")])


def test_the_word_token_table_compares_the_two_normalizations_once_both_have_runs(tmp_path):
    """Word against token normalization: one committed word run, copied as a token run with fewer successes, gives
    both rows, each seed's Wilson interval and the two comparisons (one seed: no claim)."""
    import shutil

    from studies.lora_word_token.tables import word_token

    source = ROOT / "studies/lora_word_token/data/word_token/food_preparation/word"
    run = sorted(p for p in source.iterdir() if (p / "summary.json").exists())[0]
    for norm, rate in (("word", None), ("token", 0.25)):
        out = tmp_path / "studies/lora_word_token/data/word_token/food_preparation" / norm / run.name
        shutil.copytree(run, out)
        if rate is not None:
            summary = json.loads((out / "summary.json").read_text())
            (out / "summary.json").write_text(json.dumps({**summary, "sampled/success_rate": rate}))
    text = word_token(tmp_path)
    assert "| Food Preparation | word | 1 |" in text and "| Food Preparation | token | 1 |" in text
    assert "s0: 25/100 = 0.25 [0.18, 0.34]" in text  # Wilson 95% for 25 of 100
    assert (
        "word ends with more sampled success than token | 1.00 (n=1: no interval) | "
        "interim, 1 of 5 (rule set after the data) |" in text
    )
    assert word_token(tmp_path / "nothing").startswith("Not run yet")


def test_the_exact_success_table_checks_each_trained_seed_against_its_sampled_episodes(tmp_path):
    """A committed word run with two exact values: one inside its 100 sampled episodes' Wilson interval, one not
    (the count says which); the untrained row's chance of a success in 100 episodes is 1 - (1 - p)^100."""
    import shutil

    from studies.lora_word_token.exact_success import exact_success

    source = ROOT / "studies/lora_word_token/data/word_token/food_preparation/word"
    run = sorted(p for p in source.iterdir() if (p / "summary.json").exists())[0]
    shutil.copytree(run, tmp_path / "studies/lora_word_token/data/word_token/food_preparation/word" / run.name)
    k = round(json.loads((run / "summary.json").read_text())["sampled/success_rate"] * 100)
    metrics = pd.read_csv(run / "metrics.csv").dropna(subset=["charts/episodes"])  # episodes before the first success:
    first = int(
        metrics["charts/episodes"][
            metrics.global_step < metrics.global_step[metrics["charts/success_rate"] > 0].min()
        ].sum()
    )
    row = {"run": "x", "run_name": run.name, "env_id": "e", "model": "m", "norm": "word", "seed": 0, "states": 48}
    out = tmp_path / "studies/lora_word_token/data/exact_success"
    out.mkdir(parents=True)
    pd.DataFrame([{**row, "trained": False, "horizon": 50, "p_success": 0.01}]).to_csv(
        out / "word_token_untrained.csv", index=False
    )
    for exact, inside in ((k / 100, "1/1"), (abs(k / 100 - 0.5), "0/1")):
        pd.DataFrame([{**row, "trained": True, "horizon": 50, "p_success": exact}]).to_csv(
            out / "word_token_trained.csv", index=False
        )
        chance = f"{1 - 0.99**100:.3g}"
        text = exact_success(tmp_path)
        assert f"| word | 0.01 (1 in 100) | {chance} | s0: {first} | s0: {exact:.3g} ({k}/100) | {inside} |" in text
    assert exact_success(tmp_path / "nothing").startswith("Not run yet")


def test_no_file_in_the_repository_names_a_machine_s_absolute_path():
    """A researcher's checkout is not the developers': no committed file (code, docs, archived runs) names a home,
    root or work directory of some machine."""
    import re
    import subprocess

    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    machine_path = re.compile(r"(?<![\w.~-])/(?:work|root|home/[a-z_][\w-]*|Users/\w+)/")
    found = []
    for name in listed:
        path = ROOT / name
        if path.suffix in {".png", ".pdf", ".pt", ".safetensors", ".gz", ".bin"} or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        found += [f"{name}: {m.group(0)}" for m in machine_path.finditer(text)]
    assert not found, found[:20]


def test_every_archived_run_is_complete_and_no_lock_or_partial_file_is_committed():
    """A campaign archives a run's evaluations beside it before its summary: a commit made meanwhile would hold a
    half-written file and its lock. Every committed run folder with evaluations beside it has its summary."""
    import subprocess

    listed = subprocess.run(["git", "ls-files", "docs/data", "studies/*/data/*"], cwd=ROOT, capture_output=True,
                            text=True, check=True)  # fmt: skip
    names = listed.stdout.split()
    assert any(n.startswith("studies/") for n in names)  # the pathspec still finds the studies' data
    partial = [n for n in names if Path(n).name == ".lock" or n.endswith(".tmp")]
    assert not partial, partial[:20]
    evaluated = {Path(n).parent.parent for n in names if Path(n).parent.name in ("unseen", "retention")}
    missing = sorted(str(f) for f in evaluated if not (ROOT / f / "summary.json").is_file())
    assert not missing, missing[:20]


def test_no_code_doc_or_test_speaks_of_the_tracker_s_issue_numbers():
    """A reader has no access to the project's tracker: say the question, or link the section, not its numbers."""
    import re
    import subprocess

    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    tracker = re.compile(r"\bissues? ?#?\d+\b", re.IGNORECASE)
    found = []
    for name in listed:
        path = ROOT / name
        if (
            name.startswith("docs/data/")
            or "/data/" in name
            or path.suffix not in {".py", ".md", ".yaml", ".sh", ".toml"}
            or not path.is_file()
        ):
            continue
        found += [f"{name}: {m.group(0)}" for m in tracker.finditer(path.read_text())]
    assert not found, found[:20]


def test_every_test_the_docs_name_exists():
    """docs/RELIABILITY.md and the guides point a reader to the test that shows each behaviour: a renamed or moved
    test left them pointing nowhere (two rows did)."""
    import re

    tests = {path: path.read_text() for path in (ROOT / "tests").rglob("*.py")}
    defined = set(re.findall(r"^\s*(?:async )?def (test_\w+)", "\n".join(tests.values()), re.MULTILINE))
    found = []
    for md in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = md.read_text()
        for file, name in re.findall(r"(tests/[\w/]+\.py)::(\w+)", text):
            body = tests.get(ROOT / file, "")
            if not re.search(rf"^\s*def {name}\b", body, re.MULTILINE):
                found.append(f"{md.name}: {file}::{name}")
        for name in re.findall(r"`(test_\w+)`", text):
            if name not in defined and not list((ROOT / "tests").rglob(f"{name}.py")):
                found.append(f"{md.name}: {name}")
    assert not found, found


def test_the_campaign_tables_count_only_complete_archives_and_claim_nothing_before_the_planned_seeds(tmp_path):
    """A campaign run being evaluated has part of its rows on disk and no summary yet: the tables skip it. A claim
    whose arms lack seeds of their plan is "interim, n of N", even where its interval would exclude 0.5."""
    import shutil

    from doctables.common import claim_status

    from studies.smollm2_cpu import tables as smollm2_cpu
    from twosome.evaluation.statistics import Estimate

    source = ROOT / "studies/lora_word_token/data/word_token/food_preparation/word"
    runs = sorted(p for p in source.iterdir() if (p / "summary.json").exists())
    word = tmp_path / smollm2_cpu.CAMPAIGN / "food_preparation" / "word"
    for run in runs[:2]:
        shutil.copytree(run, word / run.name)
        (word / run.name / "unseen").mkdir()
        (word / run.name / "unseen" / "generalization.csv").write_text(
            f"task,seed,success_rate,episodes\ntwosome/VirtualHome-Cheese-v0,{run.name[-1]},1.0,50\n"
        )
    (word / runs[1].name / "summary.json").unlink()  # still being evaluated
    assert list(smollm2_cpu.unseen_rows(word).seed) == [int(runs[0].name[-1])]
    arms = smollm2_cpu.smollm2_cpu_arms(tmp_path)
    assert "| Food Preparation | TWOSOME (word) | bfloat16 | 1/10 (0) |" in arms
    assert claim_status(Estimate(0.9, 0.8, 1.0, 4), [1, 1, 1, 0.5], [0, 0, 0, 0], (10, 10)).startswith(
        "interim, 4 of 10"
    )
    assert smollm2_cpu.retention_verdict([0.02], 10)[1].startswith("interim, 1 of 10")
    small = [0.017, 0.015, 0.005, -0.001, 0.056]  # lr 1e-4's five adapters: above 0, and under +10%
    assert smollm2_cpu.retention_verdict(small, 5)[1].startswith("**loss holds**, **no loss beyond +10%**")
    assert smollm2_cpu.retention_verdict([0.3, 0.4, 0.2, 0.5, 0.6], 5, late=False)[1] == "**loss holds**"
    assert smollm2_cpu.retention_verdict([-0.01, 0.0, 0.01, 0.02, -0.02], 5, late=False)[1] == "**no loss beyond +10%**"
    assert claim_status(Estimate(0.9, 0.8, 1.0, 5), [1] * 5, [0] * 5, (5, 5)) == "**holds**"


def test_the_learning_rate_seeds_table_gives_each_adapter_s_change_against_the_base(tmp_path):
    """Seed by seed, the change in English perplexity is the adapter's after / the base's before - 1, the base read
    from the run that evaluated it (Food Preparation word seed 1), checked against the retention records by hand."""
    import shutil

    from studies.smollm2_cpu import tables as smollm2_cpu

    source = ROOT / smollm2_cpu.CAMPAIGN / "food_preparation"
    for arm, seed in [("word", 1), ("word_lr3e-4", 0), ("word_lr3e-4", 1)]:
        (run,) = (source / arm).glob(f"*-s{seed}")
        shutil.copytree(run, tmp_path / smollm2_cpu.CAMPAIGN / "food_preparation" / arm / run.name)

    def perplexity(arm: str, seed: int, which: str) -> float:
        (records,) = (source / arm).glob(f"*-s{seed}/retention/retention.json")
        (value,) = [r["value"] for r in json.loads(records.read_text()) if r["which"] == which
                    and r["task"] == "twosome_english_ppl" and r["metric"] == "word_perplexity"]  # fmt: skip
        return value

    base = perplexity("word", 1, "before")
    seeds = smollm2_cpu.smollm2_cpu_lr_seeds(tmp_path)
    for seed in (0, 1):
        success = json.loads(next((source / "word_lr3e-4").glob(f"*-s{seed}/summary.json")).read_text())
        change = perplexity("word_lr3e-4", seed, "after") / base - 1
        row = f"| 3e-4 | {seed} | {'never' if seed == 1 else '6,400'} | {success['sampled/success_rate']:.2f} |"
        assert f"{row} {change:+.2f} |" in seeds
    assert f"| 1e-3 | 1 | never | 0.00 | {perplexity('word', 1, 'after') / base - 1:+.2f} |" in seeds


def test_goto_runs_have_no_optimum_and_robustness_is_each_seeds_change_against_its_own_goto_success(tmp_path):
    """BabyAI-Text has no single optimal plan: a GoTo arm's row reads no fraction of an optimum (it must not fail).
    GLAM's robustness per seed: the mean sampled success over a group of settings less that seed's final sampled
    success on GoTo, checked against the hand-computed changes; short of its planned seeds it claims nothing."""
    from doctables import claims

    from studies.smollm2_cpu import tables as smollm2_cpu

    arm = tmp_path / smollm2_cpu.CAMPAIGN / "glam_goto" / "pretrained"
    goto = {0: 0.5, 1: 0.75}
    settings = {
        0: {"Distractors0": 0.5, "Distractors4": 0.25, "Distractors16": 0.0, "Navigation3": 1.0},
        1: {"Distractors0": 0.75, "Distractors4": 0.75, "Distractors16": 0.75, "Navigation3": 0.25},
    }

    def goto_run(directory: Path, seed: int, success: float, robustness: dict[str, float] | None) -> None:
        fake_archived_run(directory, "glam", "none", seed, success)
        run = directory / f"glam-none-s{seed}"
        summary = json.loads((run / "summary.json").read_text())
        summary.update({"env_id": "twosome/BabyAI-GoTo-v0", "env_steps": 4096, "eval/discounted_return": 0.0,
                        "model_dtype": "float32", "wall_seconds": 4096.0})  # fmt: skip
        (run / "summary.json").write_text(json.dumps(summary))
        if robustness is not None:
            (run / "robustness").mkdir()
            rows = [f"twosome/BabyAI-GoTo-{name}-v0,{seed},{rate},8" for name, rate in robustness.items()]
            (run / "robustness" / "generalization.csv").write_text(
                "task,seed,success_rate,episodes\n" + "\n".join([f"twosome/BabyAI-GoTo-v0,{seed},0.5,8", *rows]) + "\n"
            )

    for seed, success in goto.items():
        goto_run(arm, seed, success, settings[seed])
    # seed 2 of the arm has no robustness (its adapter was lost); its retrained run has, against its own GoTo success
    goto_run(arm, 2, 0.0, None)
    retrained = tmp_path / smollm2_cpu.CAMPAIGN / "glam_goto" / "pretrained_retrained"
    goto_run(retrained, 2, 0.25, {"Distractors0": 0.5, "Useless6": 0.0})
    arms = smollm2_cpu.smollm2_cpu_arms(tmp_path)
    assert "| BabyAI-Text GoTo (GLAM) | GLAM, pretrained SmolLM2 |" in arms and "| 3/10 (0, 1, 2) | - | - |" in arms
    rows, changes = smollm2_cpu.robustness_changes(tmp_path)
    distractors, actions = changes.values()
    assert distractors == pytest.approx([0.25 - 0.5, 0.75 - 0.75, 0.5 - 0.25])
    assert actions == pytest.approx([0.5, -0.5, 0.0 - 0.25])
    assert set(rows.setting) == {"GoTo", "Distractors0", "Distractors4", "Distractors16", "Navigation3", "Useless6"}
    assert claims.robustness_claim(tmp_path).count("interim, 3 of 10") == 2
    assert "(the reference; seed 2 from its retrained run) | 0.50 [" in smollm2_cpu.smollm2_cpu_glam_robustness(
        tmp_path
    )
    assert smollm2_cpu.robustness_verdict([0.05, -0.05, 0.0, 0.02, -0.02], 5).startswith("**robust**")
    assert smollm2_cpu.robustness_verdict([-0.5, -0.4, -0.45, -0.6, -0.5], 5) == "**loss holds**"


def test_the_goto_seeds_table_counts_each_seeds_training_wins_by_window_and_its_entropy_first_and_last(tmp_path):
    """One row per seed, in seed order: the training episodes that ended in each window counted from the logged
    rates (0.5 of 2 episodes is 1 win), the entropy of the first and last update, the final evaluations' counts."""
    from studies.smollm2_cpu import glam

    arm = tmp_path / glam.CAMPAIGN_GOTO["pretrained"]
    for seed, success in ((1, 0.0), (0, 0.4)):
        fake_archived_run(arm, "glam", "none", seed, success)
        run = arm / f"glam-none-s{seed}"
        summary = json.loads((run / "summary.json").read_text())
        (run / "summary.json").write_text(json.dumps({**summary, "eval/success_rate": 0.25, "eval/episodes": 16}))
        explore = ",explore/optimal_prob_mean" if seed == 0 else ""  # seed 1 archived before it was logged
        values = [",0.2", ",", ",0.4", ",0.6"] if seed == 0 else [""] * 4
        (run / "metrics.csv").write_text(
            f"global_step,charts/episodes,charts/success_rate,losses/entropy{explore}\n"
            f"1024,2,0.5,1.5{values[0]}\n2048,,,1.0{values[1]}\n3072,4,0.25,{values[2]}\n4096,3,1.0,0.5{values[3]}\n"
        )
    rows = glam.smollm2_cpu_goto_seeds(tmp_path).splitlines()[2:]
    assert [r.split(" | ")[1] for r in rows] == ["0", "1"]
    cells = rows[0].split(" | ")
    assert cells[2].startswith("5/9 = 0.56") and cells[3].startswith("3/3 = 1.00") and cells[4] == "1.50 -> 0.50"
    assert cells[5] == "0.20 -> 0.60" and rows[1].split(" | ")[5] == "-"  # the last quarter of 3 values: the last
    assert cells[6].startswith("40/100 = 0.40") and cells[7].startswith("4/16 = 0.25")


def test_archiving_never_replaces_a_run_of_other_settings_without_replace(tmp_path, capsys):
    """A try-out at a smaller budget has the same run name as the committed run: archiving it is refused before
    anything is written, naming the file and the setting; the same settings (a resumed run finishing) replace."""

    def finished(name: str, steps: int, success: float) -> Path:
        run = tmp_path / name / "0_twosome-x-s1"
        run.mkdir(parents=True)
        config = f"paths:\n  root_dir: {tmp_path / name}\nrollout:\n  total_env_steps: {steps}\n"
        (run / "config.yaml").write_text(config)
        (run / "summary.json").write_text(json.dumps({"run_name": "twosome-x-s1", "sampled/success_rate": success}))
        return run

    data = tmp_path / "data"
    archive_runs.main([str(finished("study", 16384, 0.9).parent), "--out", str(data)])
    committed = (data / "twosome-x-s1" / "summary.json").read_text()
    tryout = finished("tryout", 512, 0.1).parent
    with pytest.raises(SystemExit, match=r"(?s)other settings.*twosome-x-s1.*total_env_steps: 16384 -> 512"):
        archive_runs.main([str(tryout), "--out", str(data)])
    with pytest.raises(archive_runs.Conflict, match="--replace"):
        archive_runs.archive(next(tryout.iterdir()), data)
    assert (data / "twosome-x-s1" / "summary.json").read_text() == committed
    archive_runs.main([str(finished("rerun", 16384, 0.8).parent), "--out", str(data)])  # other checkout, same run
    assert json.loads((data / "twosome-x-s1" / "summary.json").read_text())["sampled/success_rate"] == 0.8
    archive_runs.main([str(tryout), "--out", str(data), "--replace"])
    assert json.loads((data / "twosome-x-s1" / "summary.json").read_text())["sampled/success_rate"] == 0.1


def test_a_damaged_data_file_is_named_when_a_table_cannot_be_made(tmp_path):
    bad = tmp_path / "docs" / "data" / "study" / "run" / "summary.json"
    bad.parent.mkdir(parents=True)
    bad.write_text('{"run_name": ')
    (bad.parent / "metrics.csv").write_text("global_step\n1\n")  # intact: not named
    text = "<!-- table: t -->\n| a |\n|---|\n<!-- /table -->\n"
    with pytest.raises(SystemExit, match=r"(?s)table 't' could not be made \(JSONDecodeError.*damaged data files:\n"):
        docs_tables.render(text, tmp_path, {"t": lambda root: json.loads(bad.read_text())})
    try:
        docs_tables.render(text, tmp_path, {"t": lambda root: json.loads(bad.read_text())})
    except SystemExit as stop:
        named = str(stop).split("damaged data files:\n")[1].splitlines()
    assert len(named) == 1 and named[0].strip().startswith(str(bad))


def test_the_default_model_s_retention_is_each_adapter_against_its_base_and_skips_unfinished_runs(tmp_path):
    """Household perplexity as after / before - 1 and accuracy as after - before, per seed, hand-computed; a run
    whose summary is not archived yet (still being evaluated) counts nowhere."""
    from studies.ten_seeds import default_retention as dr

    def run(task: str, seed: int, before: tuple, after: tuple, finished: bool = True) -> None:
        folder = tmp_path / dr.STUDY / task / f"twosome-s{seed}"
        (folder / "retention").mkdir(parents=True)
        measures = [dr.CLAIM_MEASURE, ("twosome_household_mc", "acc")]
        records = [{"seed": seed, "which": which, "task": t, "metric": m, "value": v}
                   for which, values in (("before", before), ("after", after))
                   for (t, m), v in zip(measures, values)]  # fmt: skip
        (folder / "retention" / "retention.json").write_text(json.dumps(records))
        if finished:
            (folder / "summary.json").write_text("{}")

    run("tomato_salad", 0, (4.0, 0.5), (5.0, 0.25))
    run("tomato_salad", 1, (4.0, 0.5), (3.0, 0.5))
    run("food_preparation", 0, (4.0, 0.5), (4.4, 0.75))
    run("food_preparation", 1, (4.0, 0.5), (8.0, 0.75), finished=False)
    changes = dr.perplexity_changes(tmp_path)
    assert changes["tomato_salad"] == [0.25, -0.25] and changes["food_preparation"] == [pytest.approx(0.1)]
    accuracy = dr.changes(dr.retention_records(tmp_path / dr.STUDY / "tomato_salad"), "twosome_household_mc", "acc")
    assert list(accuracy.change) == [-0.25, 0.0]
    rows = dr.default_retention(tmp_path)
    assert "| Tomato Salad | household word perplexity (the claim's metric) | 2 | 4 |" in rows
    assert "| Food Preparation | household MC accuracy | 1 | 0.5 |" in rows


def test_the_studies_index_counts_each_plan_s_runs_against_its_study_s_data(tmp_path):
    """A study's status in docs/RESULTS.md is counted, not typed: the runs its plans ask for (seeds times comma
    lists, sweeps sharing an archive summed) against the runs archived there, runs outside its plans beside; a study
    without a plan says so."""
    from doctables.studies_index import studies_index

    study = tmp_path / "studies" / "demo"
    (study / "README.md").parent.mkdir(parents=True)
    (study / "README.md").write_text("# A demo study\n\n**Question.** Does it count?\n")
    plan = {"name": "demo", "sweeps": [
        {"name": "a", "overrides": ["norm=word,token"], "seeds": [0, 1], "archive": "demo/task"},
        {"name": "b", "overrides": ["agent=saycan"], "seeds": [0, 1, 2], "archive": "demo/task"},
    ]}  # fmt: skip
    (study / "plan.yaml").write_text(yaml.safe_dump(plan))
    for seed in range(3):
        fake_archived_run(study / "data" / "demo" / "task", "twosome", "word", seed, 0.5)
    assert "| [A demo study](../studies/demo/README.md) | Does it count? | in progress: 3 of 7 planned runs" in (
        studies_index(tmp_path)
    )
    for seed in range(3, 10):  # more runs than planned count as the planned ones
        fake_archived_run(study / "data" / "demo" / "task", "twosome", "word", seed, 0.5)
    assert "| complete |" in studies_index(tmp_path)
    fake_archived_run(study / "data" / "demo" / "pilot", "twosome", "word", 0, 0.5)  # a script's run, in no plan
    assert "| complete; 1 more run archived outside its plans |" in studies_index(tmp_path)
    (study / "plan.yaml").unlink()
    assert "11 runs archived (made by a script, no plan)" in studies_index(tmp_path)


def test_a_study_quotes_any_generated_table_of_the_results_and_nothing_typed_from_nowhere():
    """A study's write-up may quote the claims table of docs/RESULTS.md or another study's table (the results are
    one body), but a number no generated table gives is still refused; docs/ documents quote only their own."""
    other = "<!-- table: t -->\n| a |\n|---|\n| 0.79 [0.64, 0.93] |\n<!-- /table -->\n"
    prose = "Over the tasks, 0.79 [0.64, 0.93]; typed, 0.50 [0.16, 1.00].\n"
    assert docs_tables.unquoted_estimates(prose, other) == [(1, "0.50 [0.16, 1.00]")]
    assert len(docs_tables.unquoted_estimates(prose)) == 2
    assert "studies/exploration/README.md" in docs_tables.documents()
    assert any(m.__name__ == "studies.exploration.tables" for m in docs_tables.table_modules())
