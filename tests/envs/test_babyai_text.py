"""BabyAI-Text (GLAM): levels, view sentences, prompt, variants and the gymnasium contract.

Expected sentences below are derived by hand from the original's ``MiniGridEnv.gen_graph`` (GLAM's
``babyai-text/gym-minigrid/gym_minigrid/minigrid.py``), expected prompts from ``BaseAgent.generate_prompt``
(``experiments/agents/base_agent.py``) and the word lists from ``experiments/post-training_tests.py``.
"""

from __future__ import annotations

import re
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from minigrid.core.constants import COLOR_NAMES
from minigrid.core.grid import Grid
from minigrid.core.world_object import Ball, Box, Door, Key
from minigrid.envs.babyai.core.roomgrid_level import RejectSampling
from minigrid.envs.babyai.core.verifier import GoToInstr, ObjDesc, PutNextInstr
from minigrid.utils.baby_ai_bot import BabyAIBot

import twosome.envs  # noqa: F401  (registers the ids)
from twosome.envs.babyai_text import (
    ACTIONS,
    FAMILIES,
    FRENCH,
    HELD_OUT,
    OBS_SIZE,
    TASKS,
    BabyAITextEnv,
    MixedLocalLevel,
    build_prompt,
    describe,
    encode_mission,
    levels,
)
from twosome.envs.babyai_text.variants import SYNONYM_ACTIONS, glam_french_goal

HEADER = "Possible action of the agent: turn left, turn right, go forward, pick up, drop, toggle"
PAIR = re.compile(r"\b(red|green|blue|purple|yellow|grey) (key|ball|box|door)\b")


def _obs_text(sentences):
    return "".join(f"{s}, " for s in sentences)


# ---------------------------------------------------------------- registration and the gymnasium contract


def test_ids_registered():
    for env_id in TASKS:
        assert env_id in gym.registry
    for env_id in (
        "twosome/BabyAI-MixedTrain-v0",
        "twosome/BabyAI-MixedTest-v0",
        "twosome/BabyAI-GoTo-v0",
        "twosome/BabyAI-MixedTest-NewNouns-v0",
        "twosome/BabyAI-MixedTest-InventedWords-v0",
        "twosome/BabyAI-MixedTest-SynonymActions-v0",
        "twosome/BabyAI-MixedTest-French-v0",
    ):
        assert env_id in TASKS


@pytest.mark.parametrize("env_id", ["twosome/BabyAI-MixedTrain-v0", "twosome/BabyAI-MixedTest-French-v0"])
def test_env_checker(env_id):
    check_env(gym.make(env_id).unwrapped)


def test_every_training_id_resets_and_steps():
    for env_id, kwargs in TASKS.items():
        env = gym.make(env_id)
        assert env.action_space.n == {"navigation_3": 3, "useless_9": 9}.get(kwargs.get("action_space"), 6)
        assert env.observation_space.shape == (OBS_SIZE,)
        if kwargs["split"] == "train":
            obs, info = env.reset(seed=3)
            assert env.observation_space.contains(obs)
            assert info["action_mask"].tolist() == [True] * env.action_space.n
            obs, reward, terminated, truncated, info = env.step(0)  # a turn never completes a mission
            assert info["primitive_steps"] == 1 and info["elapsed_steps"] == 1 and info["success"] is False


def test_family_ids_pin_the_family():
    for name, family in [("GoTo", "goto"), ("PickUp", "pickup"), ("Open", "open"), ("PutNext", "putnext")]:
        env = gym.make(f"twosome/BabyAI-{name}-v0")
        for seed in range(3):
            assert env.reset(seed=seed)[1]["family"] == family


def test_invalid_actions_and_step_after_end():
    env = BabyAITextEnv(families="goto", max_steps=1)
    env.reset(seed=0)
    for bad in (-1, 6, 2.0, True, "go forward", np.array([1])):
        with pytest.raises(ValueError, match=r"\[0, 5\]"):
            env.step(bad)
    with pytest.raises(ValueError, match="invalid action 6"):
        env.step(6)
    _, reward, terminated, truncated, info = env.step(np.int64(0))  # turning never succeeds: truncated at T = 1
    assert (reward, terminated, truncated, info["elapsed_steps"]) == (0.0, False, True, 1)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(0)
    with pytest.raises(RuntimeError):
        BabyAITextEnv().step(0)  # never reset


def test_bad_kwargs():
    for kwargs in (
        {"split": "val"},
        {"families": ["swim"]},
        {"families": []},
        {"variant": "klingon"},
        {"reward_scale": 0},
        {"family_sampling": "step"},
        {"history": 0},
        {"max_steps": 0},
        {"num_distractors": -1},
        {"num_distractors": 2.5},
        {"render_mode": "human"},
    ):
        with pytest.raises(ValueError):
            BabyAITextEnv(**kwargs)


@pytest.mark.parametrize("num_distractors", [0, 4, 16])
def test_num_distractors_sets_the_objects_in_the_room(num_distractors):
    """GLAM's robustness study varies the distractors: the goto room holds the goal's object plus this many."""
    env = BabyAITextEnv(families="goto", num_distractors=num_distractors)
    for seed in range(3):
        env.reset(seed=seed)
        grid = env.level.grid
        objects = [o for o in grid.grid if o is not None and o.type in ("ball", "box", "key")]
        assert len(objects) == num_distractors + 1, (seed, len(objects))  # the goal's object and the distractors


@pytest.mark.timeout(20)
def test_more_distractors_than_the_room_holds_are_refused_at_construction():
    """100 used to pass construction and hang the first reset; the bound is the room's free cells (36 inside the
    walls, less the agent's and the 4 beside it, less the mission's own objects)."""
    with pytest.raises(ValueError, match=r"num_distractors=100 .*family 'goto'.*valid 0\.\.30"):
        gym.make("twosome/BabyAI-GoTo-v0", num_distractors=100)
    BabyAITextEnv(families="goto", num_distractors=30)
    with pytest.raises(ValueError, match=r"num_distractors=31 .*valid 0\.\.30"):
        BabyAITextEnv(families="goto", num_distractors=31)
    with pytest.raises(ValueError, match=r"num_distractors=30 .*family 'putnext'.*valid 0\.\.29"):
        BabyAITextEnv(num_distractors=30)  # the mixed level's tightest family decides
    with pytest.raises(ValueError, match=r"num_distractors=31 .*valid 0\.\.30"):
        MixedLocalLevel("open", num_dists=31)
    assert (
        levels.max_distractors("goto"),
        levels.max_distractors("putnext"),
        levels.max_distractors("goto", room_size=6),
    ) == (30, 29, 10)


def _forced(monkeypatch, max_layouts=30):
    monkeypatch.setattr(MixedLocalLevel, "max_layouts", max_layouts, raising=False)  # absent before the bound


@pytest.mark.timeout(20)
def test_a_layout_that_cannot_pass_raises_instead_of_looping(monkeypatch):
    """minigrid's place_in_room gives up on a cell after 1000 tries, but the level redrew the layout forever: 20
    distractors (placeable, almost never all reachable) or more than fit (forced past the constructor) hung."""
    _forced(monkeypatch)
    env = BabyAITextEnv(families="goto", num_distractors=28)
    with pytest.raises(
        RuntimeError,
        match=r"'goto' \(train split\).* 30 draws.*num_distractors=28 \(reset seed \d+\).*env.reset\(seed=0\)",
    ):
        env.reset(seed=0)
    for level in (MixedLocalLevel("putnext", "test"), MixedLocalLevel("goto")):
        level.num_dists = 40  # more than the room holds: every draw fails in minigrid's place_obj
        with pytest.raises(
            RuntimeError, match=rf"'{level.family}' \({level.split.name} split\).*num_distractors=40 \(reset seed 7\)"
        ):
            level.reset(seed=7)
    level.num_dists = 8  # the count starts again at every reset: the same level resets once a layout can pass
    level.reset(seed=7)


@pytest.mark.timeout(20)
def test_open_gives_up_when_no_cell_lets_the_agent_face_free_space(monkeypatch):
    """open places the agent after the objects; minigrid's place_agent redraws forever while every free cell faces
    an object. Forced here: one free cell per room, walled in by balls."""
    _forced(monkeypatch)
    level = MixedLocalLevel("open")
    level.reset(seed=0)
    level.agent_pos = (-1, -1)
    for room in level.room_grid[0]:
        (x0, y0), (w, h) = room.top, room.size
        for x in range(x0 + 1, x0 + w - 1):
            for y in range(y0 + 1, y0 + h - 1):
                level.grid.set(x, y, None if (x, y) == (x0 + 3, y0 + 3) else Ball("red"))
    with pytest.raises(RejectSampling, match="face free space"):
        level._place_agent_facing_space()
    level.num_dists = 30  # the most the constructor allows: no layout passes, and the reset says so
    with pytest.raises(RuntimeError, match=r"'open'.*num_distractors=30"):
        level.reset(seed=0)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_distractors": -1}, r"num_distractors must be an integer in 0\.\.30 \(family 'goto'\), got -1"),
        ({"num_distractors": "abc"}, r"num_distractors must be an integer in 0\.\.30 .*got 'abc'"),
        ({"num_distractors": True}, r"num_distractors must be an integer .*got True"),
        ({"action_space": "foo"}, r"unknown action_space 'foo'; known: \['standard', 'navigation_3'"),
        ({"action_space": ["standard"]}, r"unknown action_space \['standard'\]"),
        (
            {"variant": "french", "action_space": "navigation_3"},
            r"action_space='navigation_3' needs variant='none'.*got variant='french'",
        ),
        ({"variant": "new_nouns", "action_space": "useless_6"}, r"action_space='useless_6' needs variant='none'"),
        ({"variant": ["none"]}, r"unknown variant \['none'\]"),
        ({"split": ["train"]}, r"unknown split \['train'\]; known: \['test', 'train'\]"),
        ({"families": 5}, r"families must be a name or a list of names from \['goto'.*got 5"),
        ({"reward_scale": "x"}, r"reward_scale must be a positive number, got 'x'"),
        ({"reward_scale": True}, r"reward_scale must be a positive number, got True"),
        ({"max_steps": True}, r"max_steps must be None or an integer >= 1, got True"),
    ],
)
def test_every_option_is_checked_when_gym_make_builds_the_env(kwargs, match):
    """The run's configuration check calls gym.make with the user's kwargs: each wrong value must be a ValueError
    there, naming the option, the value and what is valid, not a TypeError or a failure at the first reset."""
    with pytest.raises(ValueError, match=match):
        gym.make("twosome/BabyAI-GoTo-v0", **kwargs)


def test_constructing_every_twosome_env_is_cheap():
    """The configuration check builds the env before the run directory exists: it must not load the model stack.
    (How long construction takes is a timing, not a behaviour: it would fail on a loaded machine.)"""
    code = (
        "import sys, gymnasium as gym, twosome.envs\n"
        "ids = [i for i in gym.registry if i.startswith('twosome/')]\n"
        "for i in ids:\n"
        "    gym.make(i).close()\n"
        "print(len(ids), sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    n, loaded = out.stdout.split(" ", 1)
    assert int(n) >= 50 and loaded.strip() == "[]", out.stdout


# ---------------------------------------------------------------- determinism


def _rollout(seed, actions, **kwargs):
    env = BabyAITextEnv(**kwargs)
    obs, info = env.reset(seed=seed)
    out = [(obs.tobytes(), info["prompt"])]
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        out.append((obs.tobytes(), info["prompt"], reward, terminated, truncated))
        if terminated or truncated:
            obs, info = env.reset()  # unseeded: continues the seeded stream
            out.append((obs.tobytes(), info["prompt"]))
    return out


def test_determinism_under_the_seed():
    actions = [2, 2, 0, 2, 3, 1, 2, 5, 2, 4] * 3
    a = _rollout(11, actions, max_steps=8)
    assert a == _rollout(11, actions, max_steps=8)
    assert a != _rollout(12, actions, max_steps=8)
    env = BabyAITextEnv()
    missions = {env.reset(seed=s)[1]["mission"] for s in range(8)}
    assert len(missions) > 4
    assert env.reset(seed=5)[1]["prompt"] == BabyAITextEnv().reset(seed=5)[1]["prompt"]


def test_family_sampling():
    env = BabyAITextEnv(family_sampling="instance")
    first = env.reset(seed=4)[1]["family"]
    assert {env.reset()[1]["family"] for _ in range(6)} == {first}
    env = BabyAITextEnv(family_sampling="episode")
    assert len({env.reset(seed=s)[1]["family"] for s in range(30)}) == len(FAMILIES)


# ---------------------------------------------------------------- the sentences for the view


def _known_room(carrying=None, ball=True):
    """An 8x8 room; the agent at (3, 6) facing up, so view cell (x, y) is world cell (x, y) for x, y < 7."""
    level = MixedLocalLevel("goto")
    level.reset(seed=0)
    grid = Grid(8, 8)
    grid.wall_rect(0, 0, 8, 8)
    grid.set(1, 0, Door("purple", is_locked=True))
    grid.set(2, 0, Door("red"))  # closed
    grid.set(5, 0, Door("yellow", is_open=True))
    grid.set(1, 4, Box("blue"))
    if ball:
        grid.set(3, 3, Ball("red"))
    grid.set(5, 6, Key("green"))
    level.grid = grid
    level.agent_pos, level.agent_dir = (3, 6), 3
    level.carrying = carrying
    return level


def test_known_view_english():
    image = _known_room(carrying=Box("grey")).gen_obs()["image"]
    assert describe(image) == [
        "You carry a grey box",
        "You see a wall 3 steps left",  # forward: the ball stops the ray; right: the key does
        "You see a locked purple door 2 steps left and 6 steps forward",
        "You see a blue box 2 steps left and 2 steps forward",
        "You see a closed red door 1 step left and 6 steps forward",
        "You see a red ball 3 steps forward",
        "You see a open yellow door 2 steps right and 6 steps forward",  # sic: the original never says "an"
        "You see a green key 2 steps right",
    ]
    image = _known_room(ball=False).gen_obs()["image"]
    assert describe(image)[:2] == ["You see a wall 6 steps forward", "You see a wall 3 steps left"]


def test_known_view_french():
    image = _known_room(carrying=Box("grey")).gen_obs()["image"]
    assert describe(image, FRENCH) == [
        "Tu portes une box grey",  # sic: the original formats the English names there
        "Tu vois un mur à 3 pas à gauche",
        "Tu vois une porte violette fermée à clef 2 pas à gauche et 6 pas devant",
        "Tu vois une boîte bleue 2 pas à gauche et 2 pas devant",
        "Tu vois une porte rouge fermée 1 pas à gauche et 6 pas devant",
        "Tu vois une balle rouge 3 pas devant",
        "Tu vois une porte jaune ouverte 2 pas à droite et 6 pas devant",
        "Tu vois une clef verte 2 pas à droite",
    ]


def test_wall_behind_an_object_or_next_to_the_agent():
    image = np.zeros((7, 7, 3), dtype=np.uint8)  # all unseen
    image[3, 6] = (1, 0, 0)  # the agent's cell, empty hands
    image[3, 5] = (2, 5, 0)  # wall right ahead
    image[2, 6] = (6, 2, 0)  # blue ball on the left, then a wall behind it
    image[1, 6] = (2, 5, 0)
    image[6, 6] = (2, 5, 0)  # wall 3 to the right through unseen/empty cells
    image[4, 6] = (1, 0, 0)
    assert describe(image) == [
        "You see a wall 1 step forward",
        "You see a wall 3 steps right",
        "You see a blue ball 1 step left",
    ]


_SENTENCE = re.compile(
    r"You see an? (?:(open|closed|locked) )?(\w+) (\w+) "  # state, colour, noun
    r"(\d+) steps? (left|right|forward)(?: and (\d+) steps? forward)?$"
)


def test_sentences_agree_with_world_coordinates():
    """Every object sentence names what lies at its offset in the world, and every visible object has one."""
    env = BabyAITextEnv()
    rng = np.random.default_rng(0)
    for seed in range(12):
        _, info = env.reset(seed=seed)
        for _ in range(12):
            level = env.level
            _, vis = level.gen_obs_grid()
            visible = set()
            for x in range(level.width):
                for y in range(level.height):
                    cell = level.grid.get(x, y)
                    vx, vy = level.get_view_coords(x, y)
                    if cell is None or cell.type == "wall" or (x, y) == tuple(level.agent_pos):
                        continue
                    if 0 <= vx < 7 and 0 <= vy < 7 and vis[vx, vy]:
                        visible.add((x, y))
            described = set()
            for sentence in info["descriptions"]:
                match = _SENTENCE.match(sentence)
                if match is None:
                    assert sentence.startswith(("You see a wall", "You carry a")), sentence
                    continue
                state, color, kind, n, side, m = match.groups()
                right = int(n) if side == "right" else -int(n) if side == "left" else 0
                ahead = int(m) if m else int(n) if side == "forward" else 0
                pos = np.asarray(level.agent_pos) + ahead * level.dir_vec + right * level.right_vec
                cell = level.grid.get(*pos)
                assert (cell.type, cell.color) == (kind, color), sentence
                if kind == "door":
                    assert state == ("open" if cell.is_open else "locked" if cell.is_locked else "closed")
                described.add(tuple(int(v) for v in pos))
            assert described == visible
            _, _, terminated, truncated, info = env.step(int(rng.choice([0, 1, 2, 2, 2, 3])))
            if terminated or truncated:
                break


# ---------------------------------------------------------------- the prompt


def test_prompt_keeps_the_last_three_observations_and_two_actions():
    env = BabyAITextEnv(families="pickup", max_steps=6)
    _, info = env.reset(seed=2)
    goal = info["mission"]
    seen = [info["descriptions"]]
    assert (
        info["prompt"] == f"{HEADER} \n Goal of the agent: {goal} \n Observation 0: {_obs_text(seen[0])}\n Action 0: "
    )
    taken = []
    for a in [1, 2, 0, 2, 1]:
        _, _, _, truncated, info = env.step(a)
        taken.append(ACTIONS[a])
        seen.append(info["descriptions"])
    o, t = seen[-3:], taken[-2:]
    assert info["prompt"] == (
        f"{HEADER} \n Goal of the agent: {goal}"
        f" \n Observation 0: {_obs_text(o[0])}\n Action 0: {t[0]}"
        f" \n Observation 1: {_obs_text(o[1])}\n Action 1: {t[1]}"
        f" \n Observation 2: {_obs_text(o[2])}\n Action 2: "
    )
    _, _, _, truncated, info = env.step(0)
    assert truncated and info["prompt"].count("Observation") == 3
    _, info = env.reset()
    assert info["prompt"].count("Observation") == 1 and "Action 1" not in info["prompt"]
    assert info["prompt"].endswith(f"Observation 0: {_obs_text(info['descriptions'])}\n Action 0: ")


def test_build_prompt_history_length_and_empty_view():
    prompt = build_prompt(["a", "b"], "go", [[], ["x"]], ["b"])
    assert prompt == (
        "Possible action of the agent: a, b \n Goal of the agent: go"
        " \n Observation 0: \n Action 0: b \n Observation 1: x, \n Action 1: "
    )
    env = BabyAITextEnv(history=1)
    env.reset(seed=0)
    _, _, _, _, info = env.step(2)
    assert "Observation 1" not in info["prompt"] and info["prompt"].endswith("\n Action 0: ")


# ---------------------------------------------------------------- levels


def test_training_missions_never_name_the_held_out_objects():
    for family in FAMILIES:
        level = MixedLocalLevel(family, "train")
        for seed in range(25):
            level.reset(seed=seed)
            assert not any(pair in level.mission for pair in HELD_OUT), level.mission
            if family == "open":
                door_colors = {c.color for c in level.grid.grid if c is not None and c.type == "door"}
                assert door_colors <= {"yellow", "green", "blue", "purple"}


def test_test_missions_name_only_the_held_out_objects():
    for family, seeds in [("goto", 15), ("pickup", 15), ("open", 15), ("putnext", 4), ("pickup_then_goto", 4)]:
        level = MixedLocalLevel(family, "test")
        for seed in range(seeds):
            level.reset(seed=seed)
            pairs = [" ".join(p) for p in PAIR.findall(level.mission)]
            assert pairs and set(pairs) <= set(HELD_OUT), level.mission


def test_layout_and_horizon_per_family():
    expected = {"goto": (8, 9, 64), "pickup": (8, 9, 64), "open": (15, 9, 128), "putnext": (8, 10, 128)}
    expected["pickup_then_goto"] = (8, 10, 128)
    for family, (width, n_objects, horizon) in expected.items():
        level = MixedLocalLevel(family, "train")
        level.reset(seed=1)
        objects = [c for c in level.grid.grid if c is not None and c.type in ("key", "ball", "box")]
        assert (level.width, level.height, len(objects), level.max_steps) == (width, 8, n_objects, horizon)
        assert level.check_objs_reachable(raise_exc=False)


# ---------------------------------------------------------------- reward: minigrid's BabyAI bot solves episodes


def _solve(env, seed):
    env.reset(seed=seed)
    bot = BabyAIBot(env.level)
    while True:
        _, reward, terminated, truncated, info = env.step(int(bot.replan()))
        if terminated or truncated:
            return reward, info


@pytest.mark.parametrize("split,seeds", [("train", range(3)), ("test", range(1))])
@pytest.mark.parametrize("family", FAMILIES)
def test_bot_succeeds_and_reward_is_scaled(split, seeds, family):
    env = BabyAITextEnv(split=split, families=family)
    for seed in seeds:
        reward, info = _solve(env, seed)
        t, horizon = info["elapsed_steps"], info["horizon"]
        assert info["success"] and 0 < t < horizon and info["family"] == family
        assert reward == pytest.approx(20.0 * (1 - 0.9 * t / horizon))


def test_reward_scale_kwarg():
    env = BabyAITextEnv(families="goto", reward_scale=1.0)
    reward, info = _solve(env, 0)
    assert reward == pytest.approx(1 - 0.9 * info["elapsed_steps"] / 64)


# ---------------------------------------------------------------- observation vector


def test_observation_vector():
    env = BabyAITextEnv()
    obs, _ = env.reset(seed=0)
    assert obs.dtype == np.float32 and obs.shape == (OBS_SIZE,) == (7 * 7 * 3 + 28,)
    assert np.array_equal(obs[:147], env.level.gen_obs()["image"].reshape(-1))
    # form one-hot (6), then per named object: type (key, ball, box, door), colour (minigrid's COLOR_NAMES), none
    code = encode_mission(PutNextInstr(ObjDesc("ball", "red"), ObjDesc("key", None)))
    red, grey = COLOR_NAMES.index("red"), COLOR_NAMES.index("grey")
    assert np.flatnonzero(code).tolist() == [3, 6 + 1, 6 + 4 + red, 17 + 0, 17 + 4 + 6]
    assert np.flatnonzero(encode_mission(GoToInstr(ObjDesc("box", "grey")))).tolist() == [0, 6 + 2, 6 + 4 + grey]


# ---------------------------------------------------------------- generalization variants


def test_variants_reword_the_prompt():
    plain = BabyAITextEnv().reset(seed=6)[1]
    nouns = BabyAITextEnv(variant="new_nouns").reset(seed=6)[1]
    assert nouns["prompt"] == plain["prompt"].replace("key", "chair").replace("ball", "table").replace("box", "car")
    words = BabyAITextEnv(variant="invented_words").reset(seed=6)[1]["prompt"]
    assert not PAIR.search(words) and not re.search(r"\b(key|ball|box)\b", words)
    synonyms = BabyAITextEnv(variant="synonym_actions")
    _, info = synonyms.reset(seed=6)
    assert (
        info["actions"]
        == list(SYNONYM_ACTIONS)
        == ["rotate left", "rotate right", "move ahead", "take", "release", "switch"]
    )
    assert info["prompt"].startswith(
        "Possible action of the agent: rotate left, rotate right, move ahead, take, release, switch \n"
    )
    _, _, _, _, info = synonyms.step(2)
    assert "\n Action 0: move ahead \n" in info["prompt"]


def test_french_variants():
    env = BabyAITextEnv(variant="french", families="goto")
    _, info = env.reset(seed=1)
    assert info["actions"] == [
        "tourner à gauche",
        "tourner à droite",
        "aller tout droit",
        "attraper",
        "lâcher",
        "basculer",
    ]
    assert info["prompt"].startswith(
        "Actions possibles pour l'agent: tourner à gauche, tourner à droite, aller tout droit, attraper, lâcher,"
        f" basculer \n But de l'agent: {glam_french_goal(info['mission'])} \n Observation 0: Tu vois "
    )
    assert glam_french_goal("go to the green key") == "aller à la clef verte"
    assert glam_french_goal("pick up the red ball") == "aller à une balle rouge"  # 'a' in "ball" wins
    assert glam_french_goal("open the door") == "aller à la  "
    full = BabyAITextEnv(variant="french_full", split="test", families="open")
    _, info = full.reset(seed=0)
    color = {"open the red door": "rouge", "open the grey door": "grise"}[info["mission"]]
    assert f"But de l'agent: ouvrir la porte {color} \n" in info["prompt"]


@pytest.mark.parametrize("action_space,size", [("navigation_3", 3), ("useless_6", 6), ("useless_9", 9)])
def test_glam_action_space_study(action_space, size):
    """GLAM's 3/6/9-action GoTo study: navigation first, then actions that spend a step and move nothing."""
    env = BabyAITextEnv(families="goto", action_space=action_space)
    _, info = env.reset(seed=0)
    assert env.action_space.n == size and info["actions"][:3] == ["turn left", "turn right", "go forward"]
    assert info["prompt"].startswith("Possible action of the agent: " + ", ".join(info["actions"]))
    for useless in range(3, size):
        pos, direction, steps = tuple(env.level.agent_pos), env.level.agent_dir, env.level.step_count
        _, _, terminated, _, info = env.step(useless)
        if terminated:  # facing the goal already: any action completes GoTo, as in minigrid
            break
        assert (tuple(env.level.agent_pos), env.level.agent_dir) == (pos, direction)
        assert env.level.step_count == steps + 1


def test_action_space_errors():
    with pytest.raises(ValueError, match="unknown action_space 'huge'"):
        BabyAITextEnv(action_space="huge")
    with pytest.raises(ValueError, match="needs variant='none'"):
        BabyAITextEnv(action_space="navigation_3", variant="french")
