"""How a claim's numbers become its status (docs/RESULTS.md, "How to read these numbers"): the planned n read
from each plan, "interim" before it, the floor and ceiling, and the digits that show an interval end's side."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))

from doctables.common import boundary_note, claim_status, planned_seeds, status  # noqa: E402

from twosome.evaluation.statistics import Estimate  # noqa: E402

HOLDS = Estimate(0.9, 0.8, 1.0, 10)


def test_the_planned_n_is_read_from_each_plan():
    plan = "studies/smollm2_cpu/plan.yaml"
    assert planned_seeds(ROOT, plan, archive="smollm2_cpu/glam_goto/pretrained") == 10  # two sweeps, 5 + 5
    assert planned_seeds(ROOT, plan, archive="smollm2_cpu/glam_goto/random") == 5
    assert planned_seeds(ROOT, plan, archive="smollm2_cpu/glam_goto/random_token") == 10
    assert planned_seeds(ROOT, plan, archive="smollm2_cpu/entertainment/word_50k") == 5
    assert planned_seeds(ROOT, "studies/ten_seeds/plan.yaml", sweep="entertainment-ppo") == 10
    assert planned_seeds(ROOT, "studies/poad/plan.yaml", sweep="tomato_salad-poad_trie") == 10


def test_a_claim_is_interim_until_both_arms_have_their_planned_seeds():
    assert claim_status(HOLDS, [1.0] * 6, [0.0] * 5, (10, 5)) == "interim, 6 of 10 vs 5 of 5 (rule set after the data)"
    assert claim_status(HOLDS, [1.0] * 4, [0.0] * 9, (10, 10)) == "interim, 4 of 10 (rule set after the data)"
    assert claim_status(HOLDS, [1.0] * 10, [0.0] * 5, (10, 5)) == "**holds**"
    tasks = {"a": [1.0] * 10, "b": [1.0] * 3}  # over tasks: the seeds archived of those planned, summed
    assert (
        claim_status(HOLDS, tasks, {"a": [0.0] * 10, "b": [0.0] * 5}, ({"a": 10, "b": 5}, 10))
        == "interim, 13 of 15 vs 15 of 20 (rule set after the data)"
    )


def test_both_arms_at_the_floor_or_ceiling_in_every_seed_are_not_measurable_not_equivalent():
    tied = Estimate(0.5, 0.5, 0.5, 5)
    assert status(tied, 5) == "equivalent within ±0.1 (5 seeds)"  # what the old rule said
    assert claim_status(tied, [0.0] * 5, [0.0] * 5, (5, 5)) == "both at floor, not measurable (rule set after the data)"
    assert (
        claim_status(tied, [1.0] * 5, [1.0] * 5, (5, 5)) == "both at ceiling, not measurable (rule set after the data)"
    )
    assert (
        claim_status(tied, {"a": [0.0] * 5}, {"a": [0.0] * 5}, (5, 5))
        == "both at floor, not measurable (rule set after the data)"
    )
    assert claim_status(tied, [0.0] * 4 + [0.01], [0.0] * 5, (5, 5)) == "equivalent within ±0.1 (5 seeds)"


def test_an_interval_end_that_prints_as_the_compared_value_is_printed_with_the_digits_that_separate_them():
    assert (
        claim_status(Estimate(0.3, 0.1, 0.501, 5), [0.1] * 5, [0.2] * 5, (5, 5))
        == "not shown (5 seeds) (upper end 0.501)"
    )
    assert status(Estimate(0.7, 0.5049, 0.9, 5), 5) == "**holds** (lower end 0.505)"
    assert status(Estimate(0.7, 0.5001, 0.9, 5), 5) == "**holds** (lower end 0.5001)"
    assert status(Estimate(0.7, 0.51, 0.9, 5), 5) == "**holds**"  # prints apart from 0.50 already
    assert boundary_note(Estimate(0.23, 0.00499, 0.7, 5), [0.0]) == " (lower end 0.005)"
    assert boundary_note(Estimate(0.0, 0.0, 0.0, 5), [0.0]) == ""  # the end is the value itself
