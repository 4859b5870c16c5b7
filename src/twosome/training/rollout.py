"""Collect rollouts from a vector environment with any ActorCritic, tracking episode statistics (the evaluation's
episodes: training/evaluation.py)."""

from __future__ import annotations

import pickle
from dataclasses import dataclass, field

import gymnasium as gym
import numpy as np
import torch

from twosome.agents.base import ActorCritic
from twosome.agents.capabilities import Writes, frozen_policy
from twosome.agents.observation import ObsBatch
from twosome.envs.invalid import INVALID_ACTION
from twosome.rl.rollout import Rollout
from twosome.training.exploration_log import ExplorationLog, optimal_actions
from twosome.training.vector_env import final_obs_batch, step_field, to_obs_batch


@dataclass
class EpisodeTracker:
    """Per-environment running sums, emitted as finished-episode records."""

    gamma: float
    num_envs: int
    finished: list[dict] = field(default_factory=list)

    def __post_init__(self):
        self.reset_all()

    def reset_all(self):
        self.ret = np.zeros(self.num_envs)
        self.disc_ret = np.zeros(self.num_envs)
        self.elapsed = np.zeros(self.num_envs)  # primitive steps so far
        self.length = np.zeros(self.num_envs, dtype=int)
        self.invalid = np.zeros(self.num_envs, dtype=int)

    def add(self, rewards, primitive_steps, ended, success, invalid=None):
        """``invalid``: which decisions named no valid action (environments wrapped in ``InvalidAsNoOp``); the
        episode records then count them (``invalid_actions``)."""
        self.disc_ret += self.gamma**self.elapsed * rewards
        self.ret += rewards
        self.elapsed += primitive_steps
        self.length += 1
        if invalid is not None:
            self.invalid += np.asarray(invalid, dtype=int)
        for i in np.flatnonzero(ended):
            self.finished.append(
                {
                    "episodic_return": float(self.ret[i]),
                    "discounted_return": float(self.disc_ret[i]),
                    "episodic_length": int(self.length[i]),
                    "primitive_steps": int(self.elapsed[i]),
                    "success": float(success[i]),
                    **({"invalid_actions": int(self.invalid[i])} if invalid is not None else {}),
                }
            )
            self.ret[i] = self.disc_ret[i] = self.elapsed[i] = self.length[i] = self.invalid[i] = 0

    def pop(self) -> list[dict]:
        out, self.finished = self.finished, []
        return out

    def __setstate__(self, state: dict) -> None:
        """A tracker pickled into a checkpoint before invalid decisions were counted resumes with none counted."""
        self.__dict__.update(state)
        if "invalid" not in state:
            self.invalid = np.zeros(self.num_envs, dtype=int)


class RolloutCollector:
    """``lockstep``: data-parallel training, where every model forward is a collective: every rank makes the same
    forwards whatever its data (a bootstrap value on one rank means one on all). ``values``: whether the algorithm
    reads V(s) (its registration's ``needs_values``, rl/settings.py); without, the agent's critic is never called
    (it may have none) and the rollout's values are zeros."""

    def __init__(
        self,
        envs: gym.vector.VectorEnv,
        agent: ActorCritic,
        num_steps: int,
        gamma: float,
        seed: int,
        lockstep: bool = False,
        values: bool = True,
        group_size: int | None = None,
    ):
        self.envs, self.agent, self.num_steps, self.gamma, self.lockstep = envs, agent, num_steps, gamma, lockstep
        self.values, self.group_size, self.seed = values, group_size, seed
        if group_size is not None and (group_size < 1 or envs.num_envs % group_size):
            raise ValueError(
                f"algo.group_size={group_size} is not valid with {envs.num_envs} environments; valid: a divisor of "
                "rollout.num_envs"
            )
        obs, info = envs.reset(seed=seed)
        self.next_obs = to_obs_batch(obs, info)
        self.tracker = EpisodeTracker(gamma, envs.num_envs)
        self.env_steps = 0
        # the policy that acts, given the agent's (an exploration mechanism's mixture: rl/exploration.py); None: pi
        self.behaviour = None
        self.exploration = ExplorationLog()  # the policy's entropy and its optimal actions' probability, per update
        self.ask_oracle = True  # whether to ask the environments for their optimal next actions at each decision

    def state_dict(self) -> dict:
        """Everything a resumed run needs to continue this rollout stream exactly: the environments (their
        simulator state and random generators), the pending observation, the unfinished episodes' sums."""
        return {
            "envs": pickle.dumps(self.envs.envs),
            "next_obs": self.next_obs,
            "tracker": pickle.dumps(self.tracker),
            "env_steps": self.env_steps,
        }

    def load_state_dict(self, state: dict) -> None:
        if len(state["next_obs"]) != self.envs.num_envs:
            raise ValueError(
                f"the checkpoint has {len(state['next_obs'])} environments, this run {self.envs.num_envs}: "
                "resume with the same rollout.num_envs"
            )
        for env in self.envs.envs:
            env.close()
        self.envs.envs = pickle.loads(state["envs"])
        self.next_obs = state["next_obs"]
        self.tracker = pickle.loads(state["tracker"])
        self.env_steps = int(state["env_steps"])

    @torch.no_grad()
    def _value(self, obs: ObsBatch) -> torch.Tensor:
        if not self.values:
            return torch.zeros(len(obs))
        return self.agent.value(obs).float().cpu()

    @torch.no_grad()
    def collect(self) -> Rollout:
        with frozen_policy(self.agent):
            return self._collect()

    def _collect(self) -> Rollout:
        self.start()
        for _ in range(self.num_steps):
            self.step()
        return self.finish()

    # A rollout in three parts, so that a seed group (training/seed_group.py) can step its members in lockstep.
    def start(self) -> None:
        T, N = self.num_steps, self.envs.num_envs
        if self.group_size is not None:
            self.restart_groups()
        self._obs, self._actions, self._logprobs, self._values, self._tokens = [], [], [], [], []
        self._rewards, self._discounts, self._ends = torch.zeros(T, N), torch.zeros(T, N), torch.zeros(T, N)
        self._starts = torch.zeros(T, N)
        self._next_values = torch.zeros(T, N)

    def restart_groups(self) -> None:
        """Episode groups (critic-free methods, ``Algorithm.group_size``): every rollout starts fresh episodes, the
        environments of one group reset with one seed (the same first state), the next rollout's groups with new
        ones. Episodes the previous rollout left unfinished are dropped (they never end in a rollout)."""
        N = self.envs.num_envs
        rollout = self.env_steps // (N * self.num_steps)  # this rollout's index: the same after a resume
        groups = N // self.group_size
        seeds = [self.seed + 1 + rollout * groups + i // self.group_size for i in range(N)]
        obs, info = self.envs.reset(seed=seeds)
        self.next_obs = to_obs_batch(obs, info)
        self.tracker.reset_all()

    def step(self) -> None:
        t, N = len(self._obs), self.envs.num_envs
        obs = self.next_obs
        if isinstance(self.agent, Writes):  # the policy is the writing: keep what was written
            written = self.agent.act(obs)
            action, logprob = written.actions, written.logprobs
            self._tokens.append(written.tokens.cpu())
        else:
            dist = self.agent.distribution(obs)
            self.exploration.add(dist, obs.action_mask, optimal_actions(self.envs) if self.ask_oracle else None)
            acting = dist if self.behaviour is None else self.behaviour(dist, obs.action_mask)
            action = acting.sample()
            logprob = acting.log_prob(action)
        value = self._value(obs)
        self._obs.append(obs)
        self._actions.append(action.cpu())
        self._logprobs.append(logprob.float().cpu())
        self._values.append(value)

        self._starts[t] = torch.as_tensor(self.tracker.length == 0, dtype=torch.float32)  # no decision yet
        next_obs, reward, terminated, truncated, info = self.envs.step(action.cpu().numpy())
        ended = np.logical_or(terminated, truncated)
        steps = step_field(info, "primitive_steps", ended, 1)
        success = step_field(info, "success", ended, False)
        invalid = step_field(info, INVALID_ACTION, ended, False) if reports_invalid(info) else None
        self.tracker.add(np.asarray(reward, dtype=np.float64), steps, ended, success, invalid)
        self._rewards[t] = torch.as_tensor(reward, dtype=torch.float32)
        self._discounts[t] = torch.as_tensor(self.gamma**steps, dtype=torch.float32)
        self._ends[t] = torch.as_tensor(ended, dtype=torch.float32)
        # Time-limit truncation: bootstrap from the value of the observation the episode stopped at.
        trunc_rows = np.flatnonzero(np.logical_and(truncated, ~np.asarray(terminated)))
        if len(trunc_rows):
            self._next_values[t, trunc_rows] = self._value(final_obs_batch(info, trunc_rows.tolist()))
        elif self.lockstep:  # the other ranks may be bootstrapping now: make the same LM forwards
            self._value(obs.select([0]))
        self.next_obs = to_obs_batch(next_obs, info)
        self.env_steps += N

    def finish(self) -> Rollout:
        last_value = self._value(self.next_obs)
        values = torch.stack(self._values)
        following = torch.cat([values[1:], last_value[None]])
        next_values = torch.where(self._ends.bool(), self._next_values, following)
        rollout = Rollout(
            obs=self._obs,
            actions=torch.stack(self._actions),
            logprobs=torch.stack(self._logprobs),
            values=values,
            rewards=self._rewards,
            discounts=self._discounts,
            episode_ends=self._ends,
            next_values=next_values,
            tokens=pad_tokens(self._tokens) if self._tokens else None,
            episode_starts=self._starts,
        )
        self._obs = self._actions = self._logprobs = self._values = self._tokens = []
        return rollout


def pad_tokens(steps: list[torch.Tensor]) -> torch.Tensor:
    """The written tokens of T decisions, (N, K_t) each, as one (T, N, max K_t) tensor padded with -1."""
    width = max(t.shape[1] for t in steps)
    return torch.stack([torch.nn.functional.pad(t, (0, width - t.shape[1]), value=-1) for t in steps])


def reports_invalid(info: dict) -> bool:
    """Whether the environments are wrapped in ``InvalidAsNoOp`` (their step infos say which decisions were)."""
    return INVALID_ACTION in info or INVALID_ACTION in info.get("final_info", {})
