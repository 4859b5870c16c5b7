"""Generated pretraining corpus of general household and cooking English, and held-out knowledge probes: the data
the embedded default model (``twosome.lm.pretrain``) is trained on. Nothing else in the suite depends on how it is
made; this package's public face is ``documents``, ``sentences``, ``knowledge_probes`` and the word lists.

The text renders a knowledge base (``things``: objects with properties; ``world`` and ``procedures``: procedures
computed step by step on a small world state) in many styles (``plan_docs``, ``fact_docs``, ``decisive``), built
from varied phrasings of states, acts and goals (``words``, ``clauses``, ``acts``). Every "next step" sentence states
the state it depends on (what is in hand, what is chopped, what is open or switched on, where things are), so that a
model learns to condition on the state rather than on the position in a recipe.

It is never an environment transcript: no observation prompt is copied, no simulator rule (capacities, step counts,
rewards, failures) is stated, and ``guard`` drops any document with a phrase characteristic of the environments'
prompts.

Held-out split (``split``): ``documents(split="train")`` never shows a reserved (schema, object) combination;
``documents(split="heldout")`` shows only procedures and schema facts that contain one, rendered with the same
templates, so held-out perplexity measures generalisation to new combinations. ``knowledge_probes`` (``probes``)
asks multiple-choice questions about the reserved combinations only. ``writer`` mixes the documents.
"""

from twosome.lm.corpus.probes import knowledge_probes
from twosome.lm.corpus.words import ADJ, FOODS, FURNITURE, ROOMS, TOOLS, VERBS
from twosome.lm.corpus.writer import documents, sentences

__all__ = ["ADJ", "FOODS", "FURNITURE", "ROOMS", "TOOLS", "VERBS", "documents", "knowledge_probes", "sentences"]
