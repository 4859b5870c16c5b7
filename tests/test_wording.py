"""env.wording: every paraphrase keeps the environment's states, transitions and rewards (random play,
side by side with the environment it rewords), keeps its actions distinguishable, really rewords, and is refused by
name when unknown."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from helpers import compose_cfg

import twosome.envs  # noqa: F401
from twosome.config import ConfigError, validate
from twosome.envs.wording import CANONICAL, RANDOM, Reworded, names, train_wordings

ENVS = [
    "twosome/Overcooked-TomatoSalad-v0",
    "twosome/Overcooked-TomatoLettuceSalad-v0",
    "twosome/VirtualHome-FoodPreparation-v0",
    "twosome/VirtualHome-Entertainment-v0",
    "twosome/BabyAI-GoTo-v0",
]
CASES = [(e, w) for e in ENVS for w in names(e) if w != CANONICAL]


@pytest.mark.parametrize("env_id, wording", CASES)
def test_a_wording_keeps_the_environment_and_its_actions_apart(env_id, wording):
    plain, reworded = gym.make(env_id), Reworded(gym.make(env_id), wording)
    rng = np.random.default_rng(0)
    changed = False
    for episode in range(3):
        _, info = plain.reset(seed=episode)
        _, rinfo = reworded.reset(seed=episode)
        for _ in range(40):
            order = reworded.order if reworded.order is not None else np.arange(len(info["actions"]))
            assert [rinfo["actions"][i] for i in np.argsort(order)] == [
                reworded.wording.action_text(a) for a in info["actions"]
            ]
            assert len(set(rinfo["actions"])) == len(rinfo["actions"]), rinfo["actions"]  # still distinguishable
            np.testing.assert_array_equal(rinfo["action_mask"], np.asarray(info["action_mask"])[order])
            changed |= rinfo["prompt"] != info["prompt"] or rinfo["actions"] != info["actions"]
            shown = int(rng.choice(np.flatnonzero(rinfo["action_mask"])))
            step = plain.step(int(order[shown]))
            rstep = reworded.step(shown)
            np.testing.assert_equal(step[0], rstep[0])
            assert step[1:4] == rstep[1:4]
            info, rinfo = step[4], rstep[4]
            if step[2] or step[3]:
                break
    assert changed, f"{wording} changed nothing on {env_id}"


def test_random_draws_training_wordings_per_episode_from_the_reset_seed():
    env_id = "twosome/VirtualHome-Entertainment-v0"
    env = Reworded(gym.make(env_id), RANDOM)
    drawn = []
    for seed in range(30):
        env.reset(seed=seed)
        drawn.append(env.wording.name)
    assert set(drawn) == set(train_wordings(env_id)) and len(train_wordings(env_id)) == 3
    again = Reworded(gym.make(env_id), RANDOM)
    assert [again.reset(seed=s) and again.wording.name for s in range(30)] == drawn  # the seed decides


def test_a_shuffle_is_the_same_permutation_in_every_process():
    code = (
        "import gymnasium as gym, twosome.envs; from twosome.envs.wording import Reworded;"
        "e = Reworded(gym.make('twosome/VirtualHome-Entertainment-v0'), 'shuffled'); e.reset(seed=0);"
        "print(list(e.order))"
    )
    runs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout for _ in range(2)}
    assert len(runs) == 1 and runs.pop().strip().startswith("[")


def test_an_unknown_wording_is_refused_naming_the_valid_ones():
    with pytest.raises(ConfigError, match=r"env.wording='nope' is not valid; valid: \['canonical', 'plain'"):
        validate(compose_cfg("env=overcooked", "env.wording=nope"))
    validate(compose_cfg("env=babyai_text", "env.wording=random"))
    with pytest.raises(ValueError, match="not valid for"):
        Reworded(gym.make("twosome/BabyAI-GoTo-v0"), "synonyms")  # an Overcooked wording
