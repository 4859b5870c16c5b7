"""One forward, rows through different LoRA adapters of one base model (seeds batched through one LM): the
scores, hidden states and gradients equal those of each adapter's rows scored on their own."""

from __future__ import annotations

import copy

import pytest
import torch
from helpers import CANDIDATES, MODES, PROMPTS, scorer_for
from peft import LoraConfig, get_peft_model

from twosome.scoring.row_adapters import rows_through

TARGETS = {"llama-metaspace": ["q_proj", "v_proj"], "gpt2-bytelevel": ["c_attn"], "t5-metaspace": ["q", "v"]}
ADAPTERS = ["s1", "s0", "s1"]  # the adapter of each prompt in PROMPTS


def two_adapter_model(base, targets):
    """The base model with adapters s0 and s1, each with its own non-zero B (a fresh LoRA adds nothing)."""
    torch.manual_seed(0)
    task = "SEQ_2_SEQ_LM" if base.config.is_encoder_decoder else "CAUSAL_LM"
    config = LoraConfig(r=4, lora_alpha=8, target_modules=targets, task_type=task, lora_dropout=0.0)
    model = get_peft_model(copy.deepcopy(base), config, adapter_name="s0")
    model.add_adapter("s1", config)
    for name, param in model.named_parameters():
        if "lora_B" in name:
            param.data.normal_(0, 0.5)
        param.requires_grad_("lora_" in name)
    model.eval()
    return model


def lora_grads(model) -> dict[str, torch.Tensor]:
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.requires_grad and p.grad is not None}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("name", list(TARGETS))
def test_rows_through_their_own_adapters_equal_each_adapter_alone(model_zoo, name, mode):
    base, tokenizer = model_zoo[name]
    model = two_adapter_model(base, TARGETS[name])
    scorer = scorer_for(model, tokenizer, mode)
    mixed = scorer.score(model, scorer.encode(PROMPTS, CANDIDATES, adapters=ADAPTERS), hidden=True)
    mixed.logprob_sum.sum().backward()
    together = lora_grads(model)
    model.zero_grad(set_to_none=True)

    sums, prompt_hidden = {}, {}
    for adapter in ("s0", "s1"):
        model.base_model.set_adapter(adapter)
        for n, p in model.named_parameters():
            p.requires_grad_("lora_" in n)  # set_adapter freezes the other adapter: both take gradients here
        rows = [i for i, a in enumerate(ADAPTERS) if a == adapter]
        alone = scorer.score(
            model, scorer.encode([PROMPTS[i] for i in rows], [CANDIDATES[i] for i in rows]), hidden=True
        )
        alone.logprob_sum.sum().backward()
        for i, values in zip(rows, alone.logprob_sum.split(alone.counts)):
            sums[i] = values
        for i, h in zip(rows, alone.prompt_hidden):
            prompt_hidden[i] = h
    separate = lora_grads(model)

    torch.testing.assert_close(mixed.logprob_sum, torch.cat([sums[i] for i in range(len(PROMPTS))]), atol=1e-5, rtol=0)
    expected_hidden = torch.stack([prompt_hidden[i] for i in range(len(PROMPTS))])
    torch.testing.assert_close(mixed.prompt_hidden, expected_hidden, atol=1e-5, rtol=0)
    assert together.keys() == separate.keys() and {n.split(".")[-2] for n in together} >= {"s0", "s1"}
    for n in together:
        torch.testing.assert_close(together[n], separate[n], atol=1e-5, rtol=1e-4, msg=n)

    # The critic's prompt features too; and the adapters really differ (else the test would prove nothing).
    ids = [scorer.prompt_ids(p) for p in PROMPTS]
    with torch.no_grad():
        features = scorer.prompt_features(model, ids, adapters=ADAPTERS)
        model.base_model.set_adapter("s0")
        only_s0 = scorer.prompt_features(model, ids)
    assert torch.allclose(features[1], only_s0[1], atol=1e-5) and not torch.allclose(features[0], only_s0[0])


def test_one_name_per_row_is_required(model_zoo):
    base, tokenizer = model_zoo["llama-metaspace"]
    model = two_adapter_model(base, TARGETS["llama-metaspace"])
    scorer = scorer_for(model, tokenizer, "shared")
    with pytest.raises(ValueError, match="got 3 prompts but 2 adapter names; one per prompt"):
        scorer.encode(PROMPTS, CANDIDATES, adapters=["s0", "s1"])
    ids = torch.tensor([[1, 2, 3]])
    with pytest.raises(ValueError, match="2 adapter names for a batch of 1 rows"), rows_through(model, ["s0", "s1"]):
        model(input_ids=ids)
