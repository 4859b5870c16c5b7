"""PPO (Schulman et al., 2017) as TWOSOME trains it: the critic is fitted first on the rollout's returns (value
phase), then the actor takes optimizer steps of ``policy_minibatch_size`` decisions, each accumulated over forwards
of ``policy_chunk_size`` decisions (rl/chunking.py), and stops early when the approximate KL of a step exceeds
``target_kl``. Quantities are named as in cleanrl's ppo.py.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from twosome.agents.base import ActorCritic
from twosome.agents.capabilities import Referenced
from twosome.parallel import collectives
from twosome.rl.algorithm import UpdateContext, check_finite
from twosome.rl.chunking import Chunking
from twosome.rl.exploration import Exploration, entropy_fraction
from twosome.rl.gae import rollout_gae
from twosome.rl.losses import explained_variance, policy_loss, reference_kl, value_loss
from twosome.rl.rollout import Rollout
from twosome.rl.settings import ExplorationConfig, PPOConfig, PPOSettings, spec_of


class PPO:
    """Its needs (GAE reads the critic's V(s) at every decision) are declared where it is registered: rl/settings.py."""

    restarts = False  # rollouts continue the episodes of the last one
    group_size = None

    def __init__(
        self,
        agent: ActorCritic,
        ppo: PPOConfig,
        settings: PPOSettings | None = None,
        explore: ExplorationConfig | None = None,
    ):
        self.agent, self.config = agent, ppo
        self.chunking = Chunking(ppo.policy_chunk_size, ppo.policy_minibatch_size)
        self.exploration = Exploration(explore, ppo.ent_coef)  # rl/exploration.py: all off by default
        self.reference_kl_coef = self.exploration.prior_kl_coef  # beta of KL(pi || pi_untrained); 0: none
        if self.reference_kl_coef and not isinstance(agent, Referenced):
            raise ValueError(
                f"a KL term to the untrained policy (coefficient {self.reference_kl_coef}) needs an agent with a "
                f"reference policy; {type(agent).__name__} has none"
            )

    def configure_optimizers(self, total_updates: int) -> tuple[list, list]:
        """AdamW for the policy (TWOSOME's, no weight decay), Adam for the critic; linear decay to 0 over the run."""
        p = self.config
        policy_opt = torch.optim.AdamW(self.agent.policy_parameters(), lr=p.policy_lr, eps=p.adam_eps, weight_decay=0.0)
        value_opt = torch.optim.Adam(self.agent.value_parameters(), lr=p.value_lr, eps=p.adam_eps)

        def decay(update: int) -> float:
            return 1.0 - update / total_updates if p.anneal_lr else 1.0

        optimizers = [policy_opt, value_opt]
        return optimizers, [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in optimizers]

    def update(self, rollout: Rollout, ctx: UpdateContext) -> dict[str, float]:
        """The update every PPO-family algorithm runs; a subclass changes what its steps compute (``prepare``,
        ``value_loss``, ``minibatch_advantages``, ``policy_chunk``, ``explained_variance``, ``batch_metrics``),
        not the loop (rl/poad.py)."""
        p = self.config
        batch = self.prepare(rollout)
        stats = self.new_stats()
        kl_stop, policy_steps, value_seconds = False, 0, 0.0
        rows = self.trained_rows(batch, rollout.batch_size)
        for _ in range(p.update_epochs):
            if kl_stop:
                break
            order = rows[torch.randperm(len(rows))]
            if not len(order):  # nothing to train on in this rollout (GiGPO: no complete episode)
                break

            # Value phase: fit the critic to the returns (an algorithm without a critic has none).
            t_value = time.time()
            if spec_of(type(self)).needs_values:
                for mb in order.split(p.value_minibatch_size):
                    self.value_step(self.value_loss(batch, mb, ctx), ctx, stats)
            value_seconds += time.time() - t_value

            # Policy phase: optimizer steps of policy_minibatch_size decisions, accumulated over chunks.
            for mb in order.split(p.policy_minibatch_size):
                advantages = self.minibatch_advantages(batch, mb)

                def chunk_step(chunk, mb=mb, advantages=advantages) -> float:
                    return self.policy_chunk(batch, mb, chunk, advantages, ctx, stats)

                kl_stop = self.policy_step(self.accumulate(len(mb), chunk_step, ctx, stats), ctx)
                if kl_stop:
                    break
                policy_steps += 1

        if stats.get("entropy_fraction"):
            self.exploration.adapt(float(np.nanmean(stats["entropy_fraction"])))
        metrics = self.finish(ctx, stats, self.explained_variance(batch), value_seconds, policy_steps, kl_stop)
        return {**metrics, **self.batch_metrics(batch), **self.exploration.metrics()}

    # --- PPO's steps (a PPO-family algorithm overrides these) ----------------------------------------------
    def prepare(self, rollout: Rollout) -> dict:
        """What the update reads, computed once at the rollout's weights: GAE advantages and returns per decision."""
        advantages, returns = rollout_gae(rollout, self.config.gae_lambda)
        batch = {
            "obs": rollout.flat_obs(),
            "actions": rollout.actions.reshape(-1),
            "logprobs": rollout.logprobs.reshape(-1),
            "values": rollout.values.reshape(-1),
            "advantages": advantages.reshape(-1),
            "returns": returns.reshape(-1),
        }
        return self.with_reference(batch, rollout.actions.shape)

    def with_reference(self, batch: dict, shape: tuple[int, int]) -> dict:
        """With a KL term, the untrained policy's logits at every decision, computed once per update in the
        rollout's batches of N (its memory, its batching)."""
        if self.reference_kl_coef:
            T, N = shape
            obs = batch["obs"]
            steps = [self.agent.reference_distribution(obs.select(range(t * N, (t + 1) * N))) for t in range(T)]
            batch["ref_logits"] = torch.cat([pi.logits.float().cpu() for pi in steps])
        return batch

    def trained_rows(self, batch: dict, batch_size: int) -> torch.Tensor:
        """The decisions the update trains on (PPO: all of them)."""
        return torch.arange(batch_size)

    def value_loss(self, batch: dict, mb: torch.Tensor, ctx: UpdateContext) -> torch.Tensor:
        """The critic's loss on minibatch ``mb`` (decision indices)."""
        p, dev = self.config, ctx.device
        new_value = self.agent.value(batch["obs"].select(mb))
        clip = p.clip_coef if p.clip_vloss else None
        return value_loss(new_value, batch["values"][mb].to(dev), batch["returns"][mb].to(dev), clip)

    def minibatch_advantages(self, batch: dict, mb: torch.Tensor) -> torch.Tensor:
        advantages = batch["advantages"][mb]
        return collectives.normalize_advantages(advantages) if self.config.norm_adv else advantages

    def policy_chunk(self, batch: dict, mb, chunk, advantages, ctx: UpdateContext, stats: dict) -> float:
        """Accumulate the gradient of the decisions ``mb[chunk]`` (``advantages``: the minibatch's); return their
        weighted KL."""
        dev, idx = ctx.device, mb[chunk]
        obs = batch["obs"].select(idx)
        pi = self.agent.distribution(obs)
        acting = self.exploration.behaviour(pi, obs.action_mask)  # pi itself unless mixed with the uniform policy
        new_logprob = acting.log_prob(batch["actions"][idx].to(dev))
        pg_loss, s = policy_loss(
            new_logprob, batch["logprobs"][idx].to(dev), advantages[chunk].to(dev), self.config.clip_coef
        )
        if self.exploration.config.entropy_floor is not None:
            stats["entropy_fraction"].append(float(entropy_fraction(pi, obs.action_mask).detach().nanmean()))
        penalty = self.policy_penalty(pi, obs, batch, idx, ctx, stats)
        return self.policy_backward(pg_loss, pi.entropy().mean(), s, len(chunk) / len(mb), ctx, stats, penalty)

    def policy_penalty(self, pi, obs, batch: dict, idx, ctx: UpdateContext, stats: dict):
        """``beta * KL(pi || pi_ref)`` when the run has a KL term to the untrained policy; else None."""
        if not self.reference_kl_coef:
            return None
        kl = reference_kl(pi.logits, batch["ref_logits"][idx].to(ctx.device), obs.action_mask).mean()
        stats["reference_kl"].append(kl.item())
        return self.reference_kl_coef * kl

    def explained_variance(self, batch: dict) -> float:
        return explained_variance(batch["values"], batch["returns"])

    def batch_metrics(self, batch: dict) -> dict[str, float]:
        """Metrics of the update's batch beyond the losses (none for PPO)."""
        return {}

    def new_stats(self) -> dict[str, list[float]]:
        """The per-step statistics the update averages into ``losses/<name>`` (a subclass adds its own)."""
        names = ("value_loss", "policy_loss", "entropy", "old_approx_kl", "approx_kl", "clipfrac")
        return {k: [] for k in (*names, "reference_kl", "entropy_fraction")}  # the last two: when their term is on

    # --- the steps every PPO-family update takes (rl/poad.py reuses them) ----------------------------------
    def value_step(self, v_loss: torch.Tensor, ctx: UpdateContext, stats: dict) -> None:
        """One value optimizer step on ``vf_coef * v_loss``, gradients clipped to ``max_grad_norm``."""
        value_opt = ctx.optimizers[1]
        check_finite(v_loss, "the value loss")
        value_opt.zero_grad()
        ctx.backward(self.config.vf_coef * v_loss)
        grad_norm = torch.nn.utils.clip_grad_norm_(self.agent.value_parameters(), self.config.max_grad_norm)
        check_finite(grad_norm, "the value gradient norm")
        value_opt.step()
        stats["value_loss"].append(v_loss.item())

    def accumulate(self, n: int, chunk_step, ctx: UpdateContext, stats: dict) -> float:
        """Accumulate a minibatch's policy gradient over its chunks (``chunk_step(positions)`` returns a chunk's
        weighted KL); return the minibatch's KL. A restart after an out-of-memory error drops the partial gradient
        and the partial statistics."""
        marks = {k: len(v) for k, v in stats.items()}

        def restart() -> None:
            ctx.optimizers[0].zero_grad()
            for k, mark in marks.items():
                del stats[k][mark:]

        ctx.optimizers[0].zero_grad()
        return sum(self.chunking.run(n, chunk_step, restart))

    def policy_backward(
        self, pg_loss, entropy, s: dict, weight: float, ctx: UpdateContext, stats: dict, penalty=None
    ) -> float:
        """Accumulate one chunk's gradient (``weight``: its share of the minibatch); return its weighted KL.
        ``penalty``: a further term of the loss (a KL to a reference policy), logged by whoever adds it."""
        check_finite(pg_loss, "the policy loss")
        loss = pg_loss - self.exploration.ent_coef * entropy  # ppo.ent_coef, or as an entropy floor adapts it
        if penalty is not None:
            check_finite(penalty, "the policy loss's penalty")
            loss = loss + penalty
        ctx.backward(loss * weight)
        stats["policy_loss"].append(pg_loss.item())
        stats["entropy"].append(entropy.item())
        for k in ("old_approx_kl", "approx_kl", "clipfrac"):
            stats[k].append(s[k].item())
        return s["approx_kl"].item() * weight

    def policy_step(self, step_kl: float, ctx: UpdateContext) -> bool:
        """Step the policy unless the minibatch's KL (averaged over ranks: all stop together) exceeds target_kl;
        return True when the update stops here (the step is dropped)."""
        policy_opt = ctx.optimizers[0]
        step_kl = collectives.all_mean({"kl": step_kl})["kl"]
        if self.config.target_kl is not None and step_kl > self.config.target_kl:
            policy_opt.zero_grad()  # this step would move the policy too far: drop it and stop
            return True
        grad_norm = torch.nn.utils.clip_grad_norm_(self.agent.policy_parameters(), self.config.max_grad_norm)
        check_finite(grad_norm, "the policy gradient norm")
        policy_opt.step()
        return False

    def finish(self, ctx, stats, explained: float, value_seconds: float, policy_steps: int, kl_stop: bool) -> dict:
        """The update's metrics; the learning rates decay one step. The optimizers are the policy's, then the
        critic's (an algorithm without a critic has only the first)."""
        names = ("charts/policy_learning_rate", "charts/value_learning_rate")
        metrics = {name: opt.param_groups[0]["lr"] for name, opt in zip(names, ctx.optimizers)}
        metrics |= {
            "charts/value_seconds": value_seconds,
            "charts/policy_chunk_size": float(self.chunking.size),
            "losses/explained_variance": explained,
            "losses/policy_update_steps": float(policy_steps),
            "losses/kl_early_stop": float(kl_stop),
        }
        metrics.update({f"losses/{k}": float(np.mean(v)) for k, v in stats.items() if v})
        for scheduler in ctx.schedulers:
            scheduler.step()
        return metrics
