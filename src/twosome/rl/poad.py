"""POAD (Wen et al. 2024, "Reinforcing LLM Agents via Policy Optimization with Action Decomposition"): PPO at the
level of an action's tokens, with advantages from the BAD backup (``rl/bad.py``).

Each chosen action is decomposed into its tokens. The policy of a token is the LM's next-token distribution
restricted to the candidate list (``scoring/trie.py``; the agent runs with ``norm=trie``, so the rollout samples
exactly the policy trained here). A token critic gives V(s, first k tokens) from the LM's hidden state at the
position that predicts token k (the agent's critic head on the adapted LM, as GLAM's). The update:

1. At the rollout's weights, compute every chosen action's token log-probabilities and the critic's features.
2. BAD: token-level GAE (no reward and ``token_gamma`` inside an action; the environment's reward and discount at
   its last token).
3. Value phase on the token values (the features of step 1, detached), then the clipped token-level surrogate,
   averaged over tokens, with the same minibatches, accumulation, KL stop and gradient clipping as ``rl/ppo.py``.

An agent that writes its actions (``agent=generate_rl``, ``capabilities.Writes``) is trained the same way: its
rollout keeps the written tokens (``Rollout.choices``), and their policy is the LM's full next-token distribution,
which is what the rollout sampled.

The entropy bonus uses the sampled estimate -log pi(token) averaged over the chosen tokens (the restricted
distribution's full entropy would need every candidate's tokens). docs/ALGORITHMS.md says what is the paper's and
what is ours.
"""

from __future__ import annotations

import torch

from twosome.agents.base import ActorCritic
from twosome.agents.capabilities import TokenLevel
from twosome.parallel import collectives
from twosome.rl.algorithm import UpdateContext
from twosome.rl.bad import compute_token_gae
from twosome.rl.gae import rollout_gae
from twosome.rl.losses import explained_variance, policy_loss, value_loss
from twosome.rl.ppo import PPO
from twosome.rl.rollout import Rollout
from twosome.rl.settings import ExplorationConfig, POADSettings, PPOConfig


class POAD(PPO):
    """Token-level PPO; its settings (``token_gamma``, ``credit``) and their meaning: rl.settings.POADSettings.
    ``credit=action`` exists because a writer whose penalty arrives with its last token otherwise learns to put that
    token off (docs/ALGORITHMS.md)."""

    def __init__(
        self,
        agent: ActorCritic,
        ppo: PPOConfig,
        settings: POADSettings | None = None,
        explore: ExplorationConfig | None = None,
    ):
        if explore is not None and explore.active:
            raise ValueError(
                "the explore settings act on a policy over whole actions; POAD trains the tokens of the chosen "
                "action: leave explore.* at their defaults with algo=poad"
            )
        super().__init__(agent, ppo)
        settings = settings if settings is not None else POADSettings()
        if not isinstance(agent, TokenLevel) or getattr(agent, "norm", "trie") != "trie":
            raise ValueError(
                f"algo=poad needs an agent that scores actions token by token with the trie policy; got "
                f"{type(agent).__name__} with norm={getattr(agent, 'norm', None)!r}: use agent=twosome norm=trie "
                "(conf/algo/poad.yaml selects it)"
            )
        self.credit, self.token_gamma = settings.credit, settings.token_gamma

    @torch.no_grad()
    def _old_outputs(self, obs, actions, chunk: int):
        parts = [self.agent.token_outputs(obs.select(idx), actions[idx]) for idx in torch.arange(len(obs)).split(chunk)]
        width = max(p.mask.shape[1] for p in parts)

        def pad(x, value=0):
            return torch.nn.functional.pad(x, (0, 0) * (x.dim() - 2) + (0, width - x.shape[1]), value=value)

        logprobs = torch.cat([pad(p.logprobs) for p in parts]).cpu()
        mask = torch.cat([pad(p.mask, False) for p in parts]).cpu()
        features = torch.cat([pad(p.features) for p in parts])
        return logprobs, mask, features

    # --- PPO's update (rl/ppo.py), with these steps at the level of tokens ---------------------------------
    def prepare(self, rollout: Rollout) -> dict:
        """At the rollout's weights: every chosen action's token log-probabilities and critic features, the token
        values, and the advantages and returns (BAD, or the action's GAE on each token), all (T*N, K)."""
        p, agent = self.config, self.agent
        T, N = rollout.actions.shape
        obs, choices = rollout.flat_obs(), rollout.choices()  # indices, or the tokens an agent wrote
        old_logprobs, mask, features = self._old_outputs(obs, choices, self.chunking.size)
        K = mask.shape[1]
        old_values = agent.token_values(features).detach().cpu() * mask
        if self.credit == "action":  # the action's advantage on each token; each prefix regresses to its return
            advantages, returns = rollout_gae(rollout, p.gae_lambda)
            advantages, returns = advantages.reshape(T * N, 1) * mask, returns.reshape(T * N, 1) * mask
        else:
            advantages, returns = compute_token_gae(
                rollout.rewards,
                old_values.reshape(T, N, K),
                mask.reshape(T, N, K),
                rollout.next_values,
                rollout.episode_ends,
                rollout.discounts,
                p.gae_lambda,
                self.token_gamma,
            )
            advantages, returns = advantages.reshape(T * N, K), returns.reshape(T * N, K)
        return {
            "obs": obs,
            "choices": choices,
            "logprobs": old_logprobs,
            "mask": mask,
            "features": features,
            "values": old_values,
            "advantages": advantages,
            "returns": returns,
        }

    def value_loss(self, batch: dict, mb: torch.Tensor, ctx: UpdateContext) -> torch.Tensor:
        """V(s, first k tokens) fitted to the token-level returns, from the features of ``prepare`` (detached)."""
        p, dev, features = self.config, ctx.device, batch["features"]
        valid = batch["mask"][mb].to(dev)
        new_values = self.agent.token_values(features[mb.to(features.device)].to(dev))[valid]
        clip = p.clip_coef if p.clip_vloss else None
        old, returns = batch["values"][mb].to(dev)[valid], batch["returns"][mb].to(dev)[valid]
        return value_loss(new_values, old, returns, clip)

    def minibatch_advantages(self, batch: dict, mb: torch.Tensor) -> torch.Tensor:
        """Normalized over the minibatch's real tokens."""
        advantages, valid = batch["advantages"][mb].clone(), batch["mask"][mb]
        if self.config.norm_adv:
            advantages[valid] = collectives.normalize_advantages(advantages[valid])
        return advantages

    def policy_chunk(self, batch: dict, mb, chunk, advantages, ctx: UpdateContext, stats: dict) -> float:
        """The clipped surrogate on every chosen token of ``mb[chunk]``, weighted by its share of the minibatch's
        tokens; the entropy bonus is the sampled estimate."""
        dev, idx = ctx.device, mb[chunk]
        out = self.agent.token_outputs(batch["obs"].select(idx), batch["choices"][idx])
        width = out.mask.shape[1]
        valid = batch["mask"][idx][:, :width].to(dev)
        new_logprob = out.logprobs[valid]
        pg_loss, s = policy_loss(
            new_logprob,
            batch["logprobs"][idx][:, :width].to(dev)[valid],
            advantages[chunk][:, :width].to(dev)[valid],
            self.config.clip_coef,
        )
        weight = int(valid.sum()) / int(batch["mask"][mb].sum())
        return self.policy_backward(pg_loss, -new_logprob.mean(), s, weight, ctx, stats)

    def explained_variance(self, batch: dict) -> float:
        mask = batch["mask"]
        return explained_variance(batch["values"][mask], batch["returns"][mask])

    def batch_metrics(self, batch: dict) -> dict[str, float]:
        return {"charts/tokens_per_action": float(batch["mask"].sum(1).float().mean())}
