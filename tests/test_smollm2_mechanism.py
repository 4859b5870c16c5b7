"""The mechanism's comparisons on SmolLM2 (studies/smollm2_cpu/mechanism.py): each read on its own metric, PPO from
scratch at the mechanism arm's budget, and a status only at the planned seeds, with no "rule set after the data"."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
from doctables.common import LATE, TEN_SEEDS, optimal_discounted  # noqa: E402
from helpers import archived_run_stub  # noqa: E402

from studies.smollm2_cpu.mechanism import smollm2_cpu_mechanism  # noqa: E402
from studies.smollm2_cpu.tables import CAMPAIGN, PLAN, PPO_PLAN  # noqa: E402

SEEDS = list(range(10))
OPTIMAL = optimal_discounted("twosome/Overcooked-TomatoSalad-v0", 0.99)  # the stubs' task and gamma


def plan(root: Path, path: str, sweeps: dict[str, tuple[str, list[int]]]) -> None:
    (root / path).parent.mkdir(parents=True, exist_ok=True)
    body = {"name": "stub", "sweeps": [{"name": n, "archive": a, "seeds": s} for n, (a, s) in sweeps.items()]}
    (root / path).write_text(yaml.safe_dump(body))


def returns(ret: float, upto: int) -> pd.DataFrame:
    """A run's training episodes: two ending before the window, two inside it with discounted return ``ret``."""
    steps = [upto - 4096, upto - 3000, upto - 1024, upto]
    return pd.DataFrame({"global_step": steps, "eval/discounted_return": [None] * 4, "charts/episodes": [1] * 4,
                         "charts/discounted_return": [0.0, 0.0, ret, ret]})  # fmt: skip


def summarize(directory: Path, seed: int, **changes) -> None:
    summary = directory / f"twosome-word-s{seed}" / "summary.json"
    summary.write_text(json.dumps({**json.loads(summary.read_text()), **changes}))


def rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in text.splitlines()[2:]]


def test_each_comparison_on_its_metric_and_read_only_at_the_planned_seeds(tmp_path):
    plan(tmp_path, PLAN, {
        "ts-word-mechanism": ("smollm2_cpu/tomato_salad/word_mechanism", SEEDS),
        "ts-saycan": ("smollm2_cpu/tomato_salad/saycan", SEEDS),
        "ts-untrained-word": ("smollm2_cpu/tomato_salad/untrained_word", SEEDS),
        "ent-mechanism": ("smollm2_cpu/entertainment/word_50k_mechanism", SEEDS[:5]),
    })  # fmt: skip
    plan(tmp_path, PPO_PLAN, {"entertainment-ppo": ("ten_seeds/entertainment", SEEDS[:5])})
    campaign = tmp_path / CAMPAIGN
    for seed in SEEDS:
        archived_run_stub(campaign / "tomato_salad/word_mechanism", seed, 1.0, f"m{seed}")
        archived_run_stub(campaign / "tomato_salad/saycan", seed, 0.2, f"s{seed}")
    for seed in SEEDS[:3]:  # the untrained arm is short of its 10 seeds: interim, whatever the interval says
        archived_run_stub(campaign / "tomato_salad/untrained_word", seed, 0.1, f"u{seed}")
    mechanism, ppo = campaign / "entertainment/word_50k_mechanism", tmp_path / TEN_SEEDS / "entertainment"
    for seed in SEEDS[:5]:  # read at the mechanism arm's budget, 8,192 steps: 0.5 of optimal against PPO's 0.2 there
        archived_run_stub(mechanism, seed, 0.0, f"e{seed}", returns(0.5 * OPTIMAL, 8192))
        archived_run_stub(
            ppo, seed, 0.0, f"p{seed}", pd.concat([returns(0.2 * OPTIMAL, 8192), returns(OPTIMAL, 16384)])
        )
        summarize(mechanism, seed, env_steps=8192)
        summarize(ppo, seed, agent="ppo", env_steps=16384)
    text = smollm2_cpu_mechanism(tmp_path)
    by_question = {r[1]: r for r in rows(text)}
    saycan = by_question["does a claim that holds today hold with the mechanism: better than SayCan?"]
    assert saycan[4].endswith("(10)") and saycan[6].startswith("1.00") and saycan[7] == "**holds**"
    assert by_question["... better than the untrained LLM?"][7] == "interim, 3 of 10"
    efficiency = [r for r in rows(text) if r[0] == "Entertainment" and "PPO from scratch" in r[2]][0]
    assert efficiency[4].startswith("0.50") and efficiency[5].startswith("0.20") and efficiency[7] == "**holds**"
    goto = [r for r in rows(text) if r[0].startswith("BabyAI")][0]
    assert goto[7] == "not run yet (0 and 0 seeds)"
    assert LATE not in text


def test_the_textworld_adapters_retention_joins_the_campaigns_against_the_same_base(tmp_path):
    import shutil

    from studies.smollm2_cpu.tables import RETENTION_ELSEWHERE, smollm2_cpu_retention

    (base_run,) = (ROOT / CAMPAIGN / "food_preparation/word").glob("*-s1")  # the run that evaluated the base
    shutil.copytree(base_run, tmp_path / CAMPAIGN / "food_preparation/word" / base_run.name)
    english = {"which": "before", "task": "twosome_english_ppl", "metric": "word_perplexity"}
    records = json.loads((base_run / "retention/retention.json").read_text())
    (before,) = [r["value"] for r in records if all(r[k] == v for k, v in english.items())]
    ((task, arm), folder) = next(iter(RETENTION_ELSEWHERE.items()))
    archived_run_stub(tmp_path / folder, 0, 0.0, "t0")
    record = {**english, "seed": 0, "which": "after"}
    (tmp_path / folder / "twosome-word-s0/retention").mkdir()
    (tmp_path / folder / "twosome-word-s0/retention/retention.json").write_text(
        json.dumps([{**record, "value": before * 1.5}])
    )
    row = [r for r in rows(smollm2_cpu_retention(tmp_path)) if r[0] == task]
    assert len(row) == 1 and row[0][1] == arm and row[0][4] == "1" and row[0][7].startswith("0.50")
