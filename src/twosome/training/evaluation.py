"""Evaluation episodes (greedy or sampled) on fresh environments, and their progress saved as they go.

A long final evaluation (100 sampled episodes of an LLM agent take half an hour on a CPU) used to restart from its
first episode after a stop. With ``SavedEvaluation`` it saves its whole state at step boundaries: the episodes ended
so far, the episodes under way (each environment pickled, as checkpoints keep them), the action sampler's generator
and torch's global one (a writer samples from it), every ``every_s`` seconds and at the step a stop signal arrives
in. The same command then resumes at the step it reached and plays the episodes the uninterrupted evaluation would
have played.
"""

from __future__ import annotations

import logging
import pickle
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from twosome.agents import capabilities
from twosome.agents.base import ActorCritic
from twosome.agents.capabilities import Writes, frozen_policy
from twosome.envs.invalid import INVALID_ACTION
from twosome.fileio import atomic_write_bytes
from twosome.parallel.collectives import all_true
from twosome.training.rollout import EpisodeTracker, reports_invalid
from twosome.training.vector_env import step_field, to_obs_batch

log = logging.getLogger(__name__)


class SavedEvaluation:
    """One file (``checkpoints/final_evaluation.pkl``; a generalization row's in ``.progress/``) holding the state of
    each phase of one final evaluation (greedy, then sampled) of the update ``update``; a phase that ended keeps only
    its episodes. A file of another
    update, or a phase of other settings, is ignored: the evaluation starts that phase afresh. ``every_s``: seconds
    between two saves (0: after every step); the end of a phase is always saved. ``elapsed_before``: the seconds the
    evaluation had run, up to its last save, before this process resumed it (a run's wall time counts them)."""

    def __init__(self, path: str | Path, update: int, every_s: float):
        self.path, self.update, self.every_s = Path(path), update, every_s
        stored = self._read()
        self.phases: dict[str, dict] = stored.get("phases", {})
        self.elapsed_before: float = stored.get("elapsed_s", 0.0)
        self.started = self.last_save = time.monotonic()
        self.pending_stop: Callable[[], None] | None = None

    def stop_at_next_step(self, stop: Callable[[], None]) -> None:
        """What a stop signal's handler asks for: the step under way ends, its state is saved, then ``stop()`` (which
        raises) ends the run, so that the same command resumes at that very step."""
        self.pending_stop = stop

    def _read(self) -> dict[str, Any]:
        if not self.path.is_file():
            return {}
        try:
            stored = pickle.loads(self.path.read_bytes())
        except Exception as err:  # written atomically, so only a foreign or corrupted file lands here
            log.warning("%s cannot be read (%s: %s): the evaluation starts afresh", self.path, type(err).__name__, err)
            return {}
        return stored if stored.get("update") == self.update else {}

    def phase(self, name: str, settings: dict[str, Any]) -> EvaluationPhase:
        return EvaluationPhase(self, name, settings)

    def write(self, name: str, settings: dict[str, Any], state: dict[str, Any]) -> None:
        self.phases[name] = {"settings": settings, "state": state}
        self.last_save = time.monotonic()
        stored = {
            "update": self.update,
            "phases": self.phases,
            "elapsed_s": self.elapsed_before + self.last_save - self.started,
        }
        atomic_write_bytes(self.path, pickle.dumps(stored))

    def clear(self) -> None:
        """After the evaluation's row is logged: nothing left to resume."""
        self.path.unlink(missing_ok=True)


@dataclass
class EvaluationPhase:
    """What ``evaluate`` reads and writes of a ``SavedEvaluation``: the state of one phase."""

    saved: SavedEvaluation
    name: str
    settings: dict[str, Any]

    def load(self) -> dict[str, Any] | None:
        stored = self.saved.phases.get(self.name)
        return stored["state"] if stored is not None and stored["settings"] == self.settings else None

    def offer(self, state: Callable[[bool], dict[str, Any]], ended: bool) -> None:
        """Save ``state(ended)`` if the phase ``ended``, ``every_s`` has passed since the last save, or a stop is
        pending (then stop)."""
        stop = self.saved.pending_stop
        if ended or stop is not None or time.monotonic() - self.saved.last_save >= self.saved.every_s:
            self.saved.write(self.name, self.settings, state(ended))
        if stop is not None:
            stop()


@torch.no_grad()
def evaluate(
    agent: ActorCritic,
    envs: gym.vector.VectorEnv,
    episodes: int,
    gamma: float,
    seed: int,
    deterministic: bool,
    lockstep: bool = False,
    progress: Callable[[int], None] | None = None,
    saved: EvaluationPhase | None = None,
) -> list[dict]:
    """Run ``episodes`` full episodes (greedy or sampled actions); return one record per episode. ``lockstep``:
    every rank steps until all have their episodes (model forwards are collectives). ``progress(n)`` is told each
    time n more episodes have ended (a progress bar). ``saved``: where the evaluation's progress is saved and, if a
    stop left some, resumed from (one process only: a rank cannot resume alone)."""
    with frozen_policy(agent), seeded_global_generator(agent, seed):
        return _evaluate(agent, envs, episodes, gamma, seed, deterministic, lockstep, progress, saved)


@contextmanager
def seeded_global_generator(agent: ActorCritic, seed: int):
    """A written action is sampled by ``generate``, which draws from torch's global generator: seeded here and
    restored after, so that an evaluation's episodes depend on its seed alone (not on what ran before it in the
    process: a resumed or parallel generalization evaluation gives the same rows) and training's stream is untouched."""
    cuda = sorted({p.device.index or 0 for p in agent.parameters() if p.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda):
        torch.manual_seed(seed)
        yield


def _needs_more(have: int, want: int, lockstep: bool) -> bool:
    return not all_true(have >= want) if lockstep else have < want


class _Episodes:
    """An evaluation's state between two steps: what a save keeps and a resume puts back. Besides the environments
    and generators, the agent's memoized scores (``Memoizing``: recomputed in other batches they could differ in the
    last bits) and its tallies (``Reporting``: a writer's invalid texts) are saved with the episodes they count."""

    def __init__(self, agent, envs: gym.vector.VectorEnv, gamma: float, seed: int, resumed: dict | None):
        self.agent, self.envs = agent, envs
        self.generator = torch.Generator().manual_seed(seed)
        self.records: list[dict] = [] if resumed is None else resumed["records"]
        if resumed is None:
            self.tracker = EpisodeTracker(gamma, envs.num_envs)
            self.obs, self.info = envs.reset(seed=seed)
        elif "envs" in resumed:  # else the phase had ended: nothing left to play
            self._restore(resumed)

    def state(self, ended: bool) -> dict[str, Any]:
        if ended:
            return {"records": self.records}
        return {
            "records": self.records,
            "tracker": self.tracker,
            "obs": self.obs,
            "info": self.info,
            "envs": pickle.dumps(self.envs.envs),
            "generator": self.generator.get_state(),
            "global_generator": torch.get_rng_state(),
            "cuda_generators": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None,
            "agent_cache": capabilities.cache_state(self.agent),
            "agent_tallies": capabilities.tallies(self.agent),
        }

    def _restore(self, state: dict[str, Any]) -> None:
        for env in self.envs.envs:
            env.close()
        self.envs.envs = pickle.loads(state["envs"])
        self.tracker, self.obs, self.info = state["tracker"], state["obs"], state["info"]
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["global_generator"])
        if state.get("cuda_generators") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_generators"])
        capabilities.load_cache_state(self.agent, state["agent_cache"])
        capabilities.load_tallies(self.agent, state["agent_tallies"])


def _evaluate(agent, envs, episodes, gamma, seed, deterministic, lockstep, progress=None, saved=None) -> list[dict]:
    resumed = saved.load() if saved is not None else None
    run = _Episodes(agent, envs, gamma, seed, resumed)
    if resumed is not None:  # several environments may end at one step: a phase can end with more than it plays
        done = min(len(run.records), episodes)
        said = (
            f"resumed after {done} of {episodes}" if done < episodes else f"all {episodes} were played before the stop"
        )
        print(f"{saved.name} episodes: {said}")
        if progress is not None and done:
            progress(done)
    while _needs_more(len(run.records), episodes, lockstep):
        batch = to_obs_batch(run.obs, run.info)
        if isinstance(agent, Writes):  # greedy: the most likely text, sampled: a text the policy writes
            action = agent.act(batch, greedy=deterministic).actions
        elif deterministic:
            action = agent.distribution(batch).probs.argmax(-1)
        else:
            probs = agent.distribution(batch).probs.float().cpu()
            action = torch.multinomial(probs, 1, generator=run.generator).squeeze(-1)
        run.obs, reward, terminated, truncated, run.info = envs.step(action.cpu().numpy())
        ended = np.logical_or(terminated, truncated)
        run.tracker.add(
            np.asarray(reward, dtype=np.float64),
            step_field(run.info, "primitive_steps", ended, 1),
            ended,
            step_field(run.info, "success", ended, False),
            step_field(run.info, INVALID_ACTION, ended, False) if reports_invalid(run.info) else None,
        )
        ended = run.tracker.pop()
        if progress is not None and ended:
            progress(min(len(ended), max(episodes - len(run.records), 0)))
        run.records.extend(ended)
        if saved is not None:
            saved.offer(run.state, ended=len(run.records) >= episodes)
    return run.records[:episodes]
