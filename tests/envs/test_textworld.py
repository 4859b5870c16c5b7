"""Generated TextWorld cooking games: deterministic generation, disjoint splits, the game's own walkthrough winning
through the suite's environment, the admissible commands as actions, exact pickling (for checkpoints)."""

from __future__ import annotations

import json
import pickle
import signal
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from helpers import compose_cfg, run_cli, same_results, small_run, start, wait_for_checkpoint

import twosome.envs  # noqa: F401  (registers the ids)
from twosome.envs.textworld.games import (
    SPLIT_SEED_BASE,
    CookingSettings,
    ensure_game,
    game_digest,
    game_path,
    game_seed,
    walkthrough,
)


@pytest.fixture(scope="module")
def game_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("textworld")


def make(game_dir, env_id="twosome/TextWorld-Cooking-v0", **kwargs):
    return gym.make(env_id, num_games=1, game_dir=str(game_dir), **kwargs).unwrapped


def winning_commands(env) -> list[str]:
    """The walkthrough TextWorld stored with the game the env is playing."""
    return walkthrough(game_path(env.game_dir, env.settings, env.split, env.game_index))


# The first training game of the default difficulty, as played (games.game_digest): the same on every machine, and
# after any change of TextWorld (the pin in pyproject.toml) that changes the games the suite's results were made on.
FIRST_GAME = "9a839e1ee3305e30448225d21b1a2427cabf67fb266d83125c6494e65ad4cc5b"


def test_a_game_is_a_function_of_its_settings_split_and_index(tmp_path, game_dir):
    a = ensure_game(game_dir, CookingSettings(), "train", 0)
    b = ensure_game(tmp_path, CookingSettings(), "train", 0)
    assert game_digest(a) == game_digest(b) == FIRST_GAME
    assert ensure_game(game_dir, CookingSettings(), "train", 0) == a  # cached: not compiled again
    assert not list(a.parent.glob(".compiling-*"))  # nothing half written left behind
    bases = sorted(SPLIT_SEED_BASE.values())  # no game of one split is a game of another
    splits = sorted(SPLIT_SEED_BASE, key=SPLIT_SEED_BASE.get)
    assert all(game_seed(split, 999_999) < following for split, following in zip(splits, bases[1:]))


def test_the_games_walkthrough_wins_through_the_environment(game_dir):
    env = make(game_dir)
    obs, info = env.reset(seed=0)
    assert obs == info["prompt"] and obs.endswith("your next step is to")
    assert "Your goal: You are hungry!" in obs
    assert len(info["actions"]) == env.action_space.n == 64
    total = 0.0
    for command in winning_commands(env):
        valid = [a for a, ok in zip(info["actions"], info["action_mask"], strict=True) if ok]
        assert command in valid, (command, valid)
        assert valid == sorted(valid) and "" not in valid  # the padding slots are masked
        obs, reward, terminated, truncated, info = env.step(info["actions"].index(command))
        total += reward
        assert info["command"] == command
        if command == "examine cookbook":
            assert "The recipe you read:" in obs and "Ingredients:" in obs
    assert terminated and not truncated and info["success"]
    assert total == info["max_score"] == info["score"] > 0
    env.close()


def test_meta_commands_can_be_dropped_and_masked_slots_are_refused(game_dir):
    keep = make(game_dir)
    _, info = keep.reset(seed=0)
    kept = [a for a, ok in zip(info["actions"], info["action_mask"], strict=True) if ok]
    drop = make(game_dir, meta_commands="drop")
    _, info = drop.reset(seed=0)
    dropped = [a for a, ok in zip(info["actions"], info["action_mask"], strict=True) if ok]
    assert {"look", "inventory"} <= set(kept) and not {"look", "inventory"} & set(dropped)
    assert "examine cookbook" in dropped
    assert not [a for a in dropped if a.startswith("examine ") and "cookbook" not in a]
    assert set(dropped) < set(kept)
    with pytest.raises(ValueError, match=f"invalid action {len(dropped)}: this state has {len(dropped)} commands"):
        drop.step(len(dropped))
    few = make(game_dir, max_actions=4)
    _, info = few.reset(seed=0)
    assert info["action_mask"].tolist() == [True] * 4 and info["commands_cut"] == len(kept) - 4


def test_truncation_history_and_pickled_copies_replay_exactly(game_dir):
    env = make(game_dir, max_steps=5, history=1)
    _, info = env.reset(seed=0)
    look = info["actions"].index("look")
    env.step(look)
    obs, *_ = env.step(info["actions"].index("inventory"))
    assert "You did: inventory." in obs and "You did: look." not in obs  # history=1
    copy = pickle.loads(pickle.dumps(env))
    rng = np.random.default_rng(0)
    while True:  # steps 3, 4, 5: the copy answers every command as the original does
        a = int(rng.choice(np.flatnonzero(info["action_mask"])))
        mine, theirs = env.step(a), copy.step(a)
        assert mine[:4] == theirs[:4] and mine[4]["actions"] == theirs[4]["actions"]
        info = mine[4]
        if mine[2] or mine[3]:
            break
    assert mine[2] or (mine[3] and env.elapsed_steps == 5)  # truncated at max_steps=5 unless the game ended first


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"split": "dev"}, "split='dev' is not valid; valid: train, valid, test"),
        ({"go": 3}, "go=3 is not valid; valid: 1, 6, 9, 12 rooms"),
        ({"recipe": 2, "take": 3}, "take=3 is not valid; valid: 0 to recipe=2"),
        ({"max_actions": 1}, "max_actions=1 is not valid; valid: an integer >= 2"),
        ({"meta_commands": "hide"}, "meta_commands='hide' is not valid; valid: keep, drop"),
        ({"num_games": 0}, "num_games=0 is not valid; valid: an integer from 1"),
    ],
)
def test_bad_options_are_refused_before_any_game_is_made(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        gym.make("twosome/TextWorld-Cooking-v0", game_dir=str(tmp_path), **kwargs)
    assert not list(tmp_path.iterdir())


def test_test_games_are_other_games_with_unseen_foods(game_dir):
    train, test = make(game_dir), make(game_dir, "twosome/TextWorld-CookingTest-v0")
    train.reset(seed=0)
    test.reset(seed=0)
    assert test.split == "test" and train.split == "train"
    train_game = game_path(game_dir, train.settings, "train", train.game_index)
    test_game = game_path(game_dir, test.settings, "test", test.game_index)
    assert game_digest(train_game) != game_digest(test_game)


def test_unseen_games_are_evaluated_at_the_training_runs_difficulty():
    """The generalization tool takes a TextWorld run's difficulty, game count and folder to the other splits; other
    families keep their registered options."""
    from omegaconf import OmegaConf

    from twosome.evaluation.generalization import carried_kwargs

    options = {"num_games": 3, "recipe": 2, "take": 1, "go": 6, "game_dir": "g", "max_steps": 40}
    run = OmegaConf.create({"env": {"id": "twosome/TextWorld-Cooking-v0", "kwargs": options}})
    assert carried_kwargs(run, "twosome/TextWorld-CookingTest-v0") == options
    assert carried_kwargs(run, "twosome/VirtualHome-Cheese-v0") == {}
    vh = OmegaConf.create({"env": {"id": "twosome/VirtualHome-FoodPreparation-v0", "kwargs": {}}})
    assert carried_kwargs(vh, "twosome/VirtualHome-Cheese-v0") == {}


def test_twosome_trains_on_it_and_a_killed_run_resumes_exactly(tmp_path, tiny_model_dir, game_dir):
    """TWOSOME's whole loop on the games; SIGKILL after a checkpoint, then the same command, ends bit for bit as
    the uninterrupted run (the checkpoint keeps each environment's game and the commands of its episode)."""
    extra = ("env=textworld", "env.kwargs.num_games=2", f"env.kwargs.game_dir={game_dir}")
    ended = run_cli(*small_run(tiny_model_dir, tmp_path / "whole", *extra), cwd=tmp_path)
    assert ended.returncode == 0, ended.stderr[-3000:]
    args = small_run(tiny_model_dir, tmp_path / "killed", *extra)
    proc = start(args, tmp_path)
    done = wait_for_checkpoint(tmp_path / "killed", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done < 6
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0 and "Resuming" in resumed.stdout, resumed.stderr[-3000:]
    same_results(tmp_path / "whole", tmp_path / "killed")


@pytest.mark.parametrize(
    "choice",
    [
        ["agent=glam", "norm=none"],
        ["algo=gigpo", "rollout.num_steps=32"],
        ["algo=poad"],
        ["norm=token"],
        ["norm=none"],
        ["agent=drrn"],
        ["agent=generate"],
        ["agent=zeroshot"],
        ["agent=random"],
    ],
    ids=["glam", "gigpo", "poad", "token", "none", "drrn", "generate", "zeroshot", "random"],
)
def test_the_other_agents_and_algorithms_run_on_the_games(tmp_path, tiny_model_dir, game_dir, choice):
    """One short run each: GLAM, GiGPO (critic-free, whole episodes), POAD (token level over the admissible commands),
    TWOSOME's other normalizations, the from-scratch text baseline, and the evaluation-only agents (the writer of its
    commands, the untrained LLM, uniform) read the games as the other text environments."""
    args = small_run(tiny_model_dir, tmp_path / "run", "env=textworld", "env.kwargs.num_games=1",
                     f"env.kwargs.game_dir={game_dir}", "rollout.total_env_steps=64", "eval.every_updates=0",
                     "checkpoint.every_updates=0", *choice)  # fmt: skip
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["env_id"] == "twosome/TextWorld-Cooking-v0" and summary["eval/episodes"] >= 1


def test_the_games_parser_judges_any_text_and_the_episode_goes_on_unchanged(game_dir):
    """``answer`` runs a command on a replayed copy: every admissible command is read, words no admissible command
    has may be read too ("pick up the cookbook" where "take cookbook from table" is listed), and what the parser
    cannot read is refused; the episode itself is where it was."""
    from twosome.envs.textworld.parser import command_of, refused

    env, twin = make(game_dir), make(game_dir)
    env.reset(seed=0), twin.reset(seed=0)
    env.step(0), twin.step(0)
    prompt, commands = env.prompt(), list(env.commands)
    assert not any(refused(env.answer(c)) for c in commands)
    assert not refused(env.answer("pick up the cookbook")) and "pick up the cookbook" not in commands
    assert refused(env.answer("xyzzy")) and refused(env.answer("take the unicorn"))
    assert not refused(env.answer("go north"))  # understood; the world says no ("You can't go that way.")
    assert env.prompt() == prompt and env.commands == commands
    assert env.step(1)[0] == twin.step(1)[0]
    assert refused("Which do you mean, the north, the south or the east?")  # the parser asks instead of acting
    assert command_of("Open the fridge.") == "Open the fridge" and command_of("take apple. go north") == "take apple"


def test_the_parser_judge_plays_the_writer_and_records_every_decision(tmp_path, tiny_model_dir, game_dir):
    import pandas as pd

    from twosome.config import ConfigError
    from twosome.evaluation import parser_judge

    common = [f"model.path={tiny_model_dir}", "model.build=null", "env.kwargs.num_games=1",
              f"env.kwargs.game_dir={game_dir}", "trainer.num_threads=1"]  # fmt: skip
    with pytest.raises(ConfigError, match="env=overcooked"):
        parser_judge.main([*common, "env=overcooked", "--episodes", "1", "--out", str(tmp_path / "no")])
    assert not (tmp_path / "no").exists()
    summary = parser_judge.main([*common, "--episodes", "2", "--out", str(tmp_path / "judged")])
    decisions = pd.read_csv(tmp_path / "judged" / "decisions.csv", keep_default_na=False)
    assert summary["decisions"] == len(decisions) and summary["episodes"] == decisions.episode.nunique() == 2
    assert not (decisions.admissible & decisions.parser_refused).any()  # an admissible command is always read
    per_episode = decisions.groupby("episode").parser_refused.mean()
    assert summary["parser_refusal_rate"] == pytest.approx(per_episode.mean())
    low, high = summary["parser_refusal_ci"]
    assert low <= summary["parser_refusal_rate"] <= high
    # the recorded answers are raw data: judging them again gives the same summary
    assert parser_judge.main(["--rejudge", "--out", str(tmp_path / "judged")]) == summary


def test_the_walkthrough_prior_reads_the_policy_along_the_games_winning_commands(tmp_path, tiny_model_dir, game_dir):
    """One row per walkthrough command, in order, the game played to its win; a uniform policy gives each command
    1 / the number of admissible commands (ranked first among equals); another environment is refused first."""
    import pandas as pd

    from twosome.config import ConfigError
    from twosome.evaluation import walkthrough_prior

    common = [f"model.path={tiny_model_dir}", "model.build=null", "env.kwargs.num_games=1",
              f"env.kwargs.game_dir={game_dir}", "trainer.num_threads=1", "--games", "1"]  # fmt: skip
    with pytest.raises(ConfigError, match="env=overcooked"):
        walkthrough_prior.main([*common, "env=overcooked", "--out", str(tmp_path / "no.csv")])
    assert not (tmp_path / "no.csv").exists()
    commands = walkthrough(game_path(game_dir, CookingSettings(), "train", 0))
    uniform = walkthrough_prior.main([*common, "agent=random", "--out", str(tmp_path / "random.csv")])
    assert list(uniform.command) == commands and list(uniform.step) == list(range(len(commands)))
    assert list(uniform.probability) == pytest.approx(list(1 / uniform.commands)) and (uniform["rank"] == 1).all()
    tiny = walkthrough_prior.main([*common, "--out", str(tmp_path / "tiny.csv")])
    assert list(tiny.command) == commands and tiny.probability.between(0, 1, inclusive="neither").all()
    assert tiny["rank"].between(1, tiny.commands).all() and (tiny.model == "tiny-household").all()
    written = pd.read_csv(tmp_path / "tiny.csv")
    assert list(written.probability) == pytest.approx(list(tiny.probability))


@pytest.mark.parametrize("damage", ["truncated", "json", "unrecorded"])
def test_a_damaged_game_is_built_again_before_textworld_reads_it(tmp_path, capsys, damage):
    """A truncated .z8 ended every run with TextWorld's engine's `Fatal error: Story file read error` (no file named,
    the process gone, status.json left `running`); a damaged .json with a bare JSONDecodeError. ``unrecorded``: a game
    built before builds recorded their files' digests, checked by its header's length."""
    path = ensure_game(tmp_path, CookingSettings(), "train", 0)
    written = path.read_bytes()
    if damage == "json":
        path.with_suffix(".json").write_text('{"metadata": {"walk')
    else:
        if damage == "unrecorded":
            path.with_name(f".{path.stem}.files.json").unlink()
        path.write_bytes(written[:1000])
    again = ensure_game(tmp_path, CookingSettings(), "train", 0)
    assert again == path and len(path.read_bytes()) == len(written), "rebuilt before anything reads it"
    json.loads(path.with_suffix(".json").read_text())
    assert f"{path}: " in capsys.readouterr().err  # the file and what was wrong with it
    assert game_digest(path) == FIRST_GAME  # the same game as played


def test_a_games_folder_that_cannot_be_written_is_refused_before_the_run_directory(tmp_path):
    """A read-only artifacts/textworld gave a PermissionError traceback at the first episode, after the run
    directory was written."""
    import os

    from twosome.config import ConfigError, validate
    from twosome.envs.textworld.games import GameCacheError

    if os.geteuid() == 0:  # permissions do not stop root: a read-only file system does
        read_only = Path("/sys/fs") / f"twosome-{os.getpid()}"
        if not Path("/sys/fs").is_dir() or not _mkdir_fails(read_only):
            pytest.skip("no read-only folder to try")
    else:
        (tmp_path / "ro").mkdir(mode=0o555)
        read_only = tmp_path / "ro" / "textworld"
    with pytest.raises(ConfigError, match=f"{read_only}/.* cannot be written .* env.kwargs.game_dir=<a writable"):
        validate(compose_cfg("env=textworld", f"env.kwargs.game_dir={read_only}"))
    with pytest.raises(GameCacheError, match="is not built yet, and .* cannot be written to build it"):
        ensure_game(read_only, CookingSettings(), "train", 0)
    proc = run_cli("env=textworld", f"env.kwargs.game_dir={read_only}", f"hydra.run.dir={tmp_path / 'run'}")
    assert proc.returncode != 0 and "cannot be written" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()


def _mkdir_fails(path: Path) -> bool:
    try:
        path.mkdir()
    except OSError:
        return True
    path.rmdir()
    return False
