"""The end-to-end benchmark trains real cases, here and on a git commit, and reports rates split by phase."""

from __future__ import annotations

import pandas as pd

from twosome.bench import end_to_end


def test_end_to_end_benchmark_against_a_commit(tmp_path):
    args = ["--envs", "overcooked", "--models", "tiny", "--scorers", "shared", "--updates", "2"]
    end_to_end.main([*args, "--num-envs", "2", "--num-steps", "8", "--ref", "HEAD", "--out", str(tmp_path)])
    df = pd.read_csv(tmp_path / "e2e.csv")
    assert df["code"].tolist() == ["this", "HEAD"]
    assert (df.env_steps == 16).all() and (df.updates_measured == 1).all()  # the warm-up update is left out
    shares = df[["rollout_share", "value_share", "policy_share"]].sum(axis=1)
    assert (shares.round(6) == 1).all() and (df.env_steps_per_second > 0).all()
    assert "speedup" in (tmp_path / "e2e.md").read_text() and (tmp_path / "e2e.png").stat().st_size > 1000


def test_unknown_case_names_are_rejected(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        end_to_end.main(["--envs", "atari", "--out", str(tmp_path)])
    assert "--envs ['atari'] not valid; valid: ['overcooked', 'babyai_goto', 'virtualhome']" in capsys.readouterr().err
    assert not tmp_path.joinpath("e2e.csv").exists()


def test_lora_layers_cases_are_checked(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        end_to_end.main(["--lora-layers", "all,0", "--out", str(tmp_path)])
    assert "--lora-layers ['0'] not valid; valid: all or an integer >= 1" in capsys.readouterr().err


def test_a_ref_from_before_the_rollout_group_gets_its_rollout_keys_under_ppo(tmp_path):
    """--ref runs the same cases on an older commit, whose config kept the rollout's shape in ``ppo``."""
    from twosome.bench.end_to_end import ROOT, case_overrides

    (tmp_path / "conf" / "ppo").mkdir(parents=True)
    (tmp_path / "conf" / "ppo" / "laptop.yaml").write_text("total_env_steps: 16384\nnum_envs: 4\n")
    old = case_overrides("overcooked", "tiny", "shared", 2, 4, 32, tmp_path)
    new = case_overrides("overcooked", "tiny", "shared", 2, 4, 32, ROOT)
    assert "ppo.total_env_steps=256" in old and "rollout.total_env_steps=256" in new
    assert [o for o in old if "env_steps" not in o and "num_" not in o] == [
        o for o in new if "env_steps" not in o and "num_" not in o
    ]
