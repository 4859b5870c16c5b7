"""The comparison presets: every command they generate composes into a valid run config."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from test_config import compose_cfg

from twosome.training.build import validate

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "experiments"))
import compare  # noqa: E402

PROFILES = sorted(p.stem for p in (ROOT / "conf" / "compare").glob("*.yaml"))


def sweep_members(cmd: list[str]) -> list[list[str]]:
    """The overrides of each job of a multirun command (comma lists expanded), minus hydra.* settings."""
    jobs: list[list[str]] = [[]]
    for arg in cmd[3:]:
        if arg.startswith("hydra.") or "=" not in arg:
            continue
        key, value = arg.split("=", 1)
        values = value.split(",")[:1] if key == "seed" else value.split(",")  # seeds compose alike: one is enough
        jobs = [job + [f"{key}={v}"] for job in jobs for v in values]
    return jobs


@pytest.mark.parametrize("profile", PROFILES)
def test_every_comparison_job_composes_and_validates(profile):
    from omegaconf import OmegaConf

    tasks = OmegaConf.load(ROOT / "conf" / "compare" / f"{profile}.yaml").tasks
    seen_agents = set()
    for task in tasks:
        cmds = compare.commands(profile, task, None, [])
        for cmd in cmds:
            for job in sweep_members(cmd):
                cfg = compose_cfg(*job)
                validate(cfg)
                seen_agents.add(cfg.agent.name)
                if cfg.agent.train:
                    assert cfg.ppo.total_env_steps >= 1000
    assert seen_agents == {"twosome", "ppo", "saycan", "zeroshot"}


def test_comparison_rejects_unknown_names():
    with pytest.raises(SystemExit, match="valid: "):
        compare.commands("small", "tomato_soup", None, [])
    with pytest.raises(SystemExit, match="valid: "):
        compare.commands("huge", "tomato_salad", None, [])
    with pytest.raises(SystemExit, match="unknown agents"):
        compare.commands("small", "tomato_salad", ["dqn"], [])
