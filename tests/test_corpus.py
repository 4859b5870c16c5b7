"""The generated pretraining corpus: determinism, size, no leakage of environment prompts, vocabulary coverage,
the held-out split, internal consistency of the knowledge base, and the knowledge probes."""

from __future__ import annotations

import hashlib
import json
import random
import re

import gymnasium as gym
import pytest

import twosome.envs  # noqa: F401  (registers the environments)
from twosome.lm import corpus
from twosome.lm.corpus import procedures, split, world
from twosome.lm.corpus.acts import goal_phrases
from twosome.lm.corpus.guard import _forbidden
from twosome.lm.corpus.writer import _generate

OVERCOOKED = ("twosome/Overcooked-TomatoSalad-v0", "twosome/Overcooked-TomatoLettuceSalad-v0")

# The VirtualHome example prompt (the environment is not implemented yet) and its action texts.
VIRTUALHOME_PROMPT = (
    "There are four rooms: the kitchen, bathroom, bedroom, and living room. You are in the kitchen. "
    "You notice pancake and microwave. Currently, you are not grabbing anything in hand. "
    "The pancake and the microwave are not close to you. The microwave is not opend. "
    "In order to heat up the pancake in the microwave, your next step is to"
)
VIRTUALHOME_ACTIONS = [
    "walk to the kitchen",
    "walk to the bathroom",
    "walk to the bedroom",
    "walk to the living room",
    "grab the pancake",
    "put the pancake in the microwave",
    "open the microwave",
    "close the microwave",
    "turn on the TV",
    "sit on the sofa",
    "put the chips on the coffee table",
    "grab the chips",
    "grab the milk",
]


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


@pytest.fixture(scope="module")
def env_texts() -> tuple[set[str], set[str]]:
    """Every distinct observation prompt and action text seen in random episodes of the Overcooked envs."""
    prompts: set[str] = {VIRTUALHOME_PROMPT}
    actions: set[str] = set()
    for env_id in OVERCOOKED:
        for view_radius in (2, 0):
            env = gym.make(env_id, view_radius=view_radius)
            for seed in range(20):
                rng = random.Random(seed)
                _, info = env.reset(seed=seed)
                prompts.add(info["prompt"])
                actions.update(info["actions"])
                for _ in range(200):
                    _, _, terminated, truncated, info = env.step(rng.randrange(len(info["actions"])))
                    prompts.add(info["prompt"])
                    actions.update(info["actions"])
                    if terminated or truncated:
                        break
            env.close()
    assert len(prompts) > 50 and "pick up the tomato" in actions
    return prompts, actions


@pytest.fixture(scope="module")
def train_docs() -> list[str]:
    return list(corpus.documents(500_000, seed=0))


@pytest.fixture(scope="module")
def train_text(train_docs) -> str:
    return "\n".join(train_docs)


@pytest.fixture(scope="module")
def heldout_docs() -> list[str]:
    return list(corpus.documents(100_000, seed=0, split="heldout"))


def test_public_word_lists():
    for name in ("ROOMS", "FOODS", "TOOLS", "FURNITURE", "VERBS", "ADJ"):
        words = getattr(corpus, name)
        assert isinstance(words, list) and len(words) >= 6 and all(isinstance(w, str) and w for w in words)
    assert {"kitchen", "bathroom", "bedroom", "living room"} <= set(corpus.ROOMS)
    assert {"tomato", "lettuce", "onion", "pancake", "chips", "milk"} <= set(corpus.FOODS)
    sents = list(corpus.sentences(500, seed=3))
    assert len(sents) == 500 and sents == list(corpus.sentences(500, seed=3))
    assert all(s and len(s.split()) < 80 for s in sents)


# sha256 of generated outputs. The shipped default model (models/tiny-household) is trained on this corpus: a change
# here is a change of the model's recipe, so rebuild the model (python -m twosome.lm.pretrain) and update the hashes.
GOLDEN = {
    "train": "7d5abd0c0926eb33b293a6c73654f2c5c58fa4d38a1ad5364ab223cca1b2a744",
    "heldout": "28dac67f721a1fb8af9faf913f990e2291fc8c94d772eafc35d6cc84b4abdab2",
    "sentences": "b51c904dffc9651b58f235ea9458956543d42b5026e4e901b1de11180554ee41",
    "probes": "dd14c169a1ebe18f5a8bfd25cc900029169ead76aec9383e0fe863b2f44679ae",
}


def test_outputs_unchanged():
    """Byte-identical to the corpus the shipped model's recipe was checked against (a refactor changes nothing)."""
    outputs = {
        "train": "\x00".join(corpus.documents(20_000, seed=2)),
        "heldout": "\x00".join(corpus.documents(20_000, seed=2, split="heldout")),
        "sentences": "\n".join(corpus.sentences(3000, seed=1)),
        "probes": json.dumps(corpus.knowledge_probes(seed=0, n=200)),
    }
    assert {k: hashlib.sha256(v.encode()).hexdigest() for k, v in outputs.items()} == GOLDEN


def test_deterministic_and_seed_dependent():
    a = list(corpus.documents(20_000, seed=1))
    assert a == list(corpus.documents(20_000, seed=1))
    b = list(corpus.documents(20_000, seed=2))
    assert a != b and len(set(a) & set(b)) < len(a) // 10
    h = list(corpus.documents(20_000, seed=1, split="heldout"))
    assert h == list(corpus.documents(20_000, seed=1, split="heldout")) and h != a
    with pytest.raises(ValueError):
        next(corpus.documents(10, split="validation"))


def test_size_and_variety():
    """The size asked for, in varied documents (its speed is a timing: pytest --durations shows it, no assertion)."""
    docs = list(corpus.documents(200_000, seed=0))
    words = sum(len(d.split()) for d in docs)
    assert 180_000 <= words <= 220_000
    assert len(set(docs)) > 0.95 * len(docs)  # documents are varied, not repeated


def test_varied_styles(train_docs):
    text = "\n".join(train_docs[:3000])
    for marker in (
        "\n1. ",
        "Q: ",
        "A: ",
        "Goal: ",
        "How to ",
        "If you are holding",
        "the next step is to",
        " was ",
        " I ",
    ):
        assert marker in text, marker
    starts = {d.split()[0] for d in train_docs}
    assert len(starts) > 50
    n_templates = len({re.sub(r"\b(the|a|an|some) [a-z ]+?\b", "", d[:40]) for d in train_docs})
    assert n_templates > 200


def test_no_environment_prompt_leaks(env_texts, train_text):
    prompts, _ = env_texts
    low = train_text.lower()
    sents = {s for p in prompts for s in _sentences(p)}
    checked = 0
    for s in sorted(sents):
        variants = {s, re.sub(r"^Currently,? ", "", s)}
        for v in variants:
            if len(v.split()) >= 6:
                checked += 1
                assert v.lower() not in low, f"environment sentence found in the corpus: {v!r}"
    assert checked > 40
    for p in prompts:
        assert p.lower() not in low


def test_guard_never_triggers(train_docs):
    # The guard drops documents with phrasing typical of the environments; the templates never produce it.
    assert not any(_forbidden(d) for d in train_docs[:2000])
    assert _forbidden("Currently you are carrying a chopped tomato in hand.")


def test_action_vocabulary_covered(env_texts, train_text):
    _, actions = env_texts
    words = set(re.findall(r"[a-z]+", train_text.lower()))
    for action in [*actions, *VIRTUALHOME_ACTIONS]:
        for word in action.lower().split():
            assert word in words, f"{word!r} (from {action!r}) never appears in the corpus"
    # The everyday action phrases themselves appear (as general English, in many contexts).
    for action in [*actions, *VIRTUALHOME_ACTIONS]:
        if not re.search(r"nothing|first|second|empty|the bowl on", action):
            assert action in train_text, action
    assert "TV" in train_text and "coffee table" in train_text


def test_state_conditioned_phrasing(train_text):
    for phrase in (
        "If you are holding",
        "With the",
        "Once the",
        "Since the microwave is closed",
        "When your hands are empty",
        "is already in your hand",
        "There is no need to",
        "chopped",
        "unchopped",
    ):
        assert phrase in train_text, phrase
    # Holding an unchopped vegetable and holding a chopped one lead to different next steps.
    whole = re.findall(
        r"If you are holding (?:the|a|an) (?:whole|unchopped|uncut) \w+, the next step is to ([^.]+)", train_text
    )
    chopped = re.findall(r"If you are holding (?:the|a) (?:chopped|diced) \w+, the next step is to ([^.]+)", train_text)
    assert len(whole) >= 2 and len(chopped) >= 2
    assert not any(re.search(r"bowl|pot\b|serve|chop|dice", step) for step in whole), whole
    assert not any(re.search(r"cutting board|chop|dice|cut|pick up|grab", step) for step in chopped), chopped


def test_plans_are_consistent():
    """Every step of every procedure makes sense in the state it is taken in, and each state is described."""
    rng = random.Random(0)
    for i in range(1500):
        plan = procedures.make_plan(rng, "train" if i % 3 else "heldout")
        assert plan.steps
        for step in plan.steps:
            assert world.why_not(step.before, step.act, plan) is None, (plan.schema, plan.objs, step.act)
            core, _ = world.relevant_facts(step.before, step.act, plan)
            assert core and core[0][0] == "hand"
    # why_not catches the mistakes the corpus warns about.
    w = world.World("kitchen")
    w.loc["tomato"] = "hand"
    w.hand = "tomato"
    assert world.why_not(w, world.Act("pick", "tomato")) == "the tomato is already in your hand"
    assert world.why_not(w, world.Act("chop", "tomato")) is not None
    assert world.why_not(w, world.Act("open", "microwave")) is None
    w.set("microwave", "open")
    assert world.why_not(w, world.Act("open", "microwave")) is not None
    assert world.why_not(w, world.Act("on", "microwave")) is not None  # door open


def test_heldout_split_is_separate(train_docs, heldout_docs, train_text):
    assert heldout_docs and not set(heldout_docs) & set(train_docs)
    reserved = set(split.heldout_combos())
    for _, combos in _generate(200_000, 0, "train"):
        assert not combos & reserved
    n = 0
    for _, combos in _generate(50_000, 0, "heldout"):
        assert combos & reserved
        n += 1
    assert n > 100
    # The goals of reserved combinations are never written in training text.
    for schema, obj in sorted(reserved):
        plan = world.Plan(schema, (obj,), [], world.World("kitchen"))
        for phrase in goal_phrases(plan):
            if obj in phrase:
                assert phrase not in train_text, (schema, obj, phrase)
    # ... but the reserved objects do appear in training text, in other contexts.
    for obj in {o for _, o in reserved}:
        assert f" {obj}" in train_text, obj


def test_knowledge_probes(train_text):
    probes = corpus.knowledge_probes(seed=0, n=200)
    assert len(probes) == 200
    assert probes == corpus.knowledge_probes(seed=0, n=200)
    assert probes != corpus.knowledge_probes(seed=1, n=200)
    for p in probes:
        assert set(p) == {"query", "choices", "gold"}
        assert isinstance(p["query"], str) and p["query"] and not p["query"].endswith(" ")
        choices = p["choices"]
        assert len(choices) >= 3 and len(set(choices)) == len(choices)
        assert all(c == c.strip() and c for c in choices)  # lm-eval's target delimiter adds the one space
        assert 0 <= p["gold"] < len(choices)
        lengths = [len(c.split()) for c in choices]
        assert max(lengths) - min(lengths) <= 5, choices
        # Held out: the correct completion is never written in training text.
        assert (p["query"] + " " + choices[p["gold"]]).lower() not in train_text.lower()
    assert len({p["query"] for p in probes}) == len(probes)
    assert len({p["gold"] for p in probes}) > 1  # the right answer is not always in the same place
    assert sum(p["query"].startswith("To ") for p in probes) >= 15  # schema facts
    assert sum("next" in p["query"].lower() or "should" in p["query"] for p in probes) >= 100  # next steps


def test_probe_topics_are_heldout():
    reserved_objs = {o for _, o in split.heldout_combos()}
    for p in corpus.knowledge_probes(seed=0, n=100):
        assert any(re.search(rf"\b{re.escape(o)}\b", p["query"]) for o in reserved_objs | {"balcony"}), p["query"]


def test_decisive_kitchen_steps_are_frequent():
    """Chop the whole food on the board with empty hands, take the bowl while holding the chopped food, serve a
    complete bowl: each is frequent and shown for many foods, in common English around the game's states."""
    log: list = []
    text = "\n".join(d for d, _ in _generate(300_000, 0, "train", log))
    for kind in ("chop", "take", "serve"):
        foods = [x for k, x in log if k == kind]
        assert len(foods) >= 200 and len(set(foods)) >= 10, (kind, len(foods), len(set(foods)))
    assert not {x for _, x in log} & split.HELDOUT["salad"]
    for phrase in ("standing in front of the cutting board", "empty-handed", "serve the dish", "take the bowl"):
        assert phrase in text, phrase
    assert "to serve the dish of a bowl only containing" not in text.lower()
