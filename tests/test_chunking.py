"""ppo.policy_chunk_size: any chunk size gives the minibatch's gradient, and ``auto`` halves the
chunk on an out-of-memory error and restarts the minibatch, ending where a run with that chunk from the start ends."""

from __future__ import annotations

import copy

import pytest
import torch
from helpers import compose_cfg

from twosome.agents.mlp_agent import MLPAgent
from twosome.agents.observation import ObsBatch
from twosome.config import ConfigError, PPOConfig
from twosome.rl.algorithm import UpdateContext
from twosome.rl.ppo import PPO
from twosome.rl.rollout import Rollout

T, N, OBS, ACTIONS = 4, 8, 5, 3


def rollout(agent: MLPAgent) -> Rollout:
    g = torch.Generator().manual_seed(0)
    masks = [torch.rand(N, ACTIONS, generator=g) > 0.2 for _ in range(T)]
    obs = [ObsBatch([""] * N, [["a", "b", "c"]] * N, m, torch.randn(N, OBS, generator=g)) for m in masks]
    for o in obs:
        o.action_mask[:, 0] = True
    with torch.no_grad():
        pis = [agent.distribution(o) for o in obs]
        actions = torch.stack([pi.sample() for pi in pis])
        logprobs = torch.stack([pi.log_prob(a) for pi, a in zip(pis, actions)])
        values = torch.stack([agent.value(o) for o in obs])
    return Rollout(
        obs, actions, logprobs, values, torch.randn(T, N, generator=g), torch.full((T, N), 0.99),
        (torch.rand(T, N, generator=g) < 0.2).float(), torch.randn(T, N, generator=g),
    )  # fmt: skip


def update(agent: MLPAgent, batch: Rollout, chunk, fail_above: int | None = None) -> tuple[PPO, dict]:
    agent = copy.deepcopy(agent)
    ppo = PPO(agent, PPOConfig(policy_minibatch_size=16, policy_chunk_size=chunk,
                               value_minibatch_size=16, update_epochs=2, target_kl=None, policy_lr=1e-2))  # fmt: skip
    if fail_above is not None:  # a device that holds at most this many decisions' activations
        distribution = agent.distribution

        def limited(obs):
            if len(obs) > fail_above:
                raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
            return distribution(obs)

        agent.distribution = limited
    optimizers, schedulers = ppo.configure_optimizers(total_updates=4)
    torch.manual_seed(1)  # the minibatch order
    metrics = ppo.update(
        batch, UpdateContext(optimizers, schedulers, lambda loss: loss.backward(), torch.device("cpu"))
    )
    return ppo, metrics


def params(ppo: PPO) -> torch.Tensor:
    return torch.cat([p.detach().flatten() for p in ppo.agent.parameters()])


def test_every_chunk_size_gives_the_same_update():
    torch.manual_seed(0)
    agent = MLPAgent(OBS, ACTIONS, hidden=(16,))
    batch = rollout(agent)
    reference, metrics = update(agent, batch, 16)
    assert metrics["charts/policy_chunk_size"] == 16
    initial = torch.cat([p.detach().flatten() for p in agent.parameters()])
    assert (params(reference) - initial).abs().max() > 1e-4  # the update moved the weights
    for chunk in (1, 4, 5, "auto"):
        ppo, _ = update(agent, batch, chunk)
        torch.testing.assert_close(params(ppo), params(reference), rtol=1e-5, atol=1e-6)
    assert update(agent, batch, "auto")[0].chunking.size == 16  # no error on a CPU: the whole minibatch


def test_auto_halves_the_chunk_on_out_of_memory_and_ends_where_that_chunk_would():
    torch.manual_seed(0)
    agent = MLPAgent(OBS, ACTIONS, hidden=(16,))
    batch = rollout(agent)
    auto, metrics = update(agent, batch, "auto", fail_above=5)
    fixed, expected = update(agent, batch, 4, fail_above=5)
    assert auto.chunking.size == 4 and metrics["charts/policy_chunk_size"] == 4
    assert torch.equal(params(auto), params(fixed))
    assert {k: v for k, v in metrics.items() if k.startswith("losses/")} == {
        k: v for k, v in expected.items() if k.startswith("losses/")
    }
    with pytest.raises(torch.OutOfMemoryError):
        update(agent, batch, 8, fail_above=5)  # a fixed chunk is the user's: its error is not hidden
    with pytest.raises(torch.OutOfMemoryError):
        update(agent, batch, "auto", fail_above=0)  # nothing fits, not even one decision


def test_a_minibatch_restarted_midway_keeps_nothing_of_its_failed_attempt():
    """An out-of-memory error after a chunk's backward (a longer chunk later in the minibatch): the gradient and the
    statistics are those of a clean pass, and statistics of earlier minibatches stay."""
    torch.manual_seed(0)
    agent = MLPAgent(OBS, ACTIONS, hidden=(16,))
    ppo = PPO(agent, PPOConfig(policy_minibatch_size=16, policy_chunk_size="auto"))
    optimizers, schedulers = ppo.configure_optimizers(total_updates=1)
    ctx = UpdateContext(optimizers, schedulers, lambda loss: loss.backward(), torch.device("cpu"))
    x = torch.randn(16, OBS)
    calls: list[int] = []

    def chunk_step(chunk, fail_on_call: int | None = 2) -> float:
        calls.append(len(chunk))
        loss = agent.actor(x[chunk]).pow(2).mean() * len(chunk) / 16
        ctx.backward(loss)
        stats["policy_loss"].append(loss.item())
        if len(calls) == fail_on_call:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return 0.0

    stats = {"policy_loss": [123.0]}  # an earlier minibatch's
    ppo.chunking.size = 8
    ppo.accumulate(16, chunk_step, ctx, stats)
    assert calls == [8, 8, 4, 4, 4, 4] and ppo.chunking.size == 4
    grads = [p.grad.clone() for p in ppo.agent.policy_parameters()]
    assert len(stats["policy_loss"]) == 1 + 4 and stats["policy_loss"][0] == 123.0

    calls.clear()
    clean = {"policy_loss": []}
    stats = clean
    ppo.accumulate(16, lambda chunk: chunk_step(chunk, fail_on_call=None), ctx, stats)
    for g, p in zip(grads, ppo.agent.policy_parameters()):
        torch.testing.assert_close(g, p.grad)


@pytest.mark.parametrize("value", [0, 17, "big", True, 2.5])
def test_a_chunk_size_that_is_neither_a_size_nor_auto_is_refused(value):
    with pytest.raises(ConfigError, match="from 1 to policy_minibatch_size \\(16\\), or auto"):
        PPOConfig(policy_minibatch_size=16, policy_chunk_size=value)


def test_auto_is_refused_with_fsdp():

    from twosome.config import validate

    cfg = compose_cfg("trainer=fsdp_cpu", "ppo.policy_chunk_size=auto")
    with pytest.raises(ConfigError, match="policy_chunk_size='auto' is not valid with trainer.strategy=fsdp"):
        validate(cfg)
    validate(compose_cfg("ppo.policy_chunk_size=auto"))


def test_the_update_context_always_holds_lists():
    """Lightning gives a one-optimizer algorithm a bare optimizer and no schedulers as None; an algorithm
    always receives lists."""
    from twosome.rl.algorithm import UpdateContext

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    ctx = UpdateContext(opt, None, lambda loss: loss.backward(), torch.device("cpu"))
    assert ctx.optimizers == [opt] and ctx.schedulers == []
    assert UpdateContext((opt, opt), [1], None, None).optimizers == [opt, opt]
