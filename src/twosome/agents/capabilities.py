"""What an agent may do beyond the ActorCritic contract. Training asks for each with ``isinstance`` and falls back
to a default when an agent lacks it, so a new agent implements only what it needs.

- ``Memoizing``: reuses values computed from frozen weights (LM scores, critic features) while a rollout runs.
- ``Persistent``: writes its trained weights to a run directory and reads them back (evaluation, generalization).
- ``Shardable``: names its FSDP units (default: one per child module with parameters).
- ``Referenced``: has a reference policy, its untrained self, for a KL term to it (``algo.kl_coef``).
- ``TokenLevel``: scores the chosen action token by token, with a value per token (token-level methods, POAD).
- ``Writes``: acts by writing its action's text (``agent=generate_rl``): rollouts keep the written tokens, which
  a token-level algorithm then trains in place of the action index.
- ``SeedBatched``: trains in a seed group, several runs sharing one frozen LM in one process
  (``training/seed_group.py``).
- ``Reporting``: adds what it tallied over its decisions to the run's summary (a writer's invalid texts).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from torch import nn


@runtime_checkable
class Memoizing(Protocol):
    def frozen_policy(self) -> AbstractContextManager:
        """A context in which the weights do not change (rollouts, evaluation): memoize inside it."""

    def set_memoization(self, enabled: bool) -> None:
        """Off for data-parallel training: every call must make the same model forwards on every rank, because
        each forward of a sharded model is a collective."""

    def cache_state(self) -> dict:
        """The memoized values that outlive a rollout (and, inside ``frozen_policy``, the running one's: a saved
        evaluation keeps them). A checkpoint keeps them: recomputed in other batches they could differ in the last
        bits, and a resumed run would drift from an uninterrupted one."""

    def load_cache_state(self, state: dict) -> None: ...


@runtime_checkable
class Persistent(Protocol):
    def save(self, directory: str | Path, state_dict: dict | None = None) -> None:
        """Write the trained weights. ``state_dict``: the agent's weights gathered from every rank (FSDP, where each
        rank holds a shard); by default the module's own."""

    def load(self, directory: str | Path) -> None: ...


@runtime_checkable
class Shardable(Protocol):
    def fsdp_units(self) -> list[nn.Module]:
        """Modules to wrap as FSDP units, inner modules before the modules that contain them."""


@runtime_checkable
class Referenced(Protocol):
    def reference_distribution(self, obs) -> torch.distributions.Categorical:
        """pi_ref(. | s) over the action indices of ``obs``: the policy before training (for a KL term that keeps
        the trained policy near it), computed afresh, without gradients, never from a memo of the trained one's."""


@dataclass
class TokenOutputs:
    """For each row's chosen action: the policy's log-probability of each of its tokens, the mask of real tokens, and
    the token critic's input at each token (the state plus the tokens before it), all (N, K[, H])."""

    logprobs: torch.Tensor
    mask: torch.Tensor
    features: torch.Tensor


@runtime_checkable
class TokenLevel(Protocol):
    def token_outputs(self, obs, actions: torch.Tensor) -> TokenOutputs:
        """Per-token log-probabilities of ``actions`` (gradients into the policy) and the critic's features
        (detached). ``actions``: the chosen indices (N,), or for an agent that ``Writes`` the written tokens (N, K)
        (``Rollout.choices``)."""

    def token_values(self, features: torch.Tensor) -> torch.Tensor:
        """V(s, first k tokens) from ``TokenOutputs.features``, shape (N, K)."""


@dataclass
class Written:
    """What an agent that writes its actions did at one decision of N environments."""

    actions: torch.Tensor  # (N,) the action index each text names (the environment's invalid index where none)
    tokens: torch.Tensor  # (N, K) the written tokens, -1 past each row's end
    logprobs: torch.Tensor  # (N,) the log-probability of each row's tokens under the policy that wrote them


@runtime_checkable
class Writes(Protocol):
    def act(self, obs, greedy: bool = False) -> Written:
        """Write an action per row: sampled from the policy (rollouts, sampled evaluation), or greedy."""


@runtime_checkable
class SeedBatched(Protocol):
    """Its constructor takes ``lm`` (for members after the first: the previous member's ``group_base()``) and
    ``adapter_name``, the member's own adapter on it (every row the member scores goes through it), and the class
    can compute a rollout step for all members at once."""

    def group_base(self) -> nn.Module:
        """The model the next member is built on (an agent with adapters: its PeftModel)."""

    @staticmethod
    def prefetch(agents: list, batches: list) -> None:
        """Compute, in as few forwards as possible, what each member's next ``distribution`` and ``value`` on its
        batch will need, and memoize it in the member (inside ``frozen_policy``: the weights are fixed)."""


@runtime_checkable
class Reporting(Protocol):
    def report(self) -> dict:
        """What the run's summary adds about the agent, from the tallies of its decisions."""

    def tallies(self) -> dict:
        """The counts ``report`` reads: a saved evaluation keeps them with the episodes they count."""

    def load_tallies(self, state: dict) -> None: ...


def frozen_policy(agent) -> AbstractContextManager:
    return agent.frozen_policy() if isinstance(agent, Memoizing) else nullcontext()


def cache_state(agent) -> dict:
    return agent.cache_state() if isinstance(agent, Memoizing) else {}


def load_cache_state(agent, state: dict) -> None:
    if isinstance(agent, Memoizing):
        agent.load_cache_state(state)


def tallies(agent) -> dict:
    return agent.tallies() if isinstance(agent, Reporting) else {}


def load_tallies(agent, state: dict) -> None:
    if isinstance(agent, Reporting):
        agent.load_tallies(state)


def fsdp_units(agent: nn.Module) -> list[nn.Module]:
    if isinstance(agent, Shardable):
        return agent.fsdp_units()
    return [m for m in agent.children() if any(True for _ in m.parameters())]


def child_state_dict(agent: nn.Module, name: str, state_dict: dict | None) -> dict:
    """The state dict of child ``name``, from ``state_dict`` when given (keys prefixed ``name.``): for ``save``."""
    if state_dict is None:
        return getattr(agent, name).state_dict()
    return {k.removeprefix(name + "."): v for k, v in state_dict.items() if k.startswith(name + ".")}
