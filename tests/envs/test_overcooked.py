"""Overcooked macro environments: behaviour pinned to the original TWOSOME simulator and prompts.

Expected prompts, action texts, observation vectors, rewards and step counts below are what the original code
(gym_macro_overcooked ``Overcooked_LLMA_V3/V4`` + ``policy_pomdp.obs2text``) produces for the same action
sequences.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import given, settings
from hypothesis import strategies as st

import twosome.envs  # noqa: F401  (registers the ids)
from twosome.envs.overcooked import TASKS, OvercookedEnv, optimal_return
from twosome.envs.overcooked.text import describe

TS = "twosome/Overcooked-TomatoSalad-v0"
TLS = "twosome/Overcooked-TomatoLettuceSalad-v0"
GOAL_TS = "To serve the dish of a bowl only containing chopped tomato, you should first"
GOAL_TLS = "To serve the dish of a bowl only containing chopped tomato and lettuce, you should first"
ONE_BOARD = "There is a fixed cutting board in the room."
TWO_BOARDS = "There are two fixed cutting boards in the room."
# Tomato Salad actions: 0 tomato, 1 bowl, 2 board, 3 serve, 4 chop.
# Tomato-Lettuce Salad: 0 tomato, 1 lettuce, 2 onion, 3 bowl, 4 board 1, 5 board 2, 6 serve, 7 chop.
TS_DEFAULT = [
    "pick up the tomato",
    "take the bowl",
    "walk to the cutting board",
    "serve nothing",
    "chop nothing",
]
TS_BOWL = [
    "put the tomato in the bowl",
    "take the bowl",
    "put the bowl on the cutting board",
    "serve the dish",
    "chop nothing",
]
TLS_DEFAULT = [
    "pick up the tomato",
    "pick up the lettuce",
    "pick up the onion",
    "take the empty bowl",
    "walk to the first cutting board",
    "walk to the second cutting board",
    "serve nothing",
    "chop nothing",
]
TLS_BOWL = [
    "put the tomato in the bowl",
    "put the lettuce in the bowl",
    "put the onion in the bowl",
    "take the empty bowl",
    "put the bowl on the first cutting board",
    "put the bowl on the second cutting board",
    "serve the dish",
    "chop nothing",
]


def _with(base: list[str], **changes: str) -> list[str]:
    out = list(base)
    for index, text in changes.items():
        out[int(index[1:])] = text
    return out


def play(env_id: str, actions: list[int], **kwargs):
    env = gym.make(env_id, **kwargs)
    obs, info = env.reset(seed=0)
    steps = []
    for a in actions:
        obs, reward, terminated, truncated, info = env.step(a)
        steps.append((reward, terminated, truncated, info))
    return env, obs, info, steps


def discounted(rewards: list[float], gamma: float = 0.99) -> float:
    return sum(gamma**k * r for k, r in enumerate(rewards))


# --------------------------------------------------------------------------------------------- registration
@pytest.mark.parametrize("env_id", [TS, TLS])
def test_registered_and_passes_gymnasium_checker(env_id):
    assert env_id in gym.registry
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    check_env(gym.make(env_id, render_mode="ansi").unwrapped)


@pytest.mark.parametrize(("env_id", "dim", "n"), [(TS, 18, 5), (TLS, 26, 8)])
def test_spaces_and_reset_info(env_id, dim, n):
    env = gym.make(env_id)
    obs, info = env.reset(seed=0)
    assert env.action_space == gym.spaces.Discrete(n)
    assert isinstance(env.observation_space, gym.spaces.Box) and env.observation_space.shape == (dim,)
    assert obs.shape == (dim,) and obs.dtype == np.float32 and env.observation_space.contains(obs)
    assert len(info["actions"]) == n
    assert info["action_mask"].dtype == bool and info["action_mask"].shape == (n,) and info["action_mask"].all()
    assert info["prompt"].endswith("you should first")


# ------------------------------------------------------------------------------------------------ prompts
TS_CASES = [
    (
        [],
        f"{ONE_BOARD} You notice a tomato on the table. Currently you don't have anything in hand. {GOAL_TS}",
        TS_DEFAULT,
    ),
    (
        [0],
        f"{ONE_BOARD} Currently you are carrying an unchopped tomato in hand. {GOAL_TS}",
        _with(TS_DEFAULT, a2="put the tomato on the cutting board", a3="serve the dish"),
    ),
    (
        [0, 2],
        f"{ONE_BOARD} An unchopped tomato is on the cutting board. Currently you are standing in "
        f"front of the cutting "
        f"board without anything in hand. {GOAL_TS}",
        _with(TS_DEFAULT, a4="chop the tomato"),
    ),
    (
        # the original keeps offering "chop the tomato" for an already chopped tomato
        [0, 2, 4],
        f"{ONE_BOARD} A chopped tomato is on the cutting board. Currently you are standing in front "
        f"of the cutting "
        f"board without anything in hand. {GOAL_TS}",
        _with(TS_DEFAULT, a4="chop the tomato"),
    ),
    (
        [0, 2, 4, 0],
        f"{ONE_BOARD} Currently you are standing in front of the cutting board, carrying a chopped "
        f"tomato in hand. "
        f"{GOAL_TS}",
        _with(TS_DEFAULT, a3="serve the dish"),
    ),
    (
        [0, 2, 4, 0, 1],
        f"{ONE_BOARD} Currently you are carrying a bowl containing chopped tomato. {GOAL_TS}",
        TS_BOWL,
    ),
    ([1], f"{ONE_BOARD} Currently you are carrying a bowl in hand. {GOAL_TS}", TS_BOWL),
    (
        [1, 2],
        f"{ONE_BOARD} A bowl is on the cutting board. Currently you are standing in front of the "
        f"cutting board "
        f"without anything in hand. {GOAL_TS}",
        TS_DEFAULT,
    ),
    (
        [0, 2, 4, 1, 2],
        f"{ONE_BOARD} Currently you are standing in front of the cutting board, carrying a bowl "
        f"containing chopped "
        f"tomato in hand. {GOAL_TS}",
        TS_BOWL,
    ),
    (
        [0, 2, 4, 0, 1, 2],
        f"{ONE_BOARD} A bowl containing a chopped tomato is on the cutting board. Currently you are "
        f"standing in "
        f"front of the cutting board without anything in hand. {GOAL_TS}",
        TS_DEFAULT,
    ),
    ([0, 3], f"{ONE_BOARD} Currently you don't have anything in hand. {GOAL_TS}", TS_DEFAULT),
]

TLS_CASES = [
    (
        [],
        f"{TWO_BOARDS} You notice a tomato, a lettuce and an onion on the different tables. Currently "
        f"you don't "
        f"have anything in hand. {GOAL_TLS}",
        TLS_DEFAULT,
    ),
    (
        [0],
        f"{TWO_BOARDS} You notice a lettuce and an onion on the different tables. Currently you are "
        f"carrying an "
        f"unchopped tomato in hand. {GOAL_TLS}",
        _with(
            TLS_DEFAULT,
            a4="put the tomato on the first cutting board",
            a5="put the tomato on the second cutting board",
            a6="serve the dish",
        ),
    ),
    (
        [0, 4],
        f"{TWO_BOARDS} An unchopped tomato is on the first cutting board. Currently you are standing "
        f"in front of the "
        f"first cutting board without anything in hand. {GOAL_TLS}",
        _with(TLS_DEFAULT, a7="chop the tomato"),
    ),
    (
        [0, 4, 7, 1],
        f"{TWO_BOARDS} You notice an onion on the table. Currently you are carrying an unchopped "
        f"lettuce in hand. "
        f"{GOAL_TLS}",
        _with(
            TLS_DEFAULT,
            a4="put the lettuce on the first cutting board",
            a5="put the lettuce on the second cutting board",
            a6="serve the dish",
        ),
    ),
    (
        [0, 4, 7, 1, 5],
        f"{TWO_BOARDS} A chopped tomato is on the first cutting board. An unchopped lettuce is on the "
        f"second cutting "
        f"board. Currently you are standing in front of the second cutting board without anything in hand. "
        f"{GOAL_TLS}",
        _with(TLS_DEFAULT, a7="chop the lettuce"),
    ),
    (
        [0, 4, 7, 1, 5, 7],
        f"{TWO_BOARDS} A chopped tomato is on the first cutting board. A chopped lettuce is on the "
        f"second cutting "
        f"board. Currently you are standing in front of the second cutting board without anything in hand. "
        f"{GOAL_TLS}",
        _with(TLS_DEFAULT, a7="chop the lettuce"),
    ),
    ([0, 4, 7, 1, 5, 7, 3], f"{TWO_BOARDS} Currently you are carrying a bowl in hand. {GOAL_TLS}", TLS_BOWL),
    (
        [0, 4, 7, 1, 5, 7, 3, 0],
        f"{TWO_BOARDS} A chopped lettuce is on the second cutting board. Currently you are standing "
        f"in front of the "
        f"first cutting board, carrying a bowl containing chopped tomato in hand. {GOAL_TLS}",
        _with(TLS_BOWL, a3="take the bowl"),
    ),
    (
        [0, 4, 7, 1, 5, 7, 3, 0, 1],
        f"{TWO_BOARDS} Currently you are standing in front of the second cutting board, carrying a "
        f"bowl containing "
        f"chopped tomato and lettuce in hand. {GOAL_TLS}",
        _with(TLS_BOWL, a3="take the bowl"),
    ),
    (
        [2, 4],
        f"{TWO_BOARDS} An unchopped onion is on the first cutting board. Currently you are standing "
        f"in front of the "
        f"first cutting board without anything in hand. {GOAL_TLS}",
        _with(TLS_DEFAULT, a7="chop the onion"),
    ),
    (
        [3, 5],
        f"{TWO_BOARDS} A bowl is on the second cutting board. Currently you are standing in front of "
        f"the second "
        f"cutting board without anything in hand. {GOAL_TLS}",
        TLS_DEFAULT,
    ),
    ([0, 4, 7, 3, 0, 6], f"{TWO_BOARDS} Currently you don't have anything in hand. {GOAL_TLS}", TLS_DEFAULT),
]


@pytest.mark.parametrize(
    ("env_id", "actions", "prompt", "texts"), [(TS, *c) for c in TS_CASES] + [(TLS, *c) for c in TLS_CASES]
)
def test_prompt_and_action_texts_match_original(env_id, actions, prompt, texts):
    env, obs, info, _ = play(env_id, actions)
    assert info["prompt"] == prompt
    assert info["actions"] == texts
    # the text is a function of the observation vector alone, as in the original
    assert describe(obs, TASKS[env_id]) == (prompt, texts)


# ------------------------------------------------------------------------------------------- observations
def test_start_observation_reads_zero_out_of_view():
    obs, _ = gym.make(TS).reset(seed=0)
    # tomato (0,5) chop 0 | plate (6,5) out of view | board (1,0) out of view | delivery (3,0) out of view |
    # agent (1,4) | one-hot "tomato salad"
    assert obs.tolist() == [0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 4, 1, 0, 0, 0, 0, 0, 0]
    full, _ = gym.make(TS, view_radius=0).reset(seed=0)  # radius 0 = full view, as in the original
    assert full.tolist() == [0, 5, 0, 6, 5, 1, 0, 3, 0, 1, 4, 1, 0, 0, 0, 0, 0, 0]


@pytest.mark.parametrize(
    ("env_id", "actions", "expected"),
    [
        (TLS, [], [0, 5, 0, 1, 6, 0, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 4, 0, 0, 0, 1, 0, 0, 0]),
        (TLS, [0, 4, 7], [1, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2, 0, 3, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0]),
        (TLS, [0, 4, 7, 1], [0, 0, 0, 1, 5, 0, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 5, 0, 0, 0, 1, 0, 0, 0]),
        (TS, [0, 2, 4, 0, 1], [5, 5, 3, 5, 5, 0, 0, 0, 0, 5, 5, 1, 0, 0, 0, 0, 0, 0]),
        (TS, [0, 2, 4, 0, 1, 3], [3, 0, 3, 3, 0, 1, 0, 3, 0, 3, 1, 1, 0, 0, 0, 0, 0, 0]),
    ],
)
def test_observation_vectors_match_original(env_id, actions, expected):
    _, obs, _, _ = play(env_id, actions)
    assert obs.tolist() == expected


def test_navigation_uses_memory_and_stops_once_the_bowl_is_seen():
    # The chopped tomato is in the bowl on board 1, the agent holds the lettuce at (1, 5), out of sight of
    # the board. "pick up the tomato" walks to the remembered spot and stops (one idle step) as soon as it
    # sees the tomato is in the bowl: 3 moves + 1 stay, ending at (1, 2), as in the original.
    _, obs, info, steps = play(TLS, [0, 4, 7, 3, 4, 4, 1, 0])
    assert [s[3]["primitive_steps"] for s in steps] == [2, 5, 3, 9, 9, 1, 5, 4]
    assert obs.tolist() == [1, 0, 3, 1, 2, 0, 0, 0, 0, 1, 0, 1, 0, 2, 0, 3, 0, 1, 2, 0, 0, 0, 1, 0, 0, 0]
    assert info["prompt"] == (
        f"{TWO_BOARDS} A bowl containing chopped tomato is on the first cutting board. Currently you are "
        f"carrying an unchopped lettuce in hand. {GOAL_TLS}"
    )
    assert info["actions"] == _with(
        TLS_DEFAULT,
        a3="take the bowl",
        a4="put the lettuce on the first cutting board",
        a5="put the lettuce on the second cutting board",
        a6="serve the dish",
    )


# ------------------------------------------------------------------------------------------------ rewards
def test_macro_reward_is_discounted_sum_of_primitive_rewards():
    # "take the bowl" from the start walks 5 tiles then picks the bowl up: 6 primitive steps of -0.001
    _, _, info, [(reward, *_)] = play(TS, [1])
    assert info["primitive_steps"] == 6
    assert reward == pytest.approx(discounted([-0.001] * 6))
    _, _, _, [(reward_half, *_)] = play(TS, [1], gamma=0.5)
    assert reward_half == pytest.approx(discounted([-0.001] * 6, 0.5))


def test_useless_action_costs_one_step_penalty():
    _, _, info, [(reward, terminated, truncated, _)] = play(TS, [4])  # "chop nothing"
    assert info["primitive_steps"] == 1 and reward == pytest.approx(-0.001)
    assert not terminated and not truncated and not info["success"]


def test_chop_reward_paid_once_and_only_for_required_food():
    _, _, _, steps = play(TS, [0, 2, 4, 4])
    (chop, *_), (again, *_) = steps[2], steps[3]
    assert steps[2][3]["primitive_steps"] == 3
    assert chop == pytest.approx(discounted([-0.001, -0.001, 0.2 - 0.001]))
    assert steps[3][3]["primitive_steps"] == 1 and again == pytest.approx(-0.001)
    # the onion is a distractor in Tomato-Lettuce Salad: chopping it pays nothing
    _, _, _, steps = play(TLS, [2, 4, 7])
    assert steps[2][3]["primitive_steps"] == 3
    assert steps[2][0] == pytest.approx(discounted([-0.001] * 3))


@pytest.mark.parametrize(("env_id", "plan"), [(TS, [0, 2, 4, 0, 1, 3]), (TLS, [0, 4, 7, 1, 5, 7, 3, 0, 1, 6])])
def test_correct_delivery_terminates_with_success(env_id, plan):
    _, _, info, steps = play(env_id, plan)
    reward, terminated, truncated, info = steps[-1]
    k = info["primitive_steps"]
    assert reward == pytest.approx(discounted([-0.001] * (k - 1) + [1 - 0.001]))
    assert terminated and not truncated and info["success"]
    assert not any(s[1] or s[2] or s[3]["success"] for s in steps[:-1])


def test_wrong_delivery_penalised_and_items_return():
    env, obs, info, steps = play(TS, [0, 3])  # serve a raw tomato
    reward, terminated, truncated, info = steps[-1]
    assert info["primitive_steps"] == 7
    assert reward == pytest.approx(discounted([-0.001] * 6 + [-0.1 - 0.001]))
    assert not terminated and not truncated and not info["success"]
    obs, _, _, _, info = env.step(0)  # the tomato is back on its table, unchopped
    assert info["prompt"] == f"{ONE_BOARD} Currently you are carrying an unchopped tomato in hand. {GOAL_TS}"
    # a bowl of tomato alone is the wrong dish for Tomato-Lettuce Salad: both go back, the tomato raw again
    env, obs, info, steps = play(TLS, [0, 4, 7, 3, 0, 6])
    assert steps[-1][0] == pytest.approx(discounted([-0.001] * 2 + [-0.1 - 0.001]))
    assert not steps[-1][1]
    _, _, _, _, info = env.step(0)
    assert "carrying an unchopped tomato" in info["prompt"]


# ------------------------------------------------------------------------------------------------ horizon
@pytest.mark.parametrize(("env_id", "useless"), [(TS, 4), (TLS, 7)])
def test_useless_episode_truncated_at_horizon(env_id, useless):
    env = gym.make(env_id)
    env.reset(seed=0)
    total, n = 0, 0
    while True:
        _, _, terminated, truncated, info = env.step(useless)
        total, n = total + info["primitive_steps"], n + 1
        assert not terminated
        if truncated:
            break
    assert total == 200 and n == 200 and info["elapsed_steps"] == 200
    with pytest.raises(RuntimeError, match="reset"):
        env.step(useless)


def test_macro_crossing_the_horizon_finishes_like_the_original():
    env = gym.make(TS)
    env.reset(seed=0)
    for _ in range(198):
        assert not env.step(4)[3]
    _, _, terminated, truncated, info = env.step(1)  # 6-step walk to the bowl, started at step 198
    assert truncated and not terminated
    assert info["primitive_steps"] == 6 and info["elapsed_steps"] == 204


def test_max_steps_kwarg():
    env = gym.make(TS, max_steps=5)
    env.reset(seed=0)
    flags = [env.step(4)[3] for _ in range(5)]
    assert flags == [False] * 4 + [True]


# -------------------------------------------------------------------------------------------- validation
@pytest.mark.parametrize("bad", [-1, 5, 2.0, "1", None, True, np.array([1, 2])])
def test_invalid_action_raises_helpful_value_error(bad):
    env = gym.make(TS)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"invalid action .*\[0, 4\]"):
        env.unwrapped.step(bad)


def test_numpy_integer_actions_accepted():
    env = gym.make(TS)
    env.reset(seed=0)
    assert env.step(np.int64(0))[4]["primitive_steps"] == 2
    assert env.step(np.array(2))[4]["primitive_steps"] == 5


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="unknown task"):
        OvercookedEnv("nope")
    with pytest.raises(ValueError, match="view_radius"):
        OvercookedEnv(TS, view_radius=-1)
    with pytest.raises(ValueError, match="gamma"):
        OvercookedEnv(TS, gamma=0.0)


# ------------------------------------------------------------------------------------------- determinism
@settings(max_examples=25, deadline=None)
@given(
    env_id=st.sampled_from([TS, TLS]),
    actions=st.lists(st.integers(0, 7), min_size=1, max_size=40),
    seed=st.integers(0, 9),
)
def test_deterministic_and_well_formed(env_id, actions, seed):
    runs = []
    for _ in range(2):
        env = gym.make(env_id)
        obs, info = env.reset(seed=seed)
        trace = [(obs.tolist(), info["prompt"], info["actions"])]
        for a in actions:
            a %= env.action_space.n
            obs, reward, terminated, truncated, info = env.step(a)
            assert env.observation_space.contains(obs)
            assert info["primitive_steps"] >= 1 and np.isfinite(reward)
            assert len(info["actions"]) == env.action_space.n and info["prompt"].endswith("you should first")
            trace.append(
                (
                    obs.tolist(),
                    reward,
                    terminated,
                    truncated,
                    info["prompt"],
                    info["actions"],
                    info["primitive_steps"],
                    info["success"],
                )
            )
            if terminated or truncated:
                break
        runs.append(trace)
    assert runs[0] == runs[1]


def test_vector_env_same_step_autoreset():
    envs = gym.vector.SyncVectorEnv(
        [lambda: gym.make(TS) for _ in range(2)], autoreset_mode=gym.vector.AutoresetMode.SAME_STEP
    )
    obs, info = envs.reset(seed=0)
    assert obs.shape == (2, 18) and list(info["prompt"]) == [TS_CASES[0][1]] * 2
    for a in [0, 2, 4, 0, 1]:
        envs.step(np.array([a, 4]))
    obs, reward, terminated, truncated, info = envs.step(np.array([3, 4]))
    assert terminated.tolist() == [True, False]
    assert info["final_info"]["success"][0] and info["prompt"][0] == TS_CASES[0][1]  # reset in the same step


# ------------------------------------------------------------------------------------------------- render
def test_ansi_render():
    env, _, _, _ = play(TS, [0, 2], render_mode="ansi")
    frame = env.render()
    rows = frame.splitlines()
    # the raw tomato lies on the board (drawn over it), the agent stands in front of it
    assert rows[:7] == ["#######", "tA....#", "#.....#", "D.....#", "#.....#", "#.....#", "#####p#"]
    assert "board 1: tomato (0/3 chopped)" in frame and "hand: nothing" in frame


# ------------------------------------------------------------------------------------------------- solver
@pytest.mark.parametrize(
    ("env_id", "value", "n_macros", "n_steps"),
    [(TS, 0.9205180925641948, 6, 28), (TLS, 0.9476564569165645, 10, 45)],
)
def test_optimal_return_plan_replays_to_success(env_id, value, n_macros, n_steps):
    best, plan, steps = optimal_return(env_id)
    assert best == pytest.approx(value, abs=1e-9)
    assert (len(plan), steps) == (n_macros, n_steps)
    env = gym.make(env_id)
    env.reset(seed=0)
    ret, used = 0.0, 0
    for a in plan:
        _, reward, terminated, truncated, info = env.step(a)
        ret += 0.99**used * reward
        used += info["primitive_steps"]
    assert terminated and info["success"] and used == steps
    assert ret == pytest.approx(best, abs=1e-9)
    assert optimal_return(env_id) == (best, plan, steps)  # cached


def test_optimal_return_beats_hand_written_plans():
    best, _, _ = optimal_return(TS)
    for plan in ([0, 2, 4, 1, 2, 3], [1, 2, 0, 2, 4]):  # slower ways to serve / not serving
        env = gym.make(TS)
        env.reset(seed=0)
        ret, used = 0.0, 0
        for a in plan:
            _, reward, *_, info = env.step(a)
            ret += 0.99**used * reward
            used += info["primitive_steps"]
        assert ret < best
