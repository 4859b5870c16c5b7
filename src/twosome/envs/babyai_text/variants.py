"""GLAM's language generalization tests: the same tasks told with other words.

The word lists are the original's (``experiments/post-training_tests.py``: ``dict_modifier_english`` and
``dict_modifier_name``; ``experiments/configs/*.yaml``: ``new_action_space``; ``experiments/agents/base_agent.py``:
``dict_translation_actions`` and ``generate_prompt_french``). As there, a word swap is a plain ``str.replace`` of
each key, in order, over the whole prompt (goal, observations and past actions alike); the actions the agent
chooses from are not swapped (they contain none of the words), except in the action variants, which replace them.

``french`` is the original's French prompt: French header and goal label, the French sentences of the babyai-text
fork, French actions, and its one-line goal "translation" (``'aller à ' + det + ' ' + noun + ' ' + adj`` picked by
substring tests, so every mission reads as a "go to"). ``french_full`` is ours: the same with a real translation
of every mission form.
"""

from __future__ import annotations

from dataclasses import dataclass

from minigrid.envs.babyai.core.verifier import (
    AfterInstr,
    BeforeInstr,
    GoToInstr,
    ObjDesc,
    OpenInstr,
    PickupInstr,
    PutNextInstr,
)

from .text import ENGLISH, ENGLISH_PROMPT, FRENCH, FRENCH_PROMPT, Lexicon, PromptWords

ACTIONS: tuple[str, ...] = ("turn left", "turn right", "go forward", "pick up", "drop", "toggle")
"""GLAM's action space, in minigrid's action order (left, right, forward, pickup, drop, toggle)."""

SYNONYM_ACTIONS: tuple[str, ...] = ("rotate left", "rotate right", "move ahead", "take", "release", "switch")
FRENCH_ACTIONS: tuple[str, ...] = (
    "tourner à gauche",
    "tourner à droite",
    "aller tout droit",
    "attraper",
    "lâcher",
    "basculer",
)

NEW_NOUNS = (("key", "chair"), ("ball", "table"), ("box", "car"))
SYNONYM_ADJECTIVES = (
    ("red", "vermilion"),
    ("green", "jade"),
    ("blue", "cyan"),
    ("purple", "violet"),
    ("yellow", "golden"),
    ("grey", "silver"),
)
INVENTED_NOUNS = (("key", "dax"), ("ball", "xolo"), ("box", "afze"))
INVENTED_ADJECTIVES = (
    ("red", "faze"),
    ("green", "jatu"),
    ("blue", "croh"),
    ("purple", "vurst"),
    ("yellow", "gakul"),
    ("grey", "sil"),
)


@dataclass(frozen=True)
class Variant:
    """One way of wording the environment; ``glam_name`` is the original's name for the test (None: ours)."""

    name: str
    glam_name: str | None
    actions: tuple[str, ...] = ACTIONS
    replacements: tuple[tuple[str, str], ...] = ()
    french: str | None = None  # None (English), "glam" (the original's goal line) or "full" (ours)

    @property
    def lexicon(self) -> Lexicon:
        return FRENCH if self.french else ENGLISH

    @property
    def prompt_words(self) -> PromptWords:
        return FRENCH_PROMPT if self.french else ENGLISH_PROMPT

    def goal(self, level) -> str:
        """The goal line for the level's current mission."""
        if self.french == "glam":
            return glam_french_goal(level.mission)
        if self.french == "full":
            return french_mission(level.instrs, level)
        return level.mission

    def reword(self, prompt: str) -> str:
        for old, new in self.replacements:
            prompt = prompt.replace(old, new)
        return prompt


VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant("none", "no_modification_test"),
        Variant("new_nouns", "other_name_same_categories", replacements=NEW_NOUNS),
        Variant("synonym_adjectives", "adj_synonym", replacements=SYNONYM_ADJECTIVES),
        Variant("invented_nouns", "no_meaning_nouns", replacements=INVENTED_NOUNS),
        Variant("invented_adjectives", "no_meaning_adj", replacements=INVENTED_ADJECTIVES),
        Variant("invented_words", "no_meaning_words", replacements=INVENTED_NOUNS + INVENTED_ADJECTIVES),
        Variant(
            "intro_speaker",
            "change_intro_first_personne_speaker",
            replacements=(("Goal of the agent", "I would like the agent to"),),
        ),
        Variant(
            "intro_agent", "change_intro_first_personne_agent", replacements=(("Goal of the agent", "You have to"),)
        ),
        Variant("synonym_actions", "new_action_space", actions=SYNONYM_ACTIONS),
        Variant("french", "language=french", actions=FRENCH_ACTIONS, french="glam"),
        Variant("french_full", None, actions=FRENCH_ACTIONS, french="full"),
    )
}

_FR_COLORS = {  # the original's dict_translation_adjs, in its order (the last match wins)
    "red": "rouge",
    "green": "verte",
    "blue": "bleue",
    "purple": "violette",
    "yellow": "jaune",
    "grey": "grise",
}
_FR_NOUNS = {"box": "boîte", "ball": "balle", "key": "clef", "door": "porte"}


def glam_french_goal(goal: str) -> str:
    """The original's goal line for French: the last matching article, noun and colour found *as substrings*.

    So "pick up the red ball" becomes "aller à une balle rouge" ('a' occurs in "ball"), and "open the door"
    "aller à la  " (no noun or colour it knows). Kept as is: it is what the French test showed the agent.
    """
    det = noun = adj = ""
    for en, fr in (("the", "la"), ("a", "une")):
        if en in goal:
            det = fr
    for en, fr in (("box", "boîte"), ("ball", "balle"), ("key", "clef")):
        if en in goal:
            noun = fr
    for en, fr in _FR_COLORS.items():
        if en in goal:
            adj = fr
    return "aller à " + det + " " + noun + " " + adj


def _french_object(desc: ObjDesc, env) -> str:
    article, *words = desc.surface(env).split(" ")  # "the red ball", "a key", "the door"
    noun = _FR_NOUNS[words[-1]]
    color = f" {_FR_COLORS[words[0]]}" if len(words) > 1 else ""
    return ("la " if article == "the" else "une ") + noun + color


def _de(phrase: str) -> str:
    return "d'" + phrase if phrase.startswith("une ") else "de " + phrase


def french_mission(instr, env, past: bool = False) -> str:
    """Our French for a BabyAI mission (every object noun is feminine in French, so are GLAM's colour words).

    ``past`` gives the form after "après avoir"/"après être" ("attrapé la clef", "allé à la balle").
    """
    if isinstance(instr, GoToInstr):
        return ("allé à " if past else "aller à ") + _french_object(instr.desc, env)
    if isinstance(instr, PickupInstr):
        return ("attrapé " if past else "attraper ") + _french_object(instr.desc, env)
    if isinstance(instr, OpenInstr):
        return ("ouvert " if past else "ouvrir ") + _french_object(instr.desc, env)
    if isinstance(instr, PutNextInstr):
        moved, fixed = _french_object(instr.desc_move, env), _french_object(instr.desc_fixed, env)
        return ("mis " if past else "mettre ") + moved + " à côté " + _de(fixed)
    if isinstance(instr, BeforeInstr):
        return french_mission(instr.instr_a, env) + ", puis " + french_mission(instr.instr_b, env)
    if isinstance(instr, AfterInstr):
        helper = " après être " if isinstance(instr.instr_b, GoToInstr) else " après avoir "
        return french_mission(instr.instr_a, env) + helper + french_mission(instr.instr_b, env, past=True)
    raise TypeError(f"no French for instruction {type(instr).__name__}")
