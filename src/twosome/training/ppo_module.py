"""PPO as a LightningModule (manual optimization): collect a rollout, then the value phase, then the policy phase.

The order and the batching follow TWOSOME: the critic is fitted first on the rollout's returns, then the actor
takes optimizer steps of ``policy_minibatch_size`` decisions, each accumulated over forwards of
``policy_chunk_size`` decisions, and stops early when the approximate KL of a step exceeds ``target_kl``.
"""

from __future__ import annotations

import math
import pickle
import random
import time
from collections.abc import Callable, Iterator

import gymnasium as gym
import numpy as np
import pytorch_lightning as pl
import torch

from twosome.agents.base import ActorCritic
from twosome.agents.observation import ObsBatch
from twosome.config import EvalConfig, PPOConfig
from twosome.rl.gae import compute_gae
from twosome.rl.ppo import explained_variance, policy_loss, value_loss
from twosome.training import distributed as dist
from twosome.training.rollout import RolloutCollector, evaluate


def summarize(records: list[dict], prefix: str) -> dict[str, float]:
    if not records:
        return {}
    keys = ["episodic_return", "discounted_return", "episodic_length", "success"]
    out = {f"{prefix}/{k}": float(np.mean([r[k] for r in records])) for k in keys}
    out[f"{prefix}/success_rate"] = out.pop(f"{prefix}/success")
    out[f"{prefix}/episodes"] = float(len(records))
    return out


class NonFiniteLossError(FloatingPointError):
    """A loss or gradient norm became NaN/inf: training stops before the optimizer step that would spread it."""


class UpdateSchedule:
    """The train "dataloader": PPO update indices, from the first update not yet done to the last.

    It is stateful (``state_dict``) so that Lightning resumes it mid-epoch: a resumed run continues at the update
    after its checkpoint instead of replaying the epoch from the start.
    """

    def __init__(self, total: int):
        self.total, self.done = total, 0

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.done, self.total))

    def __len__(self) -> int:  # the epoch's length; Lightning's restored progress counts the updates done
        return self.total

    def state_dict(self) -> dict:
        return {"done": self.done, "total": self.total}

    def load_state_dict(self, state: dict) -> None:
        self.done = int(state["done"])


def _rng_state() -> dict:
    """The global generators Lightning's seed_everything seeds (the environments carry their own)."""
    numpy_state = np.random.get_state()  # noqa: NPY002 (the legacy global generator is the one that is seeded)
    return {"torch": torch.get_rng_state(), "numpy": numpy_state, "python": random.getstate()}


def _set_rng_state(state: dict) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])  # noqa: NPY002
    random.setstate(state["python"])


class PPOModule(pl.LightningModule):
    def __init__(
        self,
        agent: ActorCritic,
        make_envs: Callable[[int], gym.vector.VectorEnv],
        ppo: PPOConfig,
        evaluation: EvalConfig,
        seed: int = 0,
    ):
        super().__init__()
        self.automatic_optimization = False
        self.agent, self.make_envs, self.ppo, self.eval_cfg, self.seed = agent, make_envs, ppo, evaluation, seed
        self.collector: RolloutCollector | None = None
        self.final_eval: dict[str, float] = {}
        self.schedule = UpdateSchedule(ppo.num_updates)
        self._restored: dict | None = None  # run state read from a checkpoint, applied when training starts
        self._start = time.time()
        self.elapsed_before = 0.0  # training seconds of the run before it was resumed
        self._start_steps = 0

    @property
    def num_updates(self) -> int:
        return self.schedule.total

    @property
    def updates_done(self) -> int:
        return self.schedule.done

    @property
    def env_steps(self) -> int:
        """Environment steps of all ranks."""
        return self.collector.env_steps * dist.world_size() if self.collector else 0

    # --- Lightning plumbing ------------------------------------------------------------------------------
    def configure_optimizers(self):
        p = self.ppo
        policy_opt = torch.optim.AdamW(self.agent.policy_parameters(), lr=p.policy_lr, eps=p.adam_eps, weight_decay=0.0)
        value_opt = torch.optim.Adam(self.agent.value_parameters(), lr=p.value_lr, eps=p.adam_eps)

        total = self.num_updates

        def decay(update: int) -> float:  # linear decay to 0 over the run, as cleanrl and TWOSOME
            return 1.0 - update / total if p.anneal_lr else 1.0

        scheds = [torch.optim.lr_scheduler.LambdaLR(o, decay) for o in (policy_opt, value_opt)]
        return [policy_opt, value_opt], scheds

    def setup(self, stage: str) -> None:
        # The budget is global: the number of updates depends on how many ranks share it.
        self.schedule.total = self.ppo.updates_for(dist.world_size())

    def configure_model(self) -> None:
        """FSDP (Lightning's ModelParallelStrategy): shard the agent over the data-parallel ranks."""
        mesh = getattr(self, "_device_mesh", None)
        if mesh is None or self.agent.lockstep:  # single process, or already sharded
            return
        self.agent.lockstep = True
        self.agent.shard(mesh["data_parallel"])

    def train_dataloader(self):
        return self.schedule

    def on_fit_start(self):
        rank, n = dist.rank(), self.ppo.num_envs
        if rank > 0:  # rank r's environments are environments r*n .. r*n+n-1 of one run with all of them
            torch.manual_seed(self.seed + rank)
        if self.collector is None:
            self.collector = RolloutCollector(
                self.make_envs(n), self.agent, self.ppo.num_steps, self.ppo.gamma, seed=self.seed + rank * n
            )
        self._start, self._start_steps = time.time(), self.env_steps

    def on_train_start(self):
        # Here, not in on_fit_start: with ModelParallelStrategy Lightning restores checkpoints after fit starts.
        if self._restored is not None:
            self.collector.load_state_dict(self._restored["collector"])
            self.agent.load_cache_state(self._restored["caches"])
            self.elapsed_before = self._restored["elapsed_seconds"]
            self.final_eval = self._restored["final_eval"]
            _set_rng_state(self._restored["rng"])  # last: nothing above may draw from the generators
            self._restored = None
        self._start, self._start_steps = time.time(), self.env_steps  # SPS: steps since this process started

    def on_save_checkpoint(self, checkpoint):
        # The frozen LM is never trained: keep only what is, so a 7B run checkpoints megabytes, not gigabytes.
        trainable = {n for n, prm in self.named_parameters() if prm.requires_grad}
        checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in trainable}
        here = {"collector": self.collector.state_dict(), "rng": _rng_state(), "caches": self.agent.cache_state()}
        # Pickled to bytes: Lightning loads checkpoints with torch.load(weights_only=True), which accepts bytes.
        checkpoint["ppo_run"] = pickle.dumps(
            {
                "ranks": dist.gather([here]),  # every rank's environments and generators, in rank order
                "updates_done": self.updates_done,
                "env_steps": self.env_steps,
                "elapsed_seconds": self.elapsed_before + time.time() - self._start,
                "final_eval": self.final_eval,
            }
        )

    def on_load_checkpoint(self, checkpoint):
        run = pickle.loads(checkpoint["ppo_run"])
        if len(run["ranks"]) != dist.world_size():
            raise ValueError(
                f"the checkpoint was written by {len(run['ranks'])} ranks and this run has {dist.world_size()}: "
                "resume with the same trainer.devices and trainer.num_nodes"
            )
        self._restored = {**run, **run["ranks"][dist.rank()]}
        self.schedule.done = int(run["updates_done"])

    strict_loading = False

    def _check_finite(self, value: torch.Tensor, name: str) -> None:
        if not torch.isfinite(value).all():
            raise NonFiniteLossError(
                f"{name} is {value.item() if value.numel() == 1 else value} at update {self.updates_done + 1} "
                f"(after {self.env_steps} env steps): training stopped before the optimizer step; the last good "
                "checkpoint is kept. Lower the learning rates (ppo.policy_lr, ppo.value_lr) or check the model dtype."
            )

    # --- one PPO update ----------------------------------------------------------------------------------
    def training_step(self, batch, batch_idx):
        """One PPO update; ``batch`` is its index (0-based) in the run."""
        p = self.ppo
        policy_opt, value_opt = self.optimizers()
        policy_sched, value_sched = self.lr_schedulers()
        t0 = time.time()
        rollout = self.collector.collect()
        rollout_time = time.time() - t0
        advantages, returns = compute_gae(
            rollout.rewards, rollout.values, rollout.next_values, rollout.episode_ends, rollout.discounts, p.gae_lambda
        )

        obs = ObsBatch.concat(rollout.obs)
        b_actions = rollout.actions.reshape(-1)
        b_logprobs = rollout.logprobs.reshape(-1)
        b_values = rollout.values.reshape(-1)
        b_features = rollout.features.reshape(p.batch_size, -1)
        b_adv, b_returns = advantages.reshape(-1), returns.reshape(-1)
        dev = self.device

        stats: dict[str, list[float]] = {
            k: [] for k in ("value_loss", "policy_loss", "entropy", "old_approx_kl", "approx_kl", "clipfrac")
        }
        kl_stop, policy_steps, value_time = False, 0, 0.0
        for _ in range(p.update_epochs):
            if kl_stop:
                break
            order = torch.randperm(p.batch_size)
            t_value = time.time()
            # Value phase: the critic's features come from the frozen LM, so they are reused from the rollout.
            for mb in order.split(p.value_minibatch_size):
                feats = (
                    b_features[mb].to(dev)
                    if self.agent.features_are_fixed
                    else self.agent.value_features(obs.select(mb))
                )
                new_value = self.agent.value(feats)
                v_loss = value_loss(
                    new_value, b_values[mb].to(dev), b_returns[mb].to(dev), p.clip_coef if p.clip_vloss else None
                )
                self._check_finite(v_loss, "the value loss")
                value_opt.zero_grad()
                self.manual_backward(p.vf_coef * v_loss)
                grad_norm = torch.nn.utils.clip_grad_norm_(self.agent.value_parameters(), p.max_grad_norm)
                self._check_finite(grad_norm, "the value gradient norm")
                value_opt.step()
                stats["value_loss"].append(v_loss.item())
            value_time += time.time() - t_value
            # Policy phase: optimizer steps of policy_minibatch_size decisions, accumulated over chunks.
            for mb in order.split(p.policy_minibatch_size):
                policy_opt.zero_grad()
                mb_adv = b_adv[mb]
                if p.norm_adv:
                    mb_adv = dist.normalize_advantages(mb_adv)
                step_kl = 0.0
                for chunk in torch.arange(len(mb)).split(p.policy_chunk_size):
                    idx = mb[chunk]
                    pi = self.agent.distribution(obs.select(idx))
                    new_logprob = pi.log_prob(b_actions[idx].to(dev))
                    pg_loss, s = policy_loss(new_logprob, b_logprobs[idx].to(dev), mb_adv[chunk].to(dev), p.clip_coef)
                    entropy = pi.entropy().mean()
                    self._check_finite(pg_loss, "the policy loss")
                    weight = len(chunk) / len(mb)
                    self.manual_backward((pg_loss - p.ent_coef * entropy) * weight)
                    step_kl += s["approx_kl"].item() * weight
                    stats["policy_loss"].append(pg_loss.item())
                    stats["entropy"].append(entropy.item())
                    for k in ("old_approx_kl", "approx_kl", "clipfrac"):
                        stats[k].append(s[k].item())
                step_kl = dist.all_mean({"kl": step_kl})["kl"]  # all ranks stop together, on the global batch's KL
                if p.target_kl is not None and step_kl > p.target_kl:
                    policy_opt.zero_grad()  # this step would move the policy too far: drop it and stop
                    kl_stop = True
                    break
                grad_norm = torch.nn.utils.clip_grad_norm_(self.agent.policy_parameters(), p.max_grad_norm)
                self._check_finite(grad_norm, "the policy gradient norm")
                policy_opt.step()
                policy_steps += 1

        metrics = {
            "charts/policy_learning_rate": policy_opt.param_groups[0]["lr"],
            "charts/value_learning_rate": value_opt.param_groups[0]["lr"],
            "losses/explained_variance": explained_variance(b_values, b_returns),
            "losses/policy_update_steps": float(policy_steps),
            "losses/kl_early_stop": float(kl_stop),
        }
        metrics.update({f"losses/{k}": float(np.mean(v)) for k, v in stats.items() if v})
        policy_sched.step()
        value_sched.step()
        metrics["charts/rollout_seconds"] = rollout_time
        metrics["charts/update_seconds"] = time.time() - t0 - rollout_time
        metrics["charts/value_seconds"] = value_time
        metrics["charts/policy_seconds"] = metrics["charts/update_seconds"] - value_time
        if dev.type == "cuda":
            metrics["charts/gpu_peak_memory_gb"] = torch.cuda.max_memory_allocated(dev) / 2**30
        metrics = dist.all_mean(metrics)  # every rank has the same keys: means over the global batch

        env_steps = self.env_steps
        metrics["charts/SPS"] = (env_steps - self._start_steps) / max(time.time() - self._start, 1e-9)
        metrics.update(summarize(dist.gather(self.collector.tracker.pop()), "charts"))
        update = int(batch) + 1
        every = self.eval_cfg.every_updates
        if update == self.num_updates or (every > 0 and update % every == 0):
            metrics.update(self.run_evaluation())
        self.schedule.done = update
        self._log(metrics, env_steps, update)

    def run_evaluation(self) -> dict[str, float]:
        """Greedy (or sampled) episodes on fresh environments; with several ranks each runs its share."""
        world, rank, n = dist.world_size(), dist.rank(), self.eval_cfg.num_envs
        envs = self.make_envs(n)
        try:
            records = evaluate(
                self.agent,
                envs,
                math.ceil(self.eval_cfg.episodes / world),
                self.ppo.gamma,
                self.seed + self.eval_cfg.seed_offset + rank * n,
                self.eval_cfg.deterministic,
            )
        finally:
            envs.close()
        self.final_eval = summarize(dist.gather(records)[: self.eval_cfg.episodes], "eval")
        return self.final_eval

    def _log(self, metrics: dict[str, float], env_steps: int, update: int):
        metrics = {"global_step": float(env_steps), "update": float(update), **metrics}
        metrics = {k: v for k, v in metrics.items() if not (isinstance(v, float) and math.isnan(v))}
        for logger in self.loggers:
            logger.log_metrics(metrics, step=env_steps)
        bar = {
            "ret": metrics.get("charts/episodic_return"),
            "succ": metrics.get("charts/success_rate"),
            "eval_ret": metrics.get("eval/episodic_return"),
        }
        for k, v in bar.items():
            if v is not None:
                self.log(k, v, prog_bar=True, logger=False, on_step=True)
