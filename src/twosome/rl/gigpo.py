"""GiGPO (Feng et al., NeurIPS 2025, "Group-in-Group Policy Optimization for LLM Agent Training"; verl-agent):
advantages without a critic, from groups.

- **Episode groups.** Every rollout restarts the environments, ``group_size`` of them from one seeded state
  (``Algorithm.group_size``: the collector does it). The rollout's complete episodes are grouped by their first
  state; each episode's discounted return, normalized within its group (minus the mean, over the standard
  deviation), is the advantage of every decision it made. With TWOSOME's tasks every episode starts in the same
  state anyway.
- **Step groups (anchor states).** Within an episode group, the decisions taken at the same state (the same prompt
  and valid actions, wherever in whichever episode) form an anchor group; each decision's discounted return from
  there, normalized within its anchor group, is a step-level advantage, added with weight ``step_weight``.
- The update is PPO's clipped objective on the candidate log-probabilities (the agent's own policy, e.g. TWOSOME's
  normalized scores), with PPO's minibatches, accumulation, KL stop and clipping (``rl/ppo.py``), and no value
  phase: the agent needs no critic.
- Optionally (``kl_coef`` > 0, beta) a KL term to the untrained policy, the LM without its adapter, as TRL and
  verl-agent take their reference: ``beta * KL(pi || pi_ref)``, exact over the candidate list, the reference
  computed once per update at the rollout's states.

What is ours (docs/ALGORITHMS.md): the action space is the candidate list, not generated text; a rollout is
``rollout.num_steps`` decisions, not "until every episode ends", and the decisions of an episode still unfinished at
its end are not trained on (conf/algo/gigpo.yaml makes rollouts long for that reason); a
group of one has no advantage (0) instead of its raw return; the discount is the environment's per decision
(gamma ** primitive steps, TWOSOME's macro actions).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Sequence

import torch

from twosome.agents.base import ActorCritic
from twosome.agents.capabilities import Referenced
from twosome.agents.memo import candidate_keys
from twosome.rl.ppo import PPO
from twosome.rl.rollout import Rollout
from twosome.rl.settings import ExplorationConfig, GiGPOSettings, PPOConfig

EPS = 1e-6


def normalized(x: torch.Tensor) -> torch.Tensor:
    """(x - mean) / (std + EPS) within one group; a group of one compares with nothing: 0."""
    if len(x) < 2:
        return torch.zeros_like(x)
    return (x - x.mean()) / (x.std() + EPS)


def episodes_of(starts: torch.Tensor, ends: torch.Tensor) -> list[tuple[int, int, int]]:
    """(environment, first decision, last decision) of every episode that begins and ends inside the rollout."""
    T, N = ends.shape
    out = []
    for n in range(N):
        first = None
        for t in range(T):
            if starts[t, n]:
                first = t
            if ends[t, n]:
                if first is not None:
                    out.append((n, first, t))
                first = None
    return out


def gigpo_advantages(
    rewards: torch.Tensor,
    discounts: torch.Tensor,
    episode_starts: torch.Tensor,
    episode_ends: torch.Tensor,
    keys: Sequence[Sequence[Hashable]],
    step_weight: float = 1.0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(advantages, trained)``, both (T, N): GiGPO's advantage of every decision of a complete episode,
    and which decisions those are. ``rewards``, ``discounts`` (gamma ** primitive steps), ``episode_starts``,
    ``episode_ends``: (T, N), as in ``Rollout``; ``keys[t][n]``: the state of decision t in environment n (its
    anchor: equal keys are the same state)."""
    T, N = rewards.shape
    returns = torch.zeros(T, N, dtype=torch.float64)
    episodes = episodes_of(episode_starts, episode_ends)
    for n, first, last in episodes:
        following = 0.0
        for t in range(last, first - 1, -1):
            following = float(rewards[t, n]) + float(discounts[t, n]) * following
            returns[t, n] = following
    groups: dict[Hashable, list[tuple[int, int, int]]] = defaultdict(list)
    for episode in episodes:
        n, first, _ = episode
        groups[keys[first][n]].append(episode)
    advantages = torch.zeros(T, N, dtype=torch.float64)
    trained = torch.zeros(T, N, dtype=torch.bool)
    for group in groups.values():
        episode_adv = normalized(torch.stack([returns[first, n] for n, first, _ in group]))
        anchors: dict[Hashable, list[tuple[int, int]]] = defaultdict(list)
        for (n, first, last), adv in zip(group, episode_adv):
            advantages[first : last + 1, n] = adv
            trained[first : last + 1, n] = True
            for t in range(first, last + 1):
                anchors[keys[t][n]].append((t, n))
        for members in anchors.values():
            step_adv = normalized(torch.stack([returns[t, n] for t, n in members]))
            for (t, n), adv in zip(members, step_adv):
                advantages[t, n] += step_weight * adv
    return advantages.float(), trained


class GiGPO(PPO):
    """Critic-free PPO over episode groups; its settings (``step_weight``, ``group_size``, ``kl_coef``) and their
    meaning: rl.settings.GiGPOSettings."""

    restarts = True  # every rollout starts its episodes afresh, group by group

    def __init__(
        self,
        agent: ActorCritic,
        ppo: PPOConfig,
        settings: GiGPOSettings | None = None,
        explore: ExplorationConfig | None = None,
    ):
        super().__init__(agent, ppo, explore=explore)
        settings = settings if settings is not None else GiGPOSettings()
        if settings.kl_coef and not isinstance(agent, Referenced):
            raise ValueError(
                f"algo.kl_coef={settings.kl_coef} needs an agent with a reference policy; {type(agent).__name__}"
            )
        self.step_weight, self.kl_coef = settings.step_weight, settings.kl_coef
        self.reference_kl_coef = settings.kl_coef or self.reference_kl_coef  # PPO's KL term, GiGPO's beta
        self.group_size = settings.group_size  # None: all the run's environments (the run knows how many)

    def configure_optimizers(self, total_updates: int) -> tuple[list, list]:
        """The policy's optimizer only (PPO's AdamW and linear decay): there is no critic to train."""
        p = self.config
        policy_opt = torch.optim.AdamW(self.agent.policy_parameters(), lr=p.policy_lr, eps=p.adam_eps, weight_decay=0.0)

        def decay(update: int) -> float:
            return 1.0 - update / total_updates if p.anneal_lr else 1.0

        return [policy_opt], [torch.optim.lr_scheduler.LambdaLR(policy_opt, decay)]

    def prepare(self, rollout: Rollout) -> dict:
        if rollout.episode_starts is None:
            raise ValueError("GiGPO groups episodes by where they start: the rollout must mark episode_starts")
        T, N = rollout.actions.shape
        obs = rollout.flat_obs()
        flat_keys = candidate_keys(obs)
        keys = [flat_keys[t * N : (t + 1) * N] for t in range(T)]
        advantages, trained = gigpo_advantages(
            rollout.rewards, rollout.discounts, rollout.episode_starts, rollout.episode_ends, keys, self.step_weight
        )
        batch = {
            "obs": obs,
            "actions": rollout.actions.reshape(-1),
            "logprobs": rollout.logprobs.reshape(-1),
            "advantages": advantages.reshape(-1),
            "trained": trained.reshape(-1),
        }
        return self.with_reference(batch, (T, N))

    def trained_rows(self, batch: dict, batch_size: int) -> torch.Tensor:
        """The decisions of complete episodes: the others have no return."""
        return torch.nonzero(batch["trained"]).squeeze(1)

    def minibatch_advantages(self, batch: dict, mb: torch.Tensor) -> torch.Tensor:
        return batch["advantages"][mb]  # already normalized, within their groups

    def explained_variance(self, batch: dict) -> float:
        return float("nan")  # no critic

    def batch_metrics(self, batch: dict) -> dict[str, float]:
        return {"charts/trained_decisions": float(batch["trained"].float().mean())}

    def nothing_trained(self, metrics) -> str | None:
        """Why no update trained on any decision, read from the run's metrics table (None: some update did)."""
        column = "charts/trained_decisions"
        shares = metrics[column].dropna() if column in metrics else []
        if len(shares) and (shares == 0).all():
            return (
                "no episode ended inside a rollout, and GiGPO trains only episodes that end inside one: raise "
                "rollout.num_steps above the task's episode length"
            )
        return None
