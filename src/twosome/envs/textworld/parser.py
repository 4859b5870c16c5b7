"""Whether the game's parser understood a command: TextWorld's games are Inform 7 stories, whose parser answers a
command it cannot read with one of a fixed set of parser errors. A command it reads may still fail in the world
("That's already open.", "You can't go that way."): that is the game's answer to an understood command, not a
refusal. The answers are matched after ``env.clean`` (one line, whitespace collapsed)."""

from __future__ import annotations

import re

# Inform 7's parser errors (its Standard Rules' "parser error" responses), as the compiled games print them.
PARSER_ERRORS = (
    r"That's not a verb I recogni[sz]e\.",
    r"You can't see any such thing\.",
    r"You can't see [\"'].*[\"'] \(.*\) at the moment\.",
    r"I only understood you as far as .*",
    r"I didn't understand that (sentence|number)\.",
    r"I didn't understand the way that finished\.",
    r"You seem to have said too little!",
    r"You seem to want to talk to someone, but I can't see whom\.",
    r"You can't use multiple objects with that verb\.",
    r"You can only use multiple objects once on a line\.",
    r"You excepted something not included anyway!",
    r"You can only do that to something animate\.",
    r"That noun did not make sense in this context\.",
    r"To repeat a command like 'frog, jump', just say 'again', not 'frog, again'\.",
    r"I beg your pardon\?",
    r"There are none at all available!",
    r"Nothing to do!",
    r"(What|Whom) do you want to .*\?",  # a command missing its object: the parser asks instead of acting
    r"Which do you mean, .*\?",  # an ambiguous object: the parser asks instead of acting
)
_REFUSAL = re.compile(r"^\s*(" + "|".join(PARSER_ERRORS) + r")")


def refused(answer: str) -> bool:
    """True when ``answer`` (the game's reply to one command) is one of the parser's errors."""
    return bool(_REFUSAL.match(answer))


def command_of(text: str) -> str:
    """What is sent to the parser of a written text: its first sentence, without trailing punctuation (Inform reads
    "take apple. go north" as two commands, and a decision is one)."""
    first = re.split(r"[.!?;\n]\s", text.strip() + " ", maxsplit=1)[0]
    return first.strip().rstrip(".,;:!?\"'").strip()
