"""The per-phase benchmarks: the utilization instrument (torch's FLOP counter against hand counts of a LoRA-adapted
linear layer and a decoder layer with its attention; per-phase counts that repeat, update by update), the phase
profile, and the arguments of the compile lever and of the candidate-list benchmark."""

from __future__ import annotations

import pytest
import torch
from helpers import compose_cfg, small_run

from twosome.bench.utilization import PHASES, PhaseFlops, count_flops
from twosome.training.train import train


def test_a_lora_adapted_linear_layer_costs_its_base_product_plus_its_two_low_rank_products():
    from peft import LoraConfig, get_peft_model

    rows, k, n, r = 10, 64, 48, 4
    model = get_peft_model(
        torch.nn.Sequential(torch.nn.Linear(k, n, bias=False)), LoraConfig(r=r, target_modules=["0"])
    )
    flops, _ = count_flops(model, torch.randn(rows, k))
    assert flops == 2 * rows * k * n + 2 * rows * k * r + 2 * rows * r * n


def test_a_decoder_layer_and_its_attention_cost_what_their_products_cost():
    from transformers import LlamaConfig, LlamaForCausalLM

    hidden, inter, heads, kv_heads, vocab, layers = 64, 96, 4, 2, 100, 1
    config = LlamaConfig(hidden_size=hidden, intermediate_size=inter, num_attention_heads=heads,
                         num_key_value_heads=kv_heads, vocab_size=vocab, num_hidden_layers=layers,
                         attn_implementation="eager")  # fmt: skip
    model = LlamaForCausalLM(config).eval()
    batch, seq = 2, 12
    with torch.no_grad():
        flops, _ = count_flops(model, torch.randint(0, vocab, (batch, seq)))
    tokens, head_dim, kv = batch * seq, hidden // heads, hidden * kv_heads // heads
    projections = 2 * tokens * (hidden * hidden * 2 + hidden * kv * 2)  # q, o; k, v
    attention = 2 * (2 * batch * heads * seq * seq * head_dim)  # scores and their weighted sum of values
    mlp = 2 * tokens * hidden * inter * 3  # gate, up, down
    head = 2 * tokens * hidden * vocab
    assert flops == projections + attention + mlp + head


def test_each_phase_is_counted_once_per_update_and_the_count_repeats(tiny_model_dir, tmp_path):
    """Two counted runs of one seeded config count the same operations, update by update. (A counted run is not
    bit-identical to an uncounted one: under the counter attention takes torch's reference path, whose last bits
    differ; the benchmark's timed run is therefore a run like the counted one, with the same prompt shapes.)"""
    overrides = small_run(tiny_model_dir, None, "rollout.total_env_steps=96", "eval.every_updates=0",
                          f"paths.root_dir={tmp_path}")  # fmt: skip
    cfg = compose_cfg(*overrides)
    counts = []
    for name in ("first", "second"):
        flops = PhaseFlops()
        with flops.installed():
            summary = train(cfg, run_dir=tmp_path / name, enable_progress_bar=False)
        counts.append(flops.per_update)
    assert counts[0] == counts[1] and len(counts[0]) == summary["updates"] == 3
    for update in counts[0]:
        assert all(update[p] > 0 for p in PHASES), update
    # the policy phase re-scores every decision with gradients: more than the value phase's critic on cached states
    assert counts[0][-1]["policy"] > counts[0][-1]["value"]


@pytest.mark.parametrize("argv, message", [(["--updates", "0"], "--updates 0"), (["--lora-layers", "x"], "'x'")])
def test_bad_arguments_are_refused(argv, message, capsys):
    from twosome.bench.utilization import main

    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "operator, expected",
    [
        ("aten::mm", "matmul"),
        ("MmBackward0", "matmul"),
        ("aten::addmm", "matmul"),
        ("aten::_scaled_dot_product_flash_attention_for_cpu_backward", "attention"),
        ("aten::_log_softmax_backward_data", "attention"),
        ("aten::copy_", "copy"),
        ("aten::fill_", "copy"),
        ("aten::silu_backward", "elementwise"),
        ("aten::_foreach_add_", "elementwise"),
        ("aten::as_strided", "other"),
    ],
)
def test_the_profile_sorts_operators_into_kinds(operator, expected):
    from twosome.bench.phase_profile import kind

    assert kind(operator) == expected


def test_a_profiled_run_accounts_for_each_phase_and_leaves_the_warm_up_out(tiny_model_dir, tmp_path):
    """Every update after the first is profiled once per phase; each phase's shares add up to one and matrix
    products are among its operators."""
    from twosome.bench.phase_profile import PhaseProfiles

    overrides = small_run(tiny_model_dir, None, "rollout.total_env_steps=96", "eval.every_updates=0",
                          f"paths.root_dir={tmp_path}")  # fmt: skip
    profiles = PhaseProfiles()
    with profiles.installed():
        summary = train(compose_cfg(*overrides), run_dir=tmp_path / "run", enable_progress_bar=False)
    assert profiles.calls == {"rollout": summary["updates"], "update": summary["updates"]}
    table = profiles.table()
    assert set(table.phase) == {"rollout", "update"}
    assert table.groupby("phase").share.sum().round(9).eq(1.0).all()
    assert {"rollout", "update"} <= set(table[table.kind == "matmul"].phase)


@pytest.mark.parametrize("argv, message", [(["--updates", "1"], "--updates 1"), (["--pairs", "0"], "--pairs 0")])
def test_the_compile_lever_refuses_bad_arguments(argv, message, capsys):
    from twosome.bench.compile_lever import main

    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv, message", [(["--envs", "0"], "--envs 0"), (["--modes", "fast"], "--modes fast")])
def test_the_candidate_list_benchmark_refuses_bad_arguments_before_generating_games(argv, message, capsys, tmp_path):
    from twosome.bench.candidates import main

    with pytest.raises(SystemExit):
        main([*argv, "--game-dir", str(tmp_path / "games"), "--out", str(tmp_path / "out")])
    assert message in capsys.readouterr().err
    assert not (tmp_path / "games").exists() and not (tmp_path / "out").exists()
