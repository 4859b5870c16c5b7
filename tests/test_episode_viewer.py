"""The episode viewer plays a few steps with an untrained TWOSOME agent on each env family and writes GIF + JSON."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
import episode_viewer  # noqa: E402
from helpers import compose_cfg


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A TWOSOME run directory with only its config (loaded ``--untrained``): no training needed."""
    run = tmp_path_factory.mktemp("run")
    cfg = compose_cfg("agent=twosome", "env=overcooked", f"model.path={tiny_model_dir}", "model.build=null")
    OmegaConf.save(cfg, run / "config.yaml", resolve=True)
    return run


@pytest.mark.parametrize(
    "env_id",
    [None, "twosome/VirtualHome-Cheese-v0", "twosome/BabyAI-GoTo-v0", "twosome/TextWorld-Cooking-v0"],
    ids=["overcooked-tomato-salad", "virtualhome-cheese", "babyai-goto", "textworld-cooking"],
)
def test_viewer_writes_one_frame_per_step_and_a_consistent_json(run_dir, tmp_path, env_id):
    out = tmp_path / "episode.gif"
    argv = [str(run_dir), "--untrained", "--max-steps", "4", "--seed", "3", "--out", str(out)]
    record = episode_viewer.main(argv + (["--env", env_id] if env_id else []))

    saved = json.loads(out.with_suffix(".json").read_text())
    assert saved["env"] == (env_id or "twosome/Overcooked-TomatoSalad-v0")
    steps = saved["steps"]
    assert len(steps) == 4 or (saved["ended"] and 1 <= len(steps) < 4)
    assert saved["return"] == pytest.approx(sum(s["reward"] for s in steps))
    for step in steps:
        valid = [p for p, ok in zip(step["probabilities"], step["valid"]) if ok]
        assert math.isclose(sum(valid), 1.0, abs_tol=1e-5)
        assert step["valid"][step["chosen"]]
        assert step["chosen_text"] == step["actions"][step["chosen"]] and step["prompt"]
    assert record["steps"] == steps

    with Image.open(out) as gif:
        assert gif.n_frames == len(steps) + 1  # one per decision, then the final state


def test_unknown_env_family_is_refused():
    with pytest.raises(ValueError, match="no frame drawer"):
        episode_viewer.family_of("CartPole-v1")


@pytest.mark.parametrize(
    "args, message",
    [(["--env", "CartPole-v1"], "--env 'CartPole-v1': no frame drawer"), (["--max-steps", "0"], "--max-steps must")],
)
def test_bad_arguments_are_refused_before_the_model_loads(run_dir, tmp_path, capsys, args, message):
    with pytest.raises(SystemExit):
        episode_viewer.main([str(run_dir), "--untrained", "--out", str(tmp_path / "e.gif"), *args])
    assert message in capsys.readouterr().err and not list(tmp_path.iterdir())
    with pytest.raises(SystemExit):
        episode_viewer.main([str(tmp_path / "not-a-run")])
    assert "has no config.yaml: is it a run directory" in capsys.readouterr().err
