"""Documents that walk through one procedure: how-to lists, prose instructions, stories in the first, second and
third person, state-by-state traces, "next step" questions and answers, contrasts that say why a tempting step is
wrong ("the tomato is already in your hand") and dialogues. They are never environment transcripts.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from twosome.lm.corpus.acts import goal_phrases
from twosome.lm.corpus.clauses import _Say, clauses_text
from twosome.lm.corpus.things import THINGS
from twosome.lm.corpus.words import _NAMES, a, be, cap, conj, join
from twosome.lm.corpus.world import Act, Plan, World, why_not

_FIRSTS = ["first", "to begin,", "to start,"]
_THENS = ["then", "next", "after that", "now", "once that is done,", "after this"]


def _adv(i: int, rng: random.Random) -> str:
    return rng.choice(["first", "first"]) if i == 0 else rng.choice(["now", "next", "now"])


def doc_howto(plan: Plan, rng: random.Random) -> str:
    say = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    title = rng.choice([f"How to {goal}", f"How to {goal}:", f"{cap(goal)} in {len(plan.steps)} steps", cap(goal)])
    lines = [title]
    if plan.schema in ("salad", "soup", "sandwich") and rng.random() < 0.6:
        needs = [a(x) for x in sorted(plan.needed)] + ["a knife", "a cutting board"]
        needs += {"salad": ["a bowl"], "soup": ["a pot", "a bowl"], "sandwich": ["a plate"]}[plan.schema]
        lines.append(rng.choice(["You need: ", "You will need ", "Ingredients and tools: "]) + join(needs) + ".")
    numbered = rng.random() < 0.7
    for i, step in enumerate(plan.steps):
        text = cap(say.act(step.act, step.before))
        if rng.random() < 0.12:
            clauses = say.state(step.before, step.act, 0)[:2]
            text += rng.choice([", because ", " since "]) + join(clauses)
        lines.append(f"{i + 1}. {text}." if numbered else f"- {text}.")
    if rng.random() < 0.4:
        lines.append(rng.choice(["That's it.", "Enjoy!", "Done.", "Now you are finished."]))
    return "\n".join(lines)


def doc_prose(plan: Plan, rng: random.Random) -> str:
    say = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    parts: list[str] = []
    n = len(plan.steps)
    ordinal = rng.random() < 0.15
    for i, step in enumerate(plan.steps):
        act = say.act(step.act, step.before)
        if ordinal and i < 3:
            parts.append(f"The {('first', 'second', 'third')[i]} step is to {act}.")
        elif i == 0:
            parts.append(f"To {goal}, {rng.choice(_FIRSTS)} {act}.")
        elif i == n - 1:
            parts.append(f"{rng.choice(['Finally', 'Last', 'In the end'])}, {act}.")
        elif rng.random() < 0.25:
            clause = say.key_clause(step.before, step.act)
            parts.append(f"{cap(rng.choice(['when', 'once', 'as soon as']))} {clause}, {act}.")
        else:
            parts.append(cap(f"{rng.choice(_THENS)} {act}."))
    return " ".join(parts)


def doc_story(plan: Plan, rng: random.Random) -> str:
    name, pron = rng.choice(_NAMES)
    person = rng.choice(["third", "third", "first", "second"])
    past = person != "second" and rng.random() < 0.8
    if person == "third":
        subj, say = name, _Say(plan, rng, pron, past)
    elif person == "first":
        subj, say = "I", _Say(plan, rng, "I", past)
    else:
        subj, say = "you", _Say(plan, rng, "you", False)
    form = "past" if past else ("s" if person == "third" else "base")
    goal = rng.choice(goal_phrases(plan))
    want = {"past": "wanted", "s": "wants", "base": "want"}[form]
    opener = {
        "third": [f"{name} {want} to {goal}.", f"One evening, {name} {want} to {goal}.", f"{name} was hungry."],
        "first": [f"I {want} to {goal}.", f"Yesterday I {want} to {goal}.", f"This morning I decided to {goal}."],
        "second": [f"You want to {goal}.", f"Imagine you want to {goal}."],
    }[person]
    sents = [rng.choice(opener[:2]) if plan.schema not in ("salad", "soup", "sandwich") else rng.choice(opener)]
    if sents[0].endswith("was hungry."):
        sents.append(f"{cap(pron)} decided to {goal}.")
    cur = subj
    for i, step in enumerate(plan.steps):
        act = say.act(step.act, step.before, form=form)
        if rng.random() < 0.2:
            clause = say.key_clause(step.before, step.act)
            sents.append(cap(f"{clause}, so {say.p['S']} {act}."))
        elif i and rng.random() < 0.5:
            then = rng.choice(_THENS).replace(" is done", " was done" if past else " is done")
            sents.append(cap(f"{then} {say.p['S'] if rng.random() < 0.8 else cur} {act}."))
        else:
            sents.append(cap(f"{cur} {act}."))
        cur = say.p["S"] if person != "second" else "you"
    if rng.random() < 0.5:
        end = (
            {
                "third": [f"{cap(pron)} was happy.", "It was a good evening.", f"{name} smiled."],
                "first": ["I was happy.", "It worked well.", "That was easy."],
            }.get(person, [])
            if past
            else {
                "third": [f"{cap(pron)} is happy.", f"{name} smiles."],
                "first": ["I am happy.", "That was easy."],
                "second": ["You are done.", "Well done."],
            }[person]
        )
        sents.append(rng.choice(end))
    return " ".join(sents)


def doc_trace(plan: Plan, rng: random.Random) -> str:
    """Walk through the plan stating the relevant state before each step."""
    say = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    sents = [rng.choice([f"You want to {goal}.", f"Your task is to {goal}.", f"Goal: {goal}.", f"Let's {goal}."])]
    for i, step in enumerate(plan.steps):
        clauses = say.state(step.before, step.act, rng.choice([0, 0, 1]))
        if rng.random() < 0.3 and len(clauses) > 1:
            clauses = clauses[:1] if clauses[0].startswith(("your hands", "you are holding")) else clauses
        act = say.act(step.act, step.before)
        cond = clauses_text(clauses, rng, sentences=False)
        r = rng.random()
        if r < 0.35:
            sents.append(cap(f"{cond}, so {_adv(i, rng)} {act}."))
        elif r < 0.55:
            sents.append(cap(f"{cond}.") + " " + cap(f"{_adv(i, rng)} {act}."))
        elif r < 0.7:
            sents.append(cap(f"since {cond}, {_adv(i, rng)} {act}."))
        elif r < 0.85:
            sents.append(cap(f"{cond}.") + f" The next step is to {act}.")
        else:
            sents.append(cap(f"{cond}.") + f" You should {_adv(i, rng)} {act}.")
    if rng.random() < 0.5:
        sents.append(rng.choice(["Now the task is done.", "That is all.", "And you are finished."]))
    return " ".join(sents)


def _next_step_item(plan: Plan, i: int, rng: random.Random) -> str:
    say = _Say(plan, rng)
    step = plan.steps[i]
    w, act_ = step.before, step.act
    goal = rng.choice(goal_phrases(plan))
    clauses = say.state(w, act_)
    act = say.act(act_, w)
    cond = clauses_text(clauses, rng, sentences=False)
    Cond = clauses_text(clauses, rng)
    adv = _adv(i, rng)
    hold = w.hand
    templates: list[Callable[[], str]] = [
        lambda: f"If {cond}, the next step is to {act}.",
        lambda: f"If {cond}, you should {adv} {act}.",
        lambda: f"When {cond}, {act}.",
        lambda: f"Since {cond}, {adv} {act}.",
        lambda: f"{Cond} To {goal}, you should {adv} {act}.",
        lambda: f"{Cond} What should you do next to {goal}? {cap(act)}.",
        lambda: f"You want to {goal}. {Cond} Next you should {act}.",
        lambda: f"Goal: {goal}. State: {cond}. Next action: {act}.",
        lambda: f"Q: {Cond} You want to {goal}. What is the next step?\nA: The next step is to {act}.",
        lambda: f"Because {cond}, the next thing to do is {conj(act, 'ing')}.",
        lambda: f"{Cond} The next step is to {act}.",
        lambda: f"Task: {goal}. {Cond} You should {adv} {act}.",
        lambda: f"{cap(cond)}, so {act} next.",
    ]
    if hold is not None:
        np_ = say.np(hold, w)
        templates.append(lambda: f"With {np_} in hand, {act}.")
        templates.append(lambda: f"If you are holding {np_}, the next step is to {act}.")
    elif i == 0:
        templates.append(lambda: f"When your hands are empty and you want to {goal}, first {act}.")
    if act_.verb in ("chop", "move", "pick") and w.has(act_.obj, "chopped"):
        templates.append(lambda: f"Once the {act_.obj} {be(act_.obj)} chopped, {act}.")
    if act_.verb in ("open", "put") and (act_.target or act_.obj) in THINGS:
        y = act_.obj if act_.verb == "open" else act_.target
        if "open" in THINGS[y].tags and not w.has(y, "open"):
            templates.append(lambda: f"Since the {y} is closed, {adv} {act}.")
    text = rng.choice(templates)()
    return cap(text)


def doc_next_steps(plans: list[Plan], rng: random.Random) -> str:
    items = []
    for plan in plans:
        for i in rng.sample(range(len(plan.steps)), min(len(plan.steps), rng.randint(1, 3))):
            items.append(_next_step_item(plan, i, rng))
    return ("\n\n" if rng.random() < 0.5 else " ").join(items)


def _wrong_acts(plan: Plan, w: World, gold: Act) -> list[tuple[Act, str]]:
    """Acts of the plan (and picking up unneeded things) that make no sense in ``w``, each with the reason."""
    cands = [s.act for s in plan.steps] + [Act("pick", x) for x in plan.extras]
    out, seen = [], {gold}
    for act in cands:
        if act in seen:
            continue
        seen.add(act)
        reason = why_not(w, act, plan)
        if reason is not None:
            out.append((act, reason))
    return out


def doc_contrast(plan: Plan, rng: random.Random) -> str:
    say = _Say(plan, rng)
    i = rng.randrange(len(plan.steps))
    step = plan.steps[i]
    wrong = _wrong_acts(plan, step.before, step.act)
    # Prefer mistakes about what was just done (repeating a step) and those close in time.
    wrong.sort(
        key=lambda aw: abs([s.act for s in plan.steps].index(aw[0]) - i) if aw[0] in [s.act for s in plan.steps] else 0
    )
    wrong = wrong[: rng.randint(1, 3)]
    goal = rng.choice(goal_phrases(plan))
    cond = clauses_text(say.state(step.before, step.act, rng.choice([0, 1])), rng)
    act = say.act(step.act, step.before)
    sents = [rng.choice([f"You want to {goal}.", f"You are trying to {goal}.", f"Suppose you want to {goal}."]), cond]
    for bad, reason in wrong:
        b = say.act(bad, step.before)
        sents.append(
            rng.choice(
                [
                    f"There is no need to {b}, because {reason}.",
                    f"Do not {b}: {reason}.",
                    f"It makes no sense to {b} now, since {reason}.",
                    f"You might think of {conj(b, 'ing')}, but {reason}.",
                    f"{cap(b)}? No, {reason}.",
                ]
            )
        )
    sents.append(
        rng.choice([f"Instead, {act}.", f"The right step is to {act}.", f"What you should do is {act}.", f"So {act}."])
    )
    return " ".join(cap(s) for s in sents if s)


def doc_dialogue(plan: Plan, rng: random.Random) -> str:
    (n1, _), (n2, _) = rng.sample(_NAMES, 2)
    me = _Say(plan, rng, "I")
    you = _Say(plan, rng)
    goal = rng.choice(goal_phrases(plan))
    lines = [f"{n1}: I want to {goal}. What should I do first?"]
    steps = plan.steps
    start = 0
    if len(steps) > 6 and rng.random() < 0.5:
        start = rng.randrange(len(steps) - 4)
        lines = [
            f"{n1}: I am trying to {goal}. "
            + cap(clauses_text(me.state(steps[start].before, steps[start].act), rng))
            + " What now?"
        ]
    end = min(len(steps), start + rng.randint(3, 7))
    for i in range(start, end):
        step = steps[i]
        act = you.act(step.act, step.before)
        lines.append(f"{n2}: {cap(rng.choice(['', 'now ', 'next, ', 'okay, ']) + act)}." if i else f"{n2}: {cap(act)}.")
        if i + 1 < end:
            nxt = steps[i + 1]
            clause = me.key_clause(nxt.before, nxt.act)
            ask = rng.choice(["What now?", "What next?", "And then?"])
            lines.append(f"{n1}: {rng.choice(['Done. ', 'Okay. ', ''])}{cap(clause)}. {ask}")
    if end == len(steps) and rng.random() < 0.5:
        lines.append(f"{n1}: Thanks!")
    return "\n".join(lines)
