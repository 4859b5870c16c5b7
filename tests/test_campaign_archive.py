"""experiments/campaign.py local and analysis/archive_runs.py: what a plan's archive already holds decides what is
done, and a run of other settings never goes into a study. No run trains here: the archive is written by hand."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from test_campaign import write_plan

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))
sys.path.insert(0, str(ROOT / "analysis"))
import archive_runs  # noqa: E402
import campaign  # noqa: E402
import campaign_local  # noqa: E402


def composed(common: tuple[str, ...], overrides: tuple[str, ...], seed: int) -> str:
    """The config.yaml a run of these overrides writes (its resolved config)."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return OmegaConf.to_yaml(compose("train", overrides=[*common, *overrides, f"seed={seed}"]), resolve=True)


def archive_by_hand(plan_path: Path, data: Path, sweep: str, seed: int, steps: int | None = None) -> Path:
    """The folder ``campaign.py local`` archives a seed of ``sweep`` into, written with the config the plan composes
    (at ``steps`` instead of the plan's budget, if given) and a summary."""
    plan = campaign.load_plan(plan_path)
    job = next(j for j in campaign_local.jobs_of(plan, Path("/nowhere"), data) if j.name == f"{sweep}/s{seed}")
    overrides = [*job.sweep.overrides, *([f"rollout.total_env_steps={steps}"] if steps else [])]
    config = composed(plan.common, tuple(overrides), seed)
    name = campaign_local.run_names(plan.common, job.sweep.overrides, job.sweep.seeds)[seed]
    target = data / job.sweep.archive / name
    target.mkdir(parents=True)
    (target / "config.yaml").write_text(config)
    (target / "summary.json").write_text(json.dumps({"run_name": name}))
    return target


def test_a_try_out_plan_is_refused_by_a_study_of_other_settings_and_done_means_these_settings(tmp_path, capsys):
    """A plan whose ``archive:`` names a committed study but runs other settings (512 steps): seed 0 was reported
    done because a run of its name is archived, and seed 1 trained and was archived beside the study's seeds."""
    data, root = tmp_path / "data", tmp_path / "root"
    plan = write_plan(tmp_path, tmp_path / "no-model", steps=512)
    study = archive_by_hand(plan, data, "word", 0, steps=16384).parent  # the committed study: seed 0 at 16,384
    before = sorted(p.relative_to(data) for p in data.rglob("*"))

    campaign.main(["local", str(plan), "--root", str(root), "--data", str(data), "--dry-run"])
    lines = capsys.readouterr().out.splitlines()
    for seed in (0, 1):  # seed 0: its name; seed 1: the study's other seeds
        line = next(x for x in lines if x.startswith(f"word/s{seed} "))
        assert "other settings" in line and "rollout.total_env_steps: 16384 -> 512" in line, line
    assert not any(x.startswith("word/s0") and " done " in x for x in lines)
    with pytest.raises(SystemExit, match=r"(?s)2 job\(s\) would archive runs of other settings.*total_env_steps"):
        campaign.main(["local", str(plan), "--root", str(root), "--data", str(data), "--budget-s", "900"])
    assert not list(root.glob("tiny/*/s*")), "nothing may run"
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before

    # archive_runs itself: a run of a new seed at other settings is not added beside the study's
    common, overrides = campaign.load_plan(plan).common, ("norm=word", "rollout.total_env_steps=512")
    name = campaign_local.run_names(common, overrides, (1,))[1]
    run = tmp_path / "tryout" / "s1"
    run.mkdir(parents=True)
    (run / "config.yaml").write_text(composed(common, overrides, 1))
    (run / "summary.json").write_text(json.dumps({"run_name": name}))
    with pytest.raises(SystemExit, match=r"(?s)other settings.*other seeds of .*-s1.*total_env_steps: 16384 -> 512"):
        archive_runs.main([str(run.parent), "--out", str(study)])
    with pytest.raises(archive_runs.Conflict, match="rollout.total_env_steps: 16384 -> 512"):
        archive_runs.archive(run, study)
    assert not (study / name).exists()
    study_settings = ("norm=word", "rollout.total_env_steps=16384")
    (run / "config.yaml").write_text(composed(common, study_settings, 1))
    archive_runs.archive(run, study)  # the study's settings, another seed: added
    assert (study / name / "summary.json").is_file()


def test_an_archived_job_whose_run_is_gone_is_done_though_an_after_step_cannot_run(tmp_path, capsys):
    """An archived seed whose ``after`` step's output is missing and whose run (the adapter the step reads) is not on
    this machine: it was "to run", and the next call would have trained it again from scratch."""
    data, root = tmp_path / "data", tmp_path / "root"
    after = [{"name": "robustness", "creates": "robustness/generalization.csv", "run": "{python} -c pass"}]
    plan = write_plan(tmp_path, tmp_path / "no-model", steps=192)
    raw = json.loads(plan.read_text())
    raw["sweeps"] = [dict(raw["sweeps"][0], after=after)]
    plan.write_text(json.dumps(raw))
    archive_by_hand(plan, data, "word", 0)
    done = archive_by_hand(plan, data, "word", 1)
    (done / "robustness").mkdir()
    (done / "robustness" / "generalization.csv").write_text("task\n")

    campaign.main(["local", str(plan), "--root", str(root), "--data", str(data), "--dry-run"])
    out = capsys.readouterr().out
    assert (
        "word/s0                      archived; after step robustness cannot run (its run is not on this machine)"
        in out
    )
    assert "to run" not in out
    assert campaign.archived(campaign.load_plan(plan), root, data) == {"word": 2}
    assert campaign.main(["local", str(plan), "--root", str(root), "--data", str(data), "--budget-s", "900"]) == 0
    out = capsys.readouterr().out
    assert "word/s0: archived; after step robustness cannot run" in out and "2/2 jobs done; 0 to run" in out
    assert not list(root.glob("tiny/*/s*")), "nothing may run"


@pytest.mark.parametrize(
    "text, message",
    [
        ("name: t\nsweeps:\n  - {name: a, overrides: [norm=word, seeds: [0]\n", "is not a valid plan: while parsing"),
        ("- a\n- b\n", "is not a valid plan: a mapping of name, common, parallel, sweeps"),
        (
            "sweeps:\n  - {name: a, overrides: [ppo.polcy_lr=1], seeds: [0], archive: t}\n",
            "overrides ppo.polcy_lr=1 seed=0 do not compose: Could not override 'ppo.polcy_lr'",
        ),
        ("sweeps:\n  - {name: a, overrides: [model=nope], seeds: [0], archive: t}\n", "Could not find 'model/nope'"),
    ],
    ids=["yaml", "not-a-mapping", "key-typo", "option-typo"],
)
@pytest.mark.parametrize("verb", ["local", "status"])
def test_a_plan_with_a_yaml_error_or_an_override_typo_is_refused_in_one_line(tmp_path, text, message, verb):
    """They ended in the parser's or Hydra's traceback around the one line that said what was wrong."""
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    args = [verb, str(plan), "--root", str(tmp_path / "root"), "--data", str(tmp_path)]
    with pytest.raises(SystemExit) as refused:
        campaign.main([*args, "--dry-run"] if verb == "local" else args)
    assert message in str(refused.value.code), refused.value.code
