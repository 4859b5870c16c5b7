"""The frozen trunk cached: with LoRA on the top block only, scores, hidden states and LoRA gradients equal
the uncached forward's, whether the rows' trunk is computed (a miss) or read (a hit), in any batch composition; a
cache too small to hold a row changes nothing."""

from __future__ import annotations

import copy

import pytest
import torch
from helpers import CANDIDATES, PROMPTS
from peft import LoraConfig, get_peft_model

from twosome.parallel.fsdp import transformer_blocks
from twosome.scoring import ActionScorer
from twosome.scoring.trunk_cache import TrunkCache

CAUSAL = {
    "llama-metaspace": ["q_proj", "v_proj"],
    "gpt2-bytelevel": ["c_attn"],
    "qwen2-bytelevel": ["q_proj", "v_proj"],
}


def top_block_model(base, targets):
    """LoRA on the last of the two blocks only, with a non-zero B (a fresh LoRA adds nothing)."""
    torch.manual_seed(0)
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, layers_to_transform=[1], task_type="CAUSAL_LM")
    model = get_peft_model(copy.deepcopy(base), config)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            param.data.normal_(0, 0.5)
    return model.eval()


def scored(model, scorer, prompts, candidates, features=False):
    """(log-probability sums, prompt hidden states, prompt features, LoRA gradients of their sum)."""
    model.zero_grad(set_to_none=True)
    out = scorer.score(model, scorer.encode(prompts, candidates), hidden=True)
    feats = scorer.prompt_features(model, [scorer.prompt_ids(p) for p in prompts])
    (out.logprob_sum.sum() + feats.sum()).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return out.logprob_sum.detach(), out.prompt_hidden.detach(), feats.detach(), grads


def assert_same(a, b):
    for x, y in zip(a[:3], b[:3]):
        torch.testing.assert_close(x, y, atol=1e-5, rtol=0)
    assert a[3].keys() == b[3].keys() and a[3]
    for k in a[3]:
        torch.testing.assert_close(a[3][k], b[3][k], atol=1e-4, rtol=0, msg=k)


@pytest.mark.parametrize("mode", ["shared", "naive"])
@pytest.mark.parametrize("name", list(CAUSAL))
def test_a_cached_trunk_gives_the_uncached_scores_features_and_gradients(model_zoo, name, mode):
    base, tokenizer = model_zoo[name]
    model = top_block_model(base, CAUSAL[name])
    kernel = {"shared_kernel": "auto"} if mode == "naive" else {"shared_kernel": "one_pass"}
    plain = ActionScorer.for_model(model, tokenizer, mode=mode, **kernel)
    cached = ActionScorer.for_model(model, tokenizer, mode=mode)
    cached.trunk = TrunkCache(first=1, max_mb=64, blocks=transformer_blocks(model))
    expected = scored(model, plain, PROMPTS, CANDIDATES)
    miss = scored(model, cached, PROMPTS, CANDIDATES)
    assert cached.trunk.misses > 0 and cached.trunk.hits == 0 and cached.trunk.rows
    lower = []  # the frozen block's own layers run only on a miss
    inner = next(transformer_blocks(model)[0].children())
    handle = inner.register_forward_hook(lambda *args: lower.append(1))
    hit = scored(model, cached, PROMPTS, CANDIDATES)
    handle.remove()
    assert cached.trunk.hits > 0 and not lower
    assert_same(expected, miss)
    assert_same(expected, hit)
    # Rows known from a batch of another composition: read one by one, re-padded.
    order = [2, 0]
    alone = scored(model, plain, [PROMPTS[i] for i in order], [CANDIDATES[i] for i in order])
    hits = cached.trunk.hits
    assert_same(alone, scored(model, cached, [PROMPTS[i] for i in order], [CANDIDATES[i] for i in order]))
    assert cached.trunk.hits > hits


def test_a_cache_too_small_for_a_row_changes_nothing(model_zoo):
    base, tokenizer = model_zoo["llama-metaspace"]
    model = top_block_model(base, CAUSAL["llama-metaspace"])
    plain = ActionScorer.for_model(model, tokenizer, shared_kernel="one_pass")
    tiny = ActionScorer.for_model(model, tokenizer)
    tiny.trunk = TrunkCache(first=1, max_mb=1e-6, blocks=transformer_blocks(model))
    expected = scored(model, plain, PROMPTS, CANDIDATES)
    for _ in range(2):
        assert_same(expected, scored(model, tiny, PROMPTS, CANDIDATES))
    assert not tiny.trunk.rows and tiny.trunk.hits == 0


def test_the_cache_drops_the_least_recently_used_rows_first():
    cache = TrunkCache(first=1, max_mb=3 * 4 * 1024 / 2**20, blocks=[])  # room for three rows of 1,024 floats
    for key in "abc":
        cache.put(key, torch.zeros(1024))
    assert cache.get("a") is not None  # a is now the most recently used
    cache.put("d", torch.zeros(1024))
    assert list(cache.rows) == ["c", "a", "d"] and cache.bytes == 3 * 4096
    with pytest.raises(ValueError, match="every block adapted"):
        TrunkCache(first=0, max_mb=1, blocks=[])


def test_an_agent_adapting_the_top_blocks_caches_the_trunk_below_them(tiny_model_dir):
    from twosome.agents.twosome import TwosomeAgent
    from twosome.lm.loading import load_lm

    lm, tokenizer = load_lm(str(tiny_model_dir), None, "float32", None)
    blocks = lm.config.num_hidden_layers
    assert TwosomeAgent(lm, tokenizer, lora_layers=1).scorer.trunk.first == blocks - 1
    lm, tokenizer = load_lm(str(tiny_model_dir), None, "float32", None)
    assert TwosomeAgent(lm, tokenizer).scorer.trunk is None  # every block adapted: no frozen trunk
    lm, tokenizer = load_lm(str(tiny_model_dir), None, "float32", None)
    assert TwosomeAgent(lm, tokenizer, lora_layers=1, trunk_cache_mb=0).scorer.trunk is None


def test_a_run_with_a_cached_trunk_resumes_exactly_after_sigkill(tmp_path, tiny_model_dir):
    """The cache is part of the checkpoint (``cache_state``): a resumed run reads the rows the uninterrupted one
    read, so the two end bit for bit equal."""
    import signal

    from helpers import run_cli, same_results, small_run, start, wait_for_checkpoint

    extra = ("agent.policy.lora_layers=1",)
    proc = run_cli(*small_run(tiny_model_dir, tmp_path / "uninterrupted", *extra), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    args = small_run(tiny_model_dir, tmp_path / "run", *extra)
    proc = start(args, tmp_path)
    done = wait_for_checkpoint(tmp_path / "run", proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert done < 6
    resumed = run_cli(*args, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    same_results(tmp_path / "uninterrupted", tmp_path / "run")
