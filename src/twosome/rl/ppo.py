"""PPO (Schulman et al., 2017) as TWOSOME trains it: the critic is fitted first on the rollout's returns (value
phase), then the actor takes optimizer steps of ``policy_minibatch_size`` decisions, each accumulated over forwards
of ``policy_chunk_size`` decisions, and stops early when the approximate KL of a step exceeds ``target_kl``.
Quantities are named as in cleanrl's ppo.py.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from twosome.agents.base import ActorCritic
from twosome.config import PPOConfig
from twosome.parallel import collectives
from twosome.rl.algorithm import UpdateContext, check_finite
from twosome.rl.gae import compute_gae
from twosome.rl.losses import explained_variance, policy_loss, value_loss
from twosome.rl.rollout import Rollout


class PPO:
    def __init__(self, agent: ActorCritic, ppo: PPOConfig):
        self.agent, self.config = agent, ppo

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
        p, agent, dev = self.config, self.agent, ctx.device
        policy_opt, value_opt = ctx.optimizers
        advantages, returns = compute_gae(
            rollout.rewards, rollout.values, rollout.next_values, rollout.episode_ends, rollout.discounts, p.gae_lambda
        )
        obs = rollout.flat_obs()
        b_actions, b_logprobs = rollout.actions.reshape(-1), rollout.logprobs.reshape(-1)
        b_values, b_advantages, b_returns = rollout.values.reshape(-1), advantages.reshape(-1), returns.reshape(-1)

        stats: dict[str, list[float]] = {
            k: [] for k in ("value_loss", "policy_loss", "entropy", "old_approx_kl", "approx_kl", "clipfrac")
        }
        kl_stop, policy_steps, value_seconds = False, 0, 0.0
        for _ in range(p.update_epochs):
            if kl_stop:
                break
            order = torch.randperm(rollout.batch_size)

            # Value phase: fit V(s) to the returns.
            t_value = time.time()
            for mb in order.split(p.value_minibatch_size):
                new_value = agent.value(obs.select(mb))
                v_loss = value_loss(
                    new_value, b_values[mb].to(dev), b_returns[mb].to(dev), p.clip_coef if p.clip_vloss else None
                )
                check_finite(v_loss, "the value loss")
                value_opt.zero_grad()
                ctx.backward(p.vf_coef * v_loss)
                check_finite(
                    torch.nn.utils.clip_grad_norm_(agent.value_parameters(), p.max_grad_norm),
                    "the value gradient norm",
                )
                value_opt.step()
                stats["value_loss"].append(v_loss.item())
            value_seconds += time.time() - t_value

            # Policy phase: optimizer steps of policy_minibatch_size decisions, accumulated over chunks.
            for mb in order.split(p.policy_minibatch_size):
                policy_opt.zero_grad()
                mb_advantages = collectives.normalize_advantages(b_advantages[mb]) if p.norm_adv else b_advantages[mb]
                step_kl = 0.0
                for chunk in torch.arange(len(mb)).split(p.policy_chunk_size):
                    idx = mb[chunk]
                    pi = agent.distribution(obs.select(idx))
                    new_logprob = pi.log_prob(b_actions[idx].to(dev))
                    pg_loss, s = policy_loss(
                        new_logprob, b_logprobs[idx].to(dev), mb_advantages[chunk].to(dev), p.clip_coef
                    )
                    entropy = pi.entropy().mean()
                    check_finite(pg_loss, "the policy loss")
                    weight = len(chunk) / len(mb)
                    ctx.backward((pg_loss - p.ent_coef * entropy) * weight)
                    step_kl += s["approx_kl"].item() * weight
                    stats["policy_loss"].append(pg_loss.item())
                    stats["entropy"].append(entropy.item())
                    for k in ("old_approx_kl", "approx_kl", "clipfrac"):
                        stats[k].append(s[k].item())
                step_kl = collectives.all_mean({"kl": step_kl})["kl"]  # all ranks stop together, on the global KL
                if p.target_kl is not None and step_kl > p.target_kl:
                    policy_opt.zero_grad()  # this step would move the policy too far: drop it and stop
                    kl_stop = True
                    break
                check_finite(
                    torch.nn.utils.clip_grad_norm_(agent.policy_parameters(), p.max_grad_norm),
                    "the policy gradient norm",
                )
                policy_opt.step()
                policy_steps += 1

        metrics = {
            "charts/policy_learning_rate": policy_opt.param_groups[0]["lr"],
            "charts/value_learning_rate": value_opt.param_groups[0]["lr"],
            "charts/value_seconds": value_seconds,
            "losses/explained_variance": explained_variance(b_values, b_returns),
            "losses/policy_update_steps": float(policy_steps),
            "losses/kl_early_stop": float(kl_stop),
        }
        metrics.update({f"losses/{k}": float(np.mean(v)) for k, v in stats.items() if v})
        for scheduler in ctx.schedulers:
            scheduler.step()
        return metrics
