"""The writer: mixes the document kinds in fixed proportions, seeded, into ``documents`` (the pretraining text of
a split, about ``n_words`` words) and ``sentences`` (short sentences for tokenizer training and synthetic prompts).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator

from twosome.lm.corpus.decisive import doc_decisive
from twosome.lm.corpus.fact_docs import doc_lists, doc_nav, doc_qa, doc_room, doc_schema_facts, doc_thing_facts
from twosome.lm.corpus.guard import _forbidden
from twosome.lm.corpus.plan_docs import (
    doc_contrast,
    doc_dialogue,
    doc_howto,
    doc_next_steps,
    doc_prose,
    doc_story,
    doc_trace,
)
from twosome.lm.corpus.procedures import make_plan

_PLAN_DOCS = {
    "howto": (doc_howto, 9),
    "prose": (doc_prose, 8),
    "story": (doc_story, 10),
    "trace": (doc_trace, 16),
    "contrast": (doc_contrast, 8),
    "dialogue": (doc_dialogue, 5),
}
_OTHER_DOCS = {"decisive": 14, "next": 18, "schema_facts": 5, "facts": 8, "room": 3, "lists": 3, "qa": 4, "nav": 3}


def _generate(n_words: int, seed: int, split: str, log: list | None = None) -> Iterator[tuple[str, set]]:
    """(document, the (schema, object) combinations it shows) until about ``n_words`` words. With ``log``, the
    decisive kitchen steps of the documents ((kind, food) pairs, see ``doc_decisive``) are appended to it."""
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', got {split!r}")
    rng = random.Random(f"twosome-corpus:{split}:{seed}")
    kinds = list(_PLAN_DOCS) + list(_OTHER_DOCS)
    if split == "heldout":
        kinds = list(_PLAN_DOCS) + ["next", "schema_facts"]
    weights = [_PLAN_DOCS[k][1] if k in _PLAN_DOCS else _OTHER_DOCS[k] for k in kinds]
    words = 0
    while words < n_words:
        kind = rng.choices(kinds, weights)[0]
        combos: set = set()
        if kind in _PLAN_DOCS:
            plan = make_plan(rng, split)
            text, combos = _PLAN_DOCS[kind][0](plan, rng), plan.combos
        elif kind == "next":
            plans = [make_plan(rng, split) for _ in range(rng.randint(1, 3))]
            text = doc_next_steps(plans, rng)
            combos = set().union(*(p.combos for p in plans))
        elif kind == "decisive":
            recs: list = []
            text, combos = doc_decisive(rng, split, recs)
        elif kind == "schema_facts":
            text, combos = doc_schema_facts(rng, split)
        elif kind == "facts":
            text, combos = doc_thing_facts(rng, split)
        elif kind == "room":
            text = doc_room(rng, split)
        elif kind == "lists":
            text, combos = doc_lists(rng, split)
        elif kind == "qa":
            text, combos = doc_qa(rng, split)
        else:
            text = doc_nav(rng)
        if not text or _forbidden(text):
            continue
        if kind == "decisive" and log is not None:
            log.extend(recs)
        words += len(text.split())
        yield text, combos


def documents(n_words: int, seed: int = 0, split: str = "train") -> Iterator[str]:
    """Yield documents (each a paragraph or a few, plain English) until about ``n_words`` words.

    ``split="train"`` never shows a reserved (schema, object) combination of :data:`twosome.lm.corpus.split.HELDOUT`;
    ``split="heldout"`` shows only procedures and facts that contain one. Deterministic in (``seed``, ``split``).
    """
    for text, _ in _generate(n_words, seed, split):
        yield text


_SENT_SPLIT = re.compile(r"(?<=[.!?])\s+|\n+")
_ENUMERATOR = re.compile(r"[\d.\-]+")


def sentences(n: int, seed: int = 0) -> Iterator[str]:
    """Yield ``n`` short sentences of training text (for tokenizer training), deterministic in ``seed``."""
    count = 0
    while True:
        for doc in documents(50_000, seed=seed):
            for s in _SENT_SPLIT.split(doc):
                s = s.strip()
                if s and not _ENUMERATOR.fullmatch(s):
                    yield s
                    count += 1
                    if count >= n:
                        return
        seed += 1_000_003
