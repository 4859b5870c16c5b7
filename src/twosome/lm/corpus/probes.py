"""Knowledge probes: multiple-choice questions (lm-eval-harness style) about the reserved (held-out) combinations
only, for the retention task ``twosome_household_mc``.
"""

from __future__ import annotations

import random

from twosome.lm.corpus.acts import act_variants, goal_phrases
from twosome.lm.corpus.clauses import _Say, clauses_text
from twosome.lm.corpus.fact_docs import SCHEMA_FACTS, _fill
from twosome.lm.corpus.guard import _forbidden
from twosome.lm.corpus.plan_docs import _adv, _wrong_acts
from twosome.lm.corpus.procedures import make_plan
from twosome.lm.corpus.split import HELDOUT
from twosome.lm.corpus.things import THINGS
from twosome.lm.corpus.words import cap
from twosome.lm.corpus.world import Act, relevant_facts, why_not


def _probe_next_step(rng: random.Random) -> dict | None:
    plan = make_plan(rng, "heldout")
    i = rng.randrange(len(plan.steps))
    step = plan.steps[i]
    w = step.before

    def canon(act: Act) -> str:
        return act_variants(act, plan, w)[0]

    gold = canon(step.act)
    # Wrong choices: acts of the procedure that make no sense now; none may read like an act that does.
    cands = [s.act for s in plan.steps] + [Act("pick", x) for x in plan.extras]
    sensible = {canon(act) for act in cands if why_not(w, act, plan) is None}
    wrong: dict[str, Act] = {}
    for act, _ in _wrong_acts(plan, w, step.act):
        text = canon(act)
        if text != gold and text not in sensible:
            wrong.setdefault(text, act)
    if len(wrong) < 3:
        return None
    texts = list(wrong)
    rng.shuffle(texts)
    texts.sort(key=lambda x: abs(len(x.split()) - len(gold.split())))
    chosen = texts[:3]
    # The query states the facts that make the right step right and the wrong ones wrong.
    facts = list(relevant_facts(w, step.act, plan)[0])
    for text in chosen:
        facts += relevant_facts(w, wrong[text], plan)[0]
    facts = list(dict.fromkeys(facts))
    inside = {x for f in facts if f[0] == "contents" for x in f[2]}
    facts = [f for f in facts if not (f[0] == "at" and f[1] in inside)]
    say = _Say(plan, rng)
    clauses = [say.clause(f, w) for f in facts]
    goal = rng.choice(goal_phrases(plan))
    cond = clauses_text(clauses, rng, sentences=False)
    Cond = clauses_text(clauses, rng)
    adv = _adv(i, rng)
    query = rng.choice(
        [
            f"{Cond} To {goal}, you should {adv}",
            f"You want to {goal}. {Cond} Next you should",
            f"You want to {goal}. If {cond}, the next step is to",
            f"Task: {goal}. {Cond} You should {adv}",
        ]
    )
    choices = [gold, *chosen]
    rng.shuffle(choices)
    return {"query": cap(query), "choices": choices, "gold": choices.index(gold)}


def _probe_schema_fact(rng: random.Random) -> dict | None:
    schema, query, answer, wrong_pool = rng.choice(SCHEMA_FACTS)
    pool = sorted(HELDOUT.get(schema, ()))
    if schema in ("salad", "soup", "sandwich"):
        pool = [x for x in pool if "chop" in THINGS[x].tags]
    if not pool:
        return None
    x = rng.choice(pool)
    wrong = rng.sample([w for w in wrong_pool if w != answer], 3)
    choices = [answer, *wrong]
    rng.shuffle(choices)
    return {"query": _fill(query, x), "choices": choices, "gold": choices.index(answer)}


def knowledge_probes(seed: int = 0, n: int = 200) -> list[dict]:
    """Multiple-choice questions about the reserved (held-out) combinations, lm-eval-harness style.

    Each probe is ``{"query": str, "choices": [str, ...], "gold": int}``: score each choice by
    ``log P(choice | query)``, the two joined by lm-eval's one-space target delimiter. About two thirds are
    state-conditioned next steps of held-out procedures (the wrong choices are steps of the same procedure that
    make no sense in the stated state: already done, not yet possible, or not needed); the rest are schema facts
    ("To keep the yogurt cold, you put it in the" -> "fridge"). Exactly one choice is right by the knowledge base.
    """
    rng = random.Random(f"twosome-probes:{seed}")
    probes: list[dict] = []
    seen: set[str] = set()
    tries = 0
    while len(probes) < n:
        tries += 1
        if tries > 200 * n:
            raise RuntimeError("could not generate enough distinct probes")
        probe = _probe_next_step(rng) if rng.random() < 0.67 else _probe_schema_fact(rng)
        if probe is None or probe["query"] in seen or _forbidden(probe["query"]):
            continue
        seen.add(probe["query"])
        probes.append(probe)
    return probes
