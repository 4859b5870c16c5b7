"""The leak guard: phrases and sentence shapes characteristic of the environments' prompts. The writer drops a
document (and the probes a question) containing one; the templates are written so that this never happens, which the
tests check. What the simulators do exactly is left for RL to learn.
"""

from __future__ import annotations

import re

# Phrases characteristic of the environments' prompts: a document containing one is dropped (a guard; the
# templates are written so that this never happens, which tests check).
_FORBIDDEN_PHRASES = (
    "fixed cutting board",
    "don't have anything in hand",
    "currently you",
    "currently, you",
    "on the different tables",
    "not grabbing anything",
    "only containing",
    "serve the dish of",
    "your next step is to",
    "not close to you",
    "there are four rooms",
    "you notice",
    "is not opend",
)
_FORBIDDEN_CARRYING = re.compile(r"carrying (?:a|an|the) (?:[a-z]+ ){1,3}in hand")
# Exact sentence shapes of the environments (the generic phrasings around them are allowed).
_FORBIDDEN_SHAPES = re.compile(
    r"in front of the (?:first |second )?cutting board without anything in hand\.|"
    r"carrying a bowl containing (?:a )?chopped [a-z]+(?: and [a-z]+)?\.|"
    r"(?:^|[.!?]\s+)(?:a|an) (?:bowl containing (?:a )?)?(?:chopped |unchopped )?[a-z]+(?: and [a-z]+)? is on the "
    r"(?:first |second )?cutting board\."
)


def _forbidden(text: str) -> bool:
    low = text.lower()
    if any(p in low for p in _FORBIDDEN_PHRASES):
        return True
    return _FORBIDDEN_CARRYING.search(low) is not None or _FORBIDDEN_SHAPES.search(low) is not None
