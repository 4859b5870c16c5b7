"""Every environment's oracle, ``optimal_actions()``: the indices, among the valid actions shown, of the actions that
begin an optimal continuation. Following it succeeds (with the exact optimum where one is known: Overcooked's solver,
VirtualHome's shortest plans), it names valid actions only, asking changes no trajectory, it keeps its meaning through
the wording wrappers and the vector environment the runs build, and a call is cheap."""

from __future__ import annotations

import math
import pickle
import time
from collections import deque

import gymnasium as gym
import numpy as np
import pytest

import twosome.envs  # noqa: F401  (registers the ids)
from twosome.envs.overcooked import TASKS as OVERCOOKED
from twosome.envs.overcooked import optimal_return
from twosome.envs.overcooked.solver import solution
from twosome.envs.textworld.games import CookingSettings, ensure_game
from twosome.envs.virtualhome import TASKS as VIRTUALHOME
from twosome.envs.virtualhome import World, describe, holds_goal, read_features
from twosome.envs.wording import Reworded
from twosome.training.vector_env import make_vector_env

TS, TLS = "twosome/Overcooked-TomatoSalad-v0", "twosome/Overcooked-TomatoLettuceSalad-v0"
FOOD, ENT = "twosome/VirtualHome-FoodPreparation-v0", "twosome/VirtualHome-Entertainment-v0"
BABYAI = [f"twosome/BabyAI-{name}-v0" for name in ("GoTo", "PickUp", "Open", "PutNext", "PickUpThenGoTo")]
BOUND = 0.050  # seconds per call after warm-up: loose (measured: tens of microseconds to about a millisecond)


def oracle(env: gym.Env) -> tuple[int, ...]:
    """What a caller uses on each sub-environment of a vector env: through every wrapper."""
    return env.get_wrapper_attr("optimal_actions")()


def valid(info) -> np.ndarray:
    return np.flatnonzero(np.asarray(info["action_mask"], dtype=bool))


def follow(env: gym.Env, seed: int = 0, reset_options=None, max_decisions: int = 500):
    """Always take the oracle's first action from reset; checks every answer names valid actions. Returns the
    actions, the rewards, the primitive steps, the last info and the per-call times after the first."""
    _, info = env.reset(seed=seed, options=reset_options)
    actions, rewards, steps, times = [], [], [], []
    for _ in range(max_decisions):
        start = time.perf_counter()
        best = oracle(env)
        times.append(time.perf_counter() - start)
        assert best, f"no optimal action known at decision {len(actions)}"
        assert all(info["action_mask"][a] for a in best), (best, valid(info))
        assert len(set(best)) == len(best)
        _, reward, terminated, truncated, info = env.step(best[0])
        actions.append(best[0])
        rewards.append(reward)
        steps.append(info.get("primitive_steps", 1))
        if terminated or truncated:
            return actions, rewards, steps, info, times[1:]
    raise AssertionError(f"no end after {max_decisions} decisions")


def report_cost(name: str, times: list[float]) -> None:
    median, worst = float(np.median(times)) * 1e6, max(times) * 1e6
    print(f"\n{name}: optimal_actions() per call after warm-up: median {median:.1f} us, max {worst:.1f} us")
    assert np.median(times) < BOUND and max(times) < 5 * BOUND


def discounted(rewards, steps, gamma) -> float:
    total, used = 0.0, 0
    for reward, n in zip(rewards, steps, strict=True):
        total += gamma**used * reward
        used += n
    return total


def same_rollouts(env_id: str, asks, seed: int, n_steps: int, make=None, **kwargs) -> None:
    """Two environments, the same seeds and the same random (valid) actions; one asked for its oracle where
    ``asks(step)``: identical observations, rewards, ends and infos."""
    make = make or (lambda: gym.make(env_id, **kwargs))
    plain, asked = make(), make()
    rng = np.random.default_rng(seed)
    episode = 0
    obs, info = plain.reset(seed=seed)
    obs2, info2 = asked.reset(seed=seed)
    for step in range(n_steps):
        np.testing.assert_equal(obs, obs2)
        assert info["prompt"] == info2["prompt"] and info["actions"] == info2["actions"]
        np.testing.assert_array_equal(info["action_mask"], info2["action_mask"])
        if asks(step):
            for _ in range(2):  # asking twice at a state is asking once
                best = oracle(asked)
                assert all(info2["action_mask"][a] for a in best)
        action = int(rng.choice(valid(info)))
        obs, reward, terminated, truncated, info = plain.step(action)
        obs2, reward2, terminated2, truncated2, info2 = asked.step(action)
        assert (reward, terminated, truncated) == (reward2, terminated2, truncated2)
        assert info.keys() == info2.keys()
        for key in info:
            np.testing.assert_equal(info[key], info2[key])
        if terminated or truncated:
            episode += 1
            obs, info = plain.reset(seed=seed + episode)
            obs2, info2 = asked.reset(seed=seed + episode)
    a, b = plain.unwrapped, asked.unwrapped
    assert a.np_random.bit_generator.state == b.np_random.bit_generator.state
    if getattr(a, "level", None) is not None:  # BabyAI: the level's own generator too
        assert a.level.np_random.bit_generator.state == b.level.np_random.bit_generator.state
    plain.close()
    asked.close()


def random_prefix(env, rng, n: int, seed: int = 0):
    """Reset, then up to ``n`` random valid actions (fewer if the episode ends); the actions and the last info."""
    _, info = env.reset(seed=seed)
    taken = []
    for _ in range(n):
        action = int(rng.choice(valid(info)))
        _, _, terminated, truncated, info = env.step(action)
        taken.append(action)
        if terminated or truncated:
            _, info = env.reset(seed=seed)
            taken = []
    return taken, info


def same_meaning_through_shuffle(env_id: str, seed: int, n_steps: int, **kwargs) -> None:
    """Side by side with the environment it rewords, the shuffled (and a paraphrased) wording's oracle names the same
    actions, in the same order of preference."""
    plain = gym.make(env_id, **kwargs)
    shuffled = Reworded(gym.make(env_id, **kwargs), "shuffled")
    paraphrased = Reworded(gym.make(env_id, **kwargs), "plain")
    rng = np.random.default_rng(seed)
    _, info = plain.reset(seed=seed)
    _, sinfo = shuffled.reset(seed=seed)
    _, pinfo = paraphrased.reset(seed=seed)
    moved = False
    for _ in range(n_steps):
        best, sbest, pbest = oracle(plain), oracle(shuffled), oracle(paraphrased)
        named = [info["actions"][a] for a in best]
        assert [shuffled.wording.action_text(text) for text in named] == [sinfo["actions"][a] for a in sbest]
        assert pbest == best
        assert [paraphrased.wording.action_text(text) for text in named] == [pinfo["actions"][a] for a in pbest]
        assert all(sinfo["action_mask"][a] for a in sbest)
        moved |= sbest != best
        action = int(rng.choice(valid(info)))
        shown = int(np.flatnonzero(shuffled.order == action)[0])
        _, _, terminated, truncated, info = plain.step(action)
        _, _, sterm, _, sinfo = shuffled.step(shown)
        _, _, _, _, pinfo = paraphrased.step(action)
        assert sterm == terminated
        if terminated or truncated:
            break
    assert moved, "the shuffle moved no oracle index: the test would not see a missing remap"


# ------------------------------------------------------------------------------------------------------ Overcooked
@pytest.mark.parametrize("env_id", [TS, TLS])
def test_overcooked_oracle_reaches_the_solvers_optimal_return(env_id):
    env = gym.make(env_id)
    actions, rewards, steps, info, times = follow(env)
    best, plan, used = optimal_return(env_id, env.unwrapped.gamma)
    assert info["success"] and sum(steps) == used
    assert discounted(rewards, steps, env.unwrapped.gamma) == pytest.approx(best, rel=1e-12, abs=0)
    assert actions == plan  # ties go to the lowest index, as the solver's plan
    report_cost(env_id, times)


@pytest.mark.parametrize("env_id, max_steps", [(TS, 200), (TS, 30), (TS, 27), (TLS, 200)])
def test_overcooked_oracle_is_the_argmax_of_the_returns_each_action_really_gets(env_id, max_steps):
    """From random states, each macro action then the oracle to the end, played out: the oracle's set is exactly the
    actions whose played return is the best (so its values are the dynamics', with the horizon's time left)."""
    env = gym.make(env_id, max_steps=max_steps)
    gamma, n_actions = env.unwrapped.gamma, env.action_space.n
    rng = np.random.default_rng(max_steps)
    checked = 0
    for trial in range(6 if env_id == TS else 3):
        prefix, _ = random_prefix(env, rng, int(rng.integers(0, 6)), seed=trial)
        best = oracle(env)
        returns = []
        for action in range(n_actions):
            twin = gym.make(env_id, max_steps=max_steps)
            twin.reset(seed=trial)
            for a in prefix:
                twin.step(a)
            _, reward, terminated, truncated, info = twin.step(action)
            tail_rewards, tail_steps = [], []
            while not (terminated or truncated):
                _, r, terminated, truncated, tail_info = twin.step(oracle(twin)[0])
                tail_rewards.append(r)
                tail_steps.append(tail_info["primitive_steps"])
            returns.append(reward + gamma ** info["primitive_steps"] * discounted(tail_rewards, tail_steps, gamma))
        top = max(returns)
        played_best = tuple(a for a, g in enumerate(returns) if g >= top - 1e-9 * max(1.0, abs(top)))
        assert best == played_best, (prefix, returns)
        solved = solution(env.unwrapped.task, gamma, 2, max_steps)
        state = solved.index[env.unwrapped.world.key()]
        assert solved.value[env.unwrapped.elapsed_steps, state] == pytest.approx(top, rel=1e-12, abs=1e-15)
        checked += 1
    assert checked


def test_overcooked_oracle_is_empty_after_the_end_and_its_tables_are_cached():
    env = gym.make(TS)
    follow(env)
    assert oracle(env) == ()
    task, gamma = OVERCOOKED[TS], env.unwrapped.gamma
    assert solution(task, gamma, 2, task.horizon) is solution(task, gamma, 2, task.horizon)
    assert solution(task, gamma, 2, 30) is not solution(task, gamma, 2, task.horizon)


@pytest.mark.parametrize("env_id", [TS, TLS])
def test_overcooked_asking_changes_no_trajectory(env_id):
    same_rollouts(env_id, lambda step: step % 2 == 0, seed=3, n_steps=60)


# ----------------------------------------------------------------------------------------------------- VirtualHome
def independent_distances(task, start: World) -> dict:
    """Fewest decisions to the goal of every state reachable from ``start`` over the mask's actions: enumerate,
    then value iteration (not the planner's search)."""
    moves, queue, seen = {}, deque([start]), {start.key()}
    while queue:
        world = queue.popleft()
        out = []
        for a in describe(read_features(world, task.features), task.words)[1]:
            nxt = world.copy()
            nxt.act(task.actions[a].verb, task.actions[a].args)
            if holds_goal(read_features(nxt, task.features), task.goal):
                out.append((a, None))
                continue
            out.append((a, nxt.key()))
            if nxt.key() not in seen:
                seen.add(nxt.key())
                queue.append(nxt)
        moves[world.key()] = out
    dist = dict.fromkeys(moves, math.inf)
    changed = True
    while changed:
        changed = False
        for key, out in moves.items():
            d = min((1 if nxt is None else 1 + dist[nxt]) for _, nxt in out) if out else math.inf
            if d < dist[key]:
                dist[key], changed = d, True
    return {key: (dist[key], moves[key]) for key in moves}


@pytest.mark.parametrize("env_id", sorted(VIRTUALHOME))
def test_virtualhome_oracle_follows_a_shortest_plan(env_id):
    task = VIRTUALHOME[env_id]
    env = gym.make(env_id)
    actions, rewards, _, info, times = follow(env)
    table = independent_distances(task, World(task.scene))
    assert info["success"] and rewards[-1] == 1.0
    assert len(actions) == table[World(task.scene).key()][0] == task.optimal_steps
    report_cost(env_id, times)


@pytest.mark.parametrize("env_id", [FOOD, ENT])
def test_virtualhome_oracle_is_every_first_step_of_a_shortest_plan(env_id):
    """At random states (masked actions included: the environment executes them), the oracle's set is exactly the
    valid actions whose next state is one decision closer to the goal, by an independent search."""
    task = VIRTUALHOME[env_id]
    env = gym.make(env_id)
    rng = np.random.default_rng(1)
    tables: dict = {}
    checked = 0
    _, info = env.reset(seed=0)
    for _ in range(150):
        world = env.unwrapped.world
        if world.key() not in tables:
            tables.update(independent_distances(task, world.copy()))
        dist, out = tables[world.key()]
        left = env.unwrapped.max_steps - env.unwrapped.elapsed_steps
        closer = tuple(a for a, nxt in out if (1 if nxt is None else 1 + tables[nxt][0]) == dist)
        expected = () if dist > left else closer
        assert oracle(env) == expected
        assert set(a for a, _ in out) == set(valid(info))
        checked += bool(expected)
        # mostly valid actions, now and then a masked one (executed all the same)
        action = int(rng.choice(valid(info))) if rng.random() < 0.8 else int(rng.integers(env.action_space.n))
        _, _, terminated, truncated, info = env.step(action)
        if terminated or truncated:
            _, info = env.reset(seed=0)
    assert checked > 50


def test_virtualhome_oracle_knows_the_horizon():
    short = gym.make(FOOD, max_steps=5)  # the shortest plan takes 6 decisions
    short.reset(seed=0)
    assert oracle(short) == ()
    exact = gym.make(FOOD, max_steps=6)
    actions, _, _, info, _ = follow(exact)
    assert info["success"] and len(actions) == 6
    assert oracle(exact) == ()  # the episode ended


@pytest.mark.parametrize("env_id", [FOOD, ENT])
def test_virtualhome_asking_changes_no_trajectory(env_id):
    same_rollouts(env_id, lambda step: step % 3 != 1, seed=5, n_steps=80)


# ------------------------------------------------------------------------------------------------------- BabyAI-Text
@pytest.mark.parametrize("env_id", BABYAI)
def test_babyai_oracle_solves_every_family(env_id):
    env = gym.make(env_id)
    times = []
    for seed in range(5):
        actions, rewards, _, info, t = follow(env, seed=seed)
        assert info["success"] and rewards[-1] > 0, (seed, env.unwrapped._oracle.failure)
        assert env.unwrapped._oracle.failure is None
        times += t
    report_cost(env_id, times)


def test_babyai_oracle_maps_to_the_action_spaces_texts():
    """Navigation only: the bot's turn and forward map to their texts; where it wants more, nothing is known."""
    env = gym.make("twosome/BabyAI-GoTo-Navigation3-v0")
    actions, _, _, info, _ = follow(env, seed=0)
    assert info["success"] and set(actions) <= {0, 1, 2}
    french = gym.make("twosome/BabyAI-GoTo-French-v0")
    _, finfo = french.reset(seed=0)
    english = gym.make("twosome/BabyAI-GoTo-v0")
    english.reset(seed=0)
    assert oracle(french) == oracle(english) and len(oracle(french)) == 1


@pytest.mark.parametrize("env_id", ["twosome/BabyAI-MixedTrain-v0", "twosome/BabyAI-Open-v0"])
def test_babyai_asking_changes_no_trajectory(env_id):
    same_rollouts(env_id, lambda step: step % 7 in (3, 4), seed=11, n_steps=150)
    same_rollouts(env_id, lambda step: True, seed=12, n_steps=100)


def test_babyai_a_late_first_question_replays_what_the_bot_missed():
    """The bot must see the whole episode: asked first after random steps (or after pickling), it answers as a bot
    asked at every step since the reset."""
    for seed in range(4):
        rng = np.random.default_rng(seed)
        early, late = gym.make(BABYAI[4]), gym.make(BABYAI[4])
        _, info = early.reset(seed=seed)
        late.reset(seed=seed)
        k = int(rng.integers(3, 12))
        ended = False
        for step in range(k + 15):
            answer = oracle(early)
            if step >= k:
                assert oracle(late) == answer, (seed, step)
            if step == k + 5:  # a pickled copy (a checkpoint) rebuilds its bot by replaying the episode
                copy = pickle.loads(pickle.dumps(late.unwrapped))
                assert copy.optimal_actions() == answer
            action = int(rng.integers(6)) if step < k else answer[0] if answer else int(rng.integers(3))
            _, _, terminated, truncated, info = early.step(action)
            late.step(action)
            if terminated or truncated:
                ended = True
                break
        assert ended or oracle(early) == oracle(late)


# ------------------------------------------------------------------------------------------ wordings and vector envs
@pytest.mark.parametrize("env_id", [TS, TLS, FOOD, ENT, "twosome/BabyAI-GoTo-v0"])
def test_the_shuffled_wording_keeps_the_oracles_meaning(env_id):
    same_meaning_through_shuffle(env_id, seed=2, n_steps=25)


@pytest.mark.parametrize("env_id", [TS, ENT, "twosome/BabyAI-PickUp-v0"])
def test_the_oracle_works_through_the_vector_env_runs_build(env_id):
    """make_vector_env's environments (shuffled wording under the invalid-action wrapper): following each sub-env's
    oracle succeeds, first episodes in the optimal number of decisions where it is known."""
    venv = make_vector_env(env_id, 2, wording="shuffled", invalid_action={})
    _, info = venv.reset(seed=[0, 1])
    decisions, done = np.zeros(2, int), [None, None]
    for _ in range(300):
        chosen = []
        for i, sub in enumerate(venv.envs):
            best = sub.get_wrapper_attr("optimal_actions")()
            assert best and all(info["action_mask"][i][a] for a in best)
            chosen.append(best[0])
        _, _, terminated, truncated, info = venv.step(np.array(chosen))
        decisions += 1
        for i in range(2):
            if (terminated[i] or truncated[i]) and done[i] is None:
                done[i] = (bool(info["final_info"]["success"][i]), int(decisions[i]))
        if all(d is not None for d in done):
            break
    assert all(d is not None and d[0] for d in done), done
    if env_id == TS:
        assert [d[1] for d in done] == [len(optimal_return(TS)[1])] * 2
    if env_id == ENT:
        assert [d[1] for d in done] == [VIRTUALHOME[ENT].optimal_steps] * 2
    venv.close()


# ------------------------------------------------------------------------------------------------------- TextWorld
@pytest.fixture(scope="module")
def game_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("textworld")


HARD = {"recipe": 2, "take": 2, "go": 6, "open": True, "cut": True}  # rooms, a closed fridge, a knife


def textworld(game_dir, **kwargs):
    return gym.make("twosome/TextWorld-Cooking-v0", num_games=1, game_dir=str(game_dir), **kwargs)


@pytest.mark.parametrize("settings", [{}, HARD], ids=["default", "hard"])
def test_textworld_oracle_wins_the_game(game_dir, settings):
    env = textworld(game_dir, **settings)
    _, rewards, _, info, times = follow(env)
    assert info["success"] and sum(rewards) == info["max_score"] == info["score"] > 0
    assert oracle(env) == ()  # won: nothing left to do
    report_cost(f"TextWorld {settings or 'default'}", times)
    dropped = textworld(game_dir, meta_commands="drop", **settings)  # the policy never needs the meta commands
    assert follow(dropped)[3]["success"]


def test_textworld_asking_changes_no_trajectory(game_dir):
    ensure_game(game_dir, CookingSettings(**HARD), "train", 0)
    same_rollouts(
        "twosome/TextWorld-Cooking-v0", lambda step: step % 2 == 0, seed=0, n_steps=25,
        make=lambda: textworld(game_dir, max_steps=12, **HARD),
    )  # fmt: skip
