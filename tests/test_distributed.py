"""Data-parallel PPO: the cross-rank reductions equal one process's computation on all the data, the FSDP sharding
plan, and a real two-rank FSDP training run on CPU (gloo) through the command line."""

from __future__ import annotations

import json
import os
import signal

import pandas as pd
import pytest
import torch
from helpers import run_cli, small_run, start, wait_for_checkpoint
from safetensors.torch import load_file

from twosome.parallel import collectives as dist
from twosome.rl.losses import normalize_advantages
from twosome.training.run_state import read_run_state

ADVANTAGES = torch.tensor([0.5, -1.0, 2.0, 0.0, 3.5, -0.25, 1.0])


def _reductions(rank: int, world: int) -> dict:
    mine = ADVANTAGES[[0, 1, 2] if rank == 0 else [3, 4, 5, 6]]  # unequal slices, as after a KL stop
    return {
        "normalized": dist.normalize_advantages(mine),
        "mean": dist.all_mean({"loss": float(rank + 1), "kl": 0.5 * rank}),
        "all_true": (dist.all_true(True), dist.all_true(rank == 0)),
        "records": dist.gather([{"rank": rank}]),
    }


def test_reductions_across_two_ranks_equal_one_process_on_all_data():
    r0, r1 = dist.spawn_gloo(_reductions, 2)
    expected = normalize_advantages(ADVANTAGES)
    torch.testing.assert_close(torch.cat([r0["normalized"], r1["normalized"]]), expected, rtol=1e-5, atol=1e-6)
    assert r0["mean"] == r1["mean"] == {"kl": 0.25, "loss": 1.5}
    assert r0["all_true"] == r1["all_true"] == (True, False)
    assert r0["records"] == r1["records"] == [{"rank": 0}, {"rank": 1}]


def test_single_process_reductions_are_the_identity():
    adv = torch.tensor([1.0, 2.0, 4.0])
    assert torch.equal(dist.normalize_advantages(adv), normalize_advantages(adv))
    assert dist.all_mean({"a": 1.0}) == {"a": 1.0} and dist.all_true(False) is False
    assert dist.world_size() == 1 and dist.rank() == 0


def _shard_mixed_dtypes(rank: int, world: int) -> dict:
    from peft import LoraConfig, get_peft_model
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.fsdp import FSDPModule
    from transformers import LlamaConfig, LlamaForCausalLM

    from twosome.parallel.fsdp import shard, transformer_blocks, transformer_units

    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=64, hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2
    )
    lm = get_peft_model(LlamaForCausalLM(config).to(torch.bfloat16), LoraConfig(r=2, target_modules=["q_proj"]))
    for p in lm.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    blocks = len(transformer_blocks(lm))
    units = shard(transformer_units(lm), init_device_mesh("cpu", (world,)))
    lora_units = [n for n, m in lm.named_modules() if isinstance(m, FSDPModule) and "lora_" in n]
    ids = torch.tensor([[1, 2, 3]])
    lm(input_ids=ids).logits.float().sum().backward()
    grads = [p.grad is not None for p in lm.parameters() if p.requires_grad]
    return {"blocks": blocks, "units": units, "lora_units": lora_units, "all_grads": all(grads)}


def test_mixed_dtype_blocks_put_adapters_in_their_own_units():
    r0, r1 = dist.spawn_gloo(_shard_mixed_dtypes, 2)
    assert r0 == r1
    assert r0["blocks"] == 2
    # per block: lora_A and lora_B of q_proj (2 units) + the block; + the rest of the LM
    assert len(r0["lora_units"]) == 4 and r0["units"] == 2 * 3 + 1
    assert r0["all_grads"]


PROMPTS = ["go to the red ball and then", "pick up the key"]
CANDIDATES = [["turn left", "go forward", "pick up the key"], ["drop", "toggle the door"]]


def _sharded_scores(rank: int, world: int) -> dict:
    """Score with every mode on a LoRA Llama sharded over ``world`` ranks (and unsharded), with LoRA gradients."""
    from conftest import metaspace_tokenizer
    from peft import LoraConfig, get_peft_model
    from torch.distributed.device_mesh import init_device_mesh
    from transformers import LlamaConfig, LlamaForCausalLM

    from twosome.parallel.fsdp import shard, transformer_units
    from twosome.scoring import ActionScorer

    out = {}
    for sharded in (False, True):
        torch.manual_seed(0)
        tokenizer = metaspace_tokenizer()
        config = LlamaConfig(
            vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4
        )
        base = LlamaForCausalLM(config).eval()
        model = get_peft_model(base, LoraConfig(r=2, lora_alpha=4, target_modules=["q_proj", "v_proj"]))
        for name, prm in model.named_parameters():  # non-zero B: gradients reach A and the prompt's keys and values
            if "lora_B" in name:
                torch.nn.init.normal_(prm, std=0.1)
        if sharded:
            shard(transformer_units(model), init_device_mesh("cpu", (world,)))
        scorer = ActionScorer.for_model(base, tokenizer)
        batch = scorer.encode(PROMPTS, CANDIDATES)
        for mode in ("shared", "naive"):
            model.zero_grad()
            scores = scorer.score(model, batch, mode=mode)
            scores.normalized("word").sum().backward()
            grads = {
                n: (p.grad.full_tensor() if hasattr(p.grad, "full_tensor") else p.grad).clone()
                for n, p in model.named_parameters()
                if p.requires_grad
            }
            out[(sharded, mode)] = (scores.logprob_sum.detach(), grads)
    return out


def test_shared_prefix_scoring_under_fsdp_equals_naive_and_unsharded():
    """Two gloo ranks, the LM sharded block by block: the shared mode (one forward per prompt, every block once)
    gives the naive mode's log-probabilities (1e-5) and LoRA gradients (1e-4), and both equal the unsharded model's."""
    for result in dist.spawn_gloo(_sharded_scores, 2):
        reference_logp, reference_grads = result[(False, "naive")]
        for key in ((False, "shared"), (True, "shared"), (True, "naive")):
            logp, grads = result[key]
            torch.testing.assert_close(logp, reference_logp, atol=1e-5, rtol=1e-5, msg=str(key))
            for name, grad in reference_grads.items():
                torch.testing.assert_close(grads[name], grad, atol=1e-4, rtol=1e-4, msg=f"{key} {name}")


def test_transformer_blocks_needs_the_models_block_names():
    from twosome.parallel.fsdp import transformer_blocks

    with pytest.raises(ValueError, match="_no_split_modules"):
        transformer_blocks(torch.nn.Sequential(torch.nn.Linear(2, 2)))


def test_two_fsdp_ranks_train_to_identical_weights(tmp_path, tiny_model_dir):
    """The end-to-end check: two CPU ranks (gloo) train a few updates with the LM sharded; the ranks end with the same
    weights (training checks their digests before saving) and the adapter moved away from its initialization."""
    run_dir = tmp_path / "fsdp"
    overrides = ("trainer=fsdp_cpu", "rollout.total_env_steps=256", "ppo.target_kl=null", "eval.every_updates=0")
    args = small_run(tiny_model_dir, run_dir, *overrides)
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["world_size"] == 2 and len(summary["weights_digest"]) == 64
    assert summary["env_steps"] == 256 and summary["updates"] == 4  # the budget is global: 2 ranks x 64 per update
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert metrics["global_step"].tolist() == [64, 128, 192, 256]
    adapter = load_file(run_dir / "adapter" / "adapter_model.safetensors")
    lora_b = [t for k, t in adapter.items() if "lora_B" in k]
    assert lora_b and all(t.abs().sum() > 0 for t in lora_b)  # LoRA B starts at zero
    ranks = read_run_state(run_dir / "checkpoints" / "last.ckpt")["ranks"]
    assert len(ranks) == 2  # each rank's environments are in the checkpoint
    assert ranks[0]["collector"]["next_obs"].prompts != ranks[1]["collector"]["next_obs"].prompts or (
        ranks[0]["collector"]["envs"] != ranks[1]["collector"]["envs"]
    )


def test_each_rank_holds_a_share_of_the_agents_parameters(tmp_path):
    """Memory scales: with 2 ranks, every kind of parameter (bf16 base LM, fp32 LoRA, critic head) takes half the
    bytes on each rank (up to the padding of uneven shards)."""
    from twosome.bench.fsdp_memory import main

    main(["--layers", "2", "--hidden", "128", "--vocab", "1000", "--ranks", "1", "2", "--out", str(tmp_path)])
    table = pd.read_csv(tmp_path / "fsdp_memory.csv").set_index("ranks")
    for kind in ("base_lm_MiB", "lora_MiB", "critic_head_MiB"):
        assert table.loc[1, kind] > 0
        assert table.loc[2, kind] == pytest.approx(table.loc[1, kind] / 2, rel=0.01), kind
    assert table.loc[2, "fsdp_units"] == 2 * (4 + 1) + 2  # per block: 4 LoRA leaves + the block; LM rest; head


@pytest.mark.slow  # ~95 s: two 2-rank runs
def test_a_killed_fsdp_run_resumes_with_every_ranks_state(tmp_path, tiny_model_dir):
    """SIGKILL to both ranks after the first checkpoint; the same command continues from it: counters, every rank's
    environments and the logger carry on (bit-for-bit equality is checked single-process, test_reliability.py)."""
    run_dir = tmp_path / "fsdp"
    args = small_run(tiny_model_dir, run_dir, "trainer=fsdp_cpu", "rollout.total_env_steps=384", "eval.every_updates=0")
    proc = start(args, tmp_path)
    done = wait_for_checkpoint(run_dir, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert done < 6
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    assert f"Resuming {run_dir} from update {done}" in resumed.stdout
    metrics = pd.read_csv(run_dir / "metrics.csv")
    assert metrics["update"].tolist() == [1, 2, 3, 4, 5, 6]
    assert metrics["global_step"].tolist() == [64, 128, 192, 256, 320, 384]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_steps"] == 384 and summary["world_size"] == 2
