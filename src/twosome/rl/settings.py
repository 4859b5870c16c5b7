"""Each algorithm's settings, described once: a dataclass that checks its own values and what it needs of the rest of
the config, registered under the class it configures. The registry is what the config check knows of an algorithm
without importing it (no torch here); the algorithm's class receives its parsed settings. ``ppo`` (the PPO family's
hyperparameters, which PPO, POAD and GiGPO all read) is here too.

A new algorithm: its class in ``rl/<name>.py``, its settings here with ``@register``, its YAML in conf/algo/
(docs/EXTENDING.md)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from twosome.checked import Checked, problem


@dataclass
class PPOConfig(Checked):
    """The PPO family's hyperparameters (``ppo``; PPO, POAD and GiGPO read them). The defaults are TWOSOME's
    published Overcooked settings (a value phase, then policy steps of 32 decisions accumulated over chunks of 4,
    target KL 0.02); the presets in conf/ppo/ state what differs. The rollout's shape is ``rollout``."""

    gae_lambda: float = 0.95
    update_epochs: int = 1
    value_minibatch_size: int = 32
    policy_minibatch_size: int = 32  # decisions per policy optimizer step
    # decisions per forward, accumulated up to policy_minibatch_size; "auto": the whole minibatch, halved on a
    # GPU out-of-memory error (the same gradient either way; twosome.rl.chunking)
    policy_chunk_size: Any = 4
    policy_lr: float = 5e-7
    value_lr: float = 1e-5
    adam_eps: float = 1e-5
    anneal_lr: bool = True
    clip_coef: float = 0.2
    clip_vloss: bool = True
    ent_coef: float = 0.01
    vf_coef: float = 0.5
    max_grad_norm: float = 0.5
    target_kl: float | None = 0.02  # null: no early stop
    norm_adv: bool = True

    def problems(self) -> list[str]:
        rules = {
            "gae_lambda": (0 <= self.gae_lambda <= 1, "0 <= gae_lambda <= 1"),
            "update_epochs": (self.update_epochs >= 1, ">= 1"),
            "policy_lr": (self.policy_lr > 0, "> 0"),
            "value_lr": (self.value_lr > 0, "> 0"),
            "clip_coef": (self.clip_coef > 0, "> 0"),
            "value_minibatch_size": (self.value_minibatch_size >= 1, ">= 1"),
            "policy_minibatch_size": (self.policy_minibatch_size >= 1, ">= 1"),
            "policy_chunk_size": (
                self.policy_chunk_size == "auto"
                or (
                    isinstance(self.policy_chunk_size, int)
                    and not isinstance(self.policy_chunk_size, bool)
                    and 1 <= self.policy_chunk_size <= self.policy_minibatch_size
                ),
                f"from 1 to policy_minibatch_size ({self.policy_minibatch_size}), or auto",
            ),
        }
        return [problem(f"ppo.{k}", getattr(self, k), valid) for k, (ok, valid) in rules.items() if not ok]

    def batch_problems(self, batch_size: int) -> list[str]:
        """The minibatches must fit in the rollout's batch."""
        batch = f"the batch size, rollout.num_envs x rollout.num_steps = {batch_size}"
        return [
            problem(f"ppo.{k}", getattr(self, k), f"from 1 to {batch}")
            for k in ("value_minibatch_size", "policy_minibatch_size")
            if getattr(self, k) > batch_size
        ]


@dataclass
class ExplorationConfig(Checked):
    """Mechanisms that keep a skewed prior exploring (``explore``; docs/ALGORITHMS.md, "Exploration"). Each is off by
    default, so a run without them is the run it was before they existed.

    ``uniform_mix``: epsilon, the weight of the uniform policy over the valid actions in the policy that acts and
    trains, ``(1 - epsilon) pi + epsilon / n``, annealed linearly to 0 by ``uniform_mix_until`` (a fraction of the
    run's updates); the evaluation reads pi alone. ``entropy_floor``: a target for the policy's entropy as a
    fraction of log(number of valid actions); the entropy coefficient is then adapted after every update, as SAC
    adapts its temperature (``log c += entropy_coef_lr * (target - fraction)``), from and never under ``ppo.ent_coef``.
    ``prior_kl_coef``: beta of a KL term to the untrained policy (the LM without its adapter), exact over the
    candidate list (GiGPO's ``algo.kl_coef`` is the same term)."""

    uniform_mix: float = 0.0
    uniform_mix_until: float = 1.0
    entropy_floor: float | None = None
    entropy_coef_lr: float = 0.5
    prior_kl_coef: float = 0.0
    # ask the environments for their optimal next actions at each rollout decision, to log the policy's probability
    # of them (training/exploration_log.py); an environment without an oracle is not asked
    oracle: bool = True

    def problems(self) -> list[str]:
        floor = self.entropy_floor
        rules = {
            "uniform_mix": (0 <= self.uniform_mix < 1, "a number in [0, 1) (0: off)"),
            "uniform_mix_until": (0 < self.uniform_mix_until <= 1, "a fraction of the run's updates in (0, 1]"),
            "entropy_floor": (
                floor is None or 0 < floor < 1,
                "null (off) or a fraction of log(valid actions) in (0, 1)",
            ),
            "entropy_coef_lr": (self.entropy_coef_lr > 0, "a finite number > 0"),
            "prior_kl_coef": (self.prior_kl_coef >= 0, "a finite number >= 0 (0: off)"),
        }
        out = []
        for key, (ok, valid) in rules.items():
            value = getattr(self, key)
            if not ok or (value is not None and not math.isfinite(value)):
                out.append(problem(f"explore.{key}", value, valid))
        return out

    @property
    def active(self) -> bool:
        return bool(self.uniform_mix or self.entropy_floor is not None or self.prior_kl_coef)


# --- The registry ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlgorithmSpec:
    """What the config check knows of an algorithm (``algo._target_``) without importing it: its settings and what
    it needs of the rest of the config. The one place an algorithm's needs are declared: the run reads them here too
    (``spec_of``). An algorithm not registered is built as configured, unchecked."""

    settings: type
    norms: tuple[str, ...] | None = None  # the normalizations it can train (None: any)
    agents: tuple[str, ...] | None = None  # the agent classes (``agent.policy._target_``) it can train
    trains_written_tokens: bool = False  # trains an agent that writes its actions (the tokens, not an index)
    needs_values: bool = True  # reads the critic's V(s): rollouts compute it, and the agent must have a critic


ALGORITHMS: dict[str, AlgorithmSpec] = {}

# Keys of ``algo`` that are not the algorithm's settings: its class, and its mark in run names.
NOT_SETTINGS = ("_target_", "label")


def register(target: str, **needs):
    """Class decorator: these are the settings of the algorithm class ``target`` (its dotted path)."""

    def add(settings: type) -> type:
        ALGORITHMS[target] = AlgorithmSpec(settings, **needs)
        return settings

    return add


def algorithm_spec(target: str | None) -> AlgorithmSpec | None:
    return ALGORITHMS.get(target)


def spec_of(algorithm: type) -> AlgorithmSpec:
    """The registration of the algorithm class ``algorithm`` or of the nearest registered class it derives from (an
    unregistered subclass of PPO needs what PPO needs); the defaults where none is registered."""
    for cls in algorithm.__mro__:
        spec = ALGORITHMS.get(f"{cls.__module__}.{cls.__qualname__}")
        if spec is not None:
            return spec
    return AlgorithmSpec(AlgorithmSettings)


class AlgorithmSettings(Checked):
    """An algorithm's own settings (``algo.*``): ``problems`` checks the values, ``config_problems`` what they need
    of the rest of the config."""

    def problems(self) -> list[str]:
        return []

    def config_problems(self, cfg: DictConfig) -> list[str]:
        return []


# The agents whose untrained policy an algorithm's KL term can read (agents.capabilities.Referenced).
REFERENCE_AGENTS = ("twosome.agents.twosome.TwosomeAgent",)


@register("twosome.rl.ppo.PPO")
@dataclass
class PPOSettings(AlgorithmSettings):
    """``algo=ppo``: no settings of its own (its hyperparameters are the ``ppo`` group)."""


CREDITS = ("token", "action")


@register(
    "twosome.rl.poad.POAD",
    norms=("trie",),
    agents=("twosome.agents.twosome.TwosomeAgent", "twosome.agents.generate.GenerateRLAgent"),
    trains_written_tokens=True,
)
@dataclass
class POADSettings(AlgorithmSettings):
    """``algo=poad``: token-level PPO, which scores the chosen action token by token (``norm=trie``) with the
    TWOSOME agent's adapted LM. ``token_gamma``: the discount between the tokens of one action (1: BAD, the paper's
    POAD; gamma: NTPO). ``credit``: ``token`` gives each token its own advantage by the BAD backup over the token
    critic (the paper); ``action`` gives every token the action's GAE advantage from V(s)."""

    token_gamma: float = 1.0
    credit: str = "token"

    def problems(self) -> list[str]:
        out = []
        if not 0 < self.token_gamma <= 1:
            out.append(problem("algo.token_gamma", self.token_gamma, "0 < token_gamma <= 1"))
        if self.credit not in CREDITS:
            out.append(problem("algo.credit", self.credit, list(CREDITS)))
        return out


@register("twosome.rl.gigpo.GiGPO", needs_values=False)
@dataclass
class GiGPOSettings(AlgorithmSettings):
    """``algo=gigpo``: critic-free group advantages (rl/gigpo.py). ``step_weight``: the weight of the step-level
    (anchor) advantage added to the episode-level one (GiGPO's omega; 0: GRPO over episodes). ``group_size``: G, the
    environments that restart from one seeded state at each rollout (None: all of them, one group). ``kl_coef``:
    beta of the KL term to the untrained policy (0: none)."""

    step_weight: float = 1.0
    group_size: int | None = None
    kl_coef: float = 0.0

    def problems(self) -> list[str]:
        out = [] if self.step_weight >= 0 else [problem("algo.step_weight", self.step_weight, ">= 0")]
        if self.group_size is not None and self.group_size < 1:
            out.append(problem("algo.group_size", self.group_size, "null (all environments) or an integer >= 1"))
        if not math.isfinite(self.kl_coef) or self.kl_coef < 0:
            out.append(problem("algo.kl_coef", self.kl_coef, "a finite number >= 0 (0: no KL term)"))
        return out

    def config_problems(self, cfg: DictConfig) -> list[str]:
        out = []
        agent_class = cfg.agent.policy.get("_target_")
        if self.kl_coef and agent_class not in REFERENCE_AGENTS:
            out.append(
                f"algo.kl_coef={self.kl_coef} needs an agent with a reference policy (its untrained LM): "
                f"{list(REFERENCE_AGENTS)}; agent={cfg.agent.name} is {agent_class}: use algo.kl_coef=0 or "
                "agent=twosome"
            )
        envs = cfg.rollout.num_envs
        if self.group_size is not None and envs % self.group_size:  # episode groups split the environments
            out.append(problem("algo.group_size", self.group_size, f"a divisor of rollout.num_envs={envs}"))
        return out
