"""The screening's decision rule (studies/exploration/README.md), on hand-made means: eligibility on Tomato Salad,
the score over Entertainment and TextWorld, the tie order and the fallback of rule 4."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "analysis"))
from studies.exploration.decision import MECHANISMS, decide, determined, exploration_decision  # noqa: E402


def means(ts: dict, ent: dict, tw: dict | None = None, base=(1.0, 0.5, 0.2)) -> dict:
    tw = tw or {}
    out = {("tomato_salad", "baseline"): base[0], ("entertainment", "baseline"): base[1],
           ("textworld", "baseline"): base[2]}  # fmt: skip
    for arm in MECHANISMS:
        out["tomato_salad", arm] = ts.get(arm, base[0])
        out["entertainment", arm] = ent.get(arm, base[1])
        out["textworld", arm] = tw.get(arm, base[2])
    return out


FALLBACK = {"calibration": 0.5, "entropy_floor": 0.6, "uniform_mix": 0.7, "prior_kl": 0.4}


def test_the_largest_positive_score_among_the_eligible_is_chosen():
    m = means(ts={"uniform_mix": 0.85}, ent={"uniform_mix": 0.9, "prior_kl": 0.7}, tw={"prior_kl": 0.3})
    # uniform_mix would score best (+0.2) but loses 0.15 on Tomato Salad: not eligible; prior_kl scores +0.15
    assert decide(m, FALLBACK)[0] == "prior_kl"


def test_a_loss_of_exactly_the_margin_stays_eligible():
    m = means(ts={"uniform_mix": 0.7 + 0.2}, ent={"uniform_mix": 0.9}, base=(0.1 + 0.9, 0.5, 0.2))  # float sums
    assert decide(m, FALLBACK)[0] == "uniform_mix"


def test_ties_go_to_the_cheaper_mechanism():
    m = means(ts={}, ent={"prior_kl": 0.7, "entropy_floor": 0.7, "uniform_mix": 0.7})
    assert decide(m, FALLBACK)[0] == "entropy_floor"


def test_with_no_positive_score_none_is_chosen_and_rule_4_takes_the_best_explorer():
    chosen, why = decide(means(ts={}, ent={a: 0.4 for a in MECHANISMS}, tw={}), FALLBACK)
    assert chosen == "uniform_mix" and "none is chosen" in why


def test_with_no_eligible_mechanism_nothing_goes_to_the_real_llm():
    chosen, why = decide(means(ts={a: 0.5 for a in MECHANISMS}, ent={a: 1.0 for a in MECHANISMS}, tw={}), FALLBACK)
    assert chosen is None and "none goes" in why


@pytest.mark.parametrize("folder", ["missing"])
def test_the_decision_is_pending_until_every_arm_has_its_seeds(tmp_path, folder):
    text = exploration_decision(tmp_path / folder)
    assert "Decision pending: 0 of 75 runs." in text and "**chosen**" not in text


def seeds_short_on(short: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    cells = [(t, a) for t in ("tomato_salad", "entertainment", "textworld") for a in ("baseline", *MECHANISMS)]
    return {cell: short.get(cell, 5) for cell in cells}


def test_a_decision_no_missing_seed_can_change_is_called_early_and_only_then():
    # TextWorld at 3 of 5 seeds: calibration 0.96 against a baseline of 0; every other mechanism 0 there
    m = means(ts={}, ent={"calibration": 0.44, "uniform_mix": 0.56}, tw={"calibration": 0.96}, base=(1.0, 0.5, 0.0))
    short = {("textworld", arm): 3 for arm in ("baseline", *MECHANISMS)}
    assert determined(m, seeds_short_on(short), FALLBACK) == "calibration"  # its worst corner: (-0.06 + 0.18) / 2
    # at 1 of 5 seeds the baseline and the others could still overtake it
    assert determined(m, seeds_short_on({k: 1 for k in short}), FALLBACK) is None
    # Tomato Salad short of its seeds: eligibility could change, nothing is called
    assert determined(m, seeds_short_on({**short, ("tomato_salad", "prior_kl"): 4}), FALLBACK) is None
