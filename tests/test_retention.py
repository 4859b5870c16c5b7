"""Language retention through lm-evaluation-harness, on a tiny random Llama and random LoRA adapters (offline)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest
import torch
import yaml

pytest.importorskip("lm_eval")

from twosome.retention import evaluate as ev  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))
import retention_table  # noqa: E402

LOCAL = ["twosome_household_mc", "twosome_household_ppl"]
METRICS = {
    "twosome_household_mc/acc",
    "twosome_household_mc/acc_norm",
    "twosome_household_ppl/word_perplexity",
    "twosome_household_ppl/byte_perplexity",
    "twosome_household_ppl/bits_per_byte",
}


def make_adapter(base: Path, out: Path, seed: int) -> Path:
    """A LoRA on q_proj, v_proj with non-zero random B (a fresh LoRA is a no-op), saved with save_pretrained."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(
        AutoModelForCausalLM.from_pretrained(base), LoraConfig(r=8, lora_alpha=16, target_modules=["q_proj", "v_proj"])
    )
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name:
                param.copy_(torch.randn(param.shape, generator=gen) * 0.5)
    model.save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory) -> list[Path]:
    root = tmp_path_factory.mktemp("adapters")
    return [make_adapter(tiny_model_dir, root / f"adapter{seed}", seed) for seed in (1, 2)]


@pytest.fixture(scope="module")
def base_scores(tiny_model_dir, tmp_path_factory) -> dict[str, float]:
    # From an unrelated working directory: the local tasks' data paths must not depend on the cwd.
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("elsewhere"))
        return ev.evaluate_retention(str(tiny_model_dir), None, LOCAL, limit=6, batch_size=4)


def test_local_tasks_run_end_to_end(base_scores):
    assert set(base_scores) == METRICS
    assert 0.0 <= base_scores["twosome_household_mc/acc"] <= 1.0
    assert 0.0 <= base_scores["twosome_household_mc/acc_norm"] <= 1.0
    assert base_scores["twosome_household_ppl/byte_perplexity"] > 1.0
    assert base_scores["twosome_household_ppl/word_perplexity"] > base_scores["twosome_household_ppl/byte_perplexity"]
    assert base_scores["twosome_household_ppl/bits_per_byte"] > 0.0


def test_adapters_change_the_numbers(tiny_model_dir, adapters, base_scores):
    a, b = (ev.evaluate_retention(str(tiny_model_dir), str(p), LOCAL, limit=6, batch_size=4) for p in adapters)
    assert set(a) == set(b) == METRICS
    key = "twosome_household_ppl/byte_perplexity"
    values = [base_scores[key], a[key], b[key]]
    assert len({round(v, 9) for v in values}) == 3, values


def write_fake_run(root: Path, base: Path, adapter: Path, seed: int) -> Path:
    import shutil

    root.mkdir(parents=True)
    shutil.copytree(adapter, root / "adapter")
    config = {"seed": seed, "model": {"name": "tiny-llama", "path": str(base)}, "agent": {"name": "twosome"}}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    summary = {
        "run_name": f"twosome-tomato_salad-word-s{seed}",
        "agent": "twosome",
        "env_id": "twosome/Overcooked-TomatoSalad-v0",
        "norm": "word",
        "seed": seed,
    }
    (root / "summary.json").write_text(json.dumps(summary))
    return root


def test_cli_writes_records_and_the_table_script_writes_csv_and_markdown(
    tiny_model_dir, adapters, tmp_path, monkeypatch
):
    runs = [write_fake_run(tmp_path / "sweep" / str(s) / "2026-01-01", tiny_model_dir, adapters[s], s) for s in (0, 1)]
    (tmp_path / "sweep" / "not_a_run").mkdir()
    calls = []
    real = ev.evaluate_retention
    monkeypatch.setattr(
        ev, "evaluate_retention", lambda base, adapter, *a, **k: calls.append(adapter) or real(base, adapter, *a, **k)
    )
    out = tmp_path / "results" / "retention"
    ev.main(
        [str(tmp_path / "sweep"), "--tasks", ",".join(LOCAL), "--limit", "3", "--batch-size", "4", "--out", str(out)]
    )

    assert calls == [None, str(runs[0] / "adapter"), str(runs[1] / "adapter")]  # the shared base only once
    records = json.loads((out / "retention.json").read_text())
    assert len(records) == 2 * 2 * len(METRICS)
    assert {r["which"] for r in records} == {"before", "after"}
    assert {r["seed"] for r in records} == {0, 1}
    for r in records:
        assert {"run", "agent", "env_id", "norm", "seed", "model", "which", "task", "metric", "value"} <= set(r)
        assert f"{r['task']}/{r['metric']}" in METRICS
    before = {(r["run"], r["task"], r["metric"]): r["value"] for r in records if r["which"] == "before"}
    assert before[(records[0]["run"], "twosome_household_ppl", "bits_per_byte")] == pytest.approx(
        before[(records[-1]["run"], "twosome_household_ppl", "bits_per_byte")]
    )

    # --no-base: the adapted models only (a campaign evaluating one adapter per call reads the base once); the
    # adapted scores equal those of the call with the base
    calls.clear()
    alone = tmp_path / "results" / "alone"
    ev.main([str(runs[1]), "--tasks", ",".join(LOCAL), "--limit", "3", "--batch-size", "4", "--out", str(alone),
             "--no-base"])  # fmt: skip
    assert calls == [str(runs[1] / "adapter")]
    only = json.loads((alone / "retention.json").read_text())
    assert {r["which"] for r in only} == {"after"} and len(only) == len(METRICS)
    with_base = {(r["task"], r["metric"]): r["value"] for r in records if r["which"] == "after" and r["seed"] == 1}
    assert {(r["task"], r["metric"]): r["value"] for r in only} == pytest.approx(with_base)

    retention_table.main([str(out / "retention.json"), "--out", str(out / "table")])
    table = pd.read_csv(out / "table.csv")
    assert len(table) == 1 and table["n_seeds"].tolist() == [2]
    for which in ("before", "after", "delta"):
        assert f"twosome_household_mc/acc {which}" in table
        assert f"twosome_household_ppl/bits_per_byte {which} std" in table
    row = table.iloc[0]
    col = "twosome_household_ppl/bits_per_byte"
    assert row[f"{col} delta"] == pytest.approx(row[f"{col} after"] - row[f"{col} before"])
    markdown = (out / "table.md").read_text()
    assert "twosome_household_ppl/bits_per_byte ↓ delta" in markdown and "±" in markdown

    retention_table.main([str(out / "retention.json"), "--out", str(out / "per_run"), "--by", "run"])
    per_run = pd.read_csv(out / "per_run.csv")
    assert len(per_run) == 2 and "twosome_household_mc/acc_norm delta" in per_run
    assert (out / "per_run.md").read_text().count("\n") == 4  # header, rule, two runs

    retention_table.main([str(out / "retention.json"), "--out", str(out / "small"), "--metrics", "acc,bits_per_byte"])
    small = pd.read_csv(out / "small.csv")
    assert [c for c in small if c.endswith(" delta")] == [
        "twosome_household_mc/acc delta",
        "twosome_household_ppl/bits_per_byte delta",
    ]


def test_unknown_task_names_give_a_clear_error(tiny_model_dir):
    with pytest.raises(ValueError, match=r"unknown task.*twosome_household_typo"):
        ev.evaluate_retention(str(tiny_model_dir), None, ["twosome_household_mc", "twosome_household_typo"])
    with pytest.raises(ValueError, match=r"unknown task.*no_such_task_xyz.*arc_challenge"):
        ev.evaluate_retention(str(tiny_model_dir), None, ["no_such_task_xyz"])
    with pytest.raises(ValueError, match="no tasks"):
        ev.evaluate_retention(str(tiny_model_dir), None, [])


def test_a_base_that_is_not_a_model_directory_gives_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    for base in (str(tmp_path / "empty"), str(tmp_path / "nowhere")):
        with pytest.raises(FileNotFoundError, match=r"base model .* is not a Hugging Face model directory"):
            ev.evaluate_retention(base, None, ["twosome_household_mc"])


def test_probe_data_round_trip_and_override(tmp_path):
    probes = [{"query": "You cut bread with a", "choices": ["knife", "pillow"], "gold": 0}] * 3
    path = ev.write_probe_data(probes, tmp_path / "probes.jsonl")
    assert [json.loads(line) for line in path.read_text().splitlines()] == probes
    with pytest.raises(ValueError, match="gold"):
        ev.write_probe_data([{"query": "q", "choices": ["a", "b"], "gold": 2}], tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match="choices"):
        ev.write_probe_data([{"query": "q", "choices": "ab", "gold": 0}], tmp_path / "bad.jsonl")
    # the shipped placeholder data is in the same format
    for line in ev.PROBE_DATA.read_text().splitlines():
        ev._check_probe(0, json.loads(line))
    # rendering makes the data path absolute; a data override replaces the shipped file
    rendered = ev.render_local_tasks(tmp_path / "inc", data={"twosome_household_mc": path})
    mc = yaml.safe_load((rendered / "twosome_household_mc.yaml").read_text())
    assert mc["dataset_kwargs"]["data_files"] == {"test": str(path.resolve())}
    ppl = yaml.safe_load((rendered / "twosome_household_ppl.yaml").read_text())
    assert Path(ppl["dataset_kwargs"]["data_files"]["test"]) == ev.PPL_DATA


@pytest.mark.slow
def test_standard_task_without_cached_data_names_the_task(tiny_model_dir):
    """Offline, a standard task whose dataset is not cached fails with the task's name (lm-eval's index: ~20 s)."""
    try:
        ev.evaluate_retention(str(tiny_model_dir), None, ["arc_challenge"], limit=1)
    except ev.RetentionDataError as e:
        assert "arc_challenge" in str(e) and "offline" in str(e)
    else:
        pytest.skip("arc_challenge is cached on this machine")


def test_no_scored_continuation_follows_two_spaces(tmp_path):
    """lm-eval joins context and choice with its target delimiter (a space): the data must not add a second one.
    With a leading space in every choice the default model scored 0.175 (below chance) instead of about 0.43."""
    from lm_eval.tasks import TaskManager

    include = ev.render_local_tasks(tmp_path, ["twosome_household_mc"])
    with ev.hf_offline():
        task = TaskManager(include_path=str(include), include_defaults=False).load(["twosome_household_mc"])
    task = task["tasks"]["twosome_household_mc"]
    task.build_all_requests(rank=0, world_size=1)
    assert len(task.instances) == 4 * 200
    for inst in task.instances:
        context, continuation = inst.arguments
        joined = context + continuation
        assert continuation.startswith(" ") and not continuation.startswith("  "), continuation
        assert not context.endswith((" ", "\n")) and "  " not in joined[len(context) - 1 : len(context) + 2], joined


def test_probe_writer_normalizes_spaces(tmp_path):
    path = ev.write_probe_data(
        [{"query": "You cut the bread with a ", "choices": [" knife", "spoon"], "gold": 0}], tmp_path / "p.jsonl"
    )
    assert json.loads(path.read_text()) == {
        "query": "You cut the bread with a",
        "choices": ["knife", "spoon"],
        "gold": 0,
    }


def test_real_english_perplexity_task_runs(tiny_model_dir):
    assert "twosome_english_ppl" in ev.local_tasks()
    scores = ev.evaluate_retention(str(tiny_model_dir), None, ["twosome_english_ppl"], limit=2, batch_size=2)
    assert scores["twosome_english_ppl/byte_perplexity"] > 1.0


@pytest.mark.parametrize(
    "args, message",
    [
        (["{missing}"], "does not exist"),
        (["{empty}"], "no trained run (config.yaml + adapter/adapter_config.json) in or below"),
        (["{run}", "--tasks", "twosome_household_typo"], "unknown task name(s) ['twosome_household_typo']"),
    ],
)
def test_the_command_refuses_a_path_without_trained_runs_or_a_task_before_any_model_loads(
    tmp_path, capsys, args, message
):
    (tmp_path / "empty").mkdir()
    (tmp_path / "run" / "adapter").mkdir(parents=True)  # what marks a trained run; nothing here is read
    (tmp_path / "run" / "config.yaml").write_text("{}\n")
    (tmp_path / "run" / "adapter" / "adapter_config.json").write_text("{}\n")
    paths = {"missing": tmp_path / "missing", "empty": tmp_path / "empty", "run": tmp_path / "run"}
    with pytest.raises(SystemExit):
        ev.main([a.format(**paths) for a in args] + ["--out", str(tmp_path / "out")])
    assert message in capsys.readouterr().err and not (tmp_path / "out").exists()
