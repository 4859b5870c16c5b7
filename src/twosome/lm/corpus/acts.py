"""How an act and a procedure's goal are said: the many phrasings of one ``Act`` ("put the tomato in the bowl",
"place it in the bowl") and of a plan's goal ("make a tomato salad").
"""

from __future__ import annotations

from twosome.lm.corpus.things import THINGS
from twosome.lm.corpus.words import _room_prep, a, join
from twosome.lm.corpus.world import Act, Plan, World, inside_or_on


def act_variants(act: Act, plan: Plan | None, w: World | None = None) -> list[str]:
    """Ways to say ``act`` as an imperative; the first one is the canonical wording."""
    v, o, t = act.verb, act.obj, act.target
    th = THINGS.get(o)
    O, T = f"the {o}", f"the {t}"
    food = th is not None and th.kind in ("food", "drink")
    if v == "go":
        return [f"walk to the {o}", f"go to the {o}", f"head to the {o}", f"move to the {o}", f"go into the {o}"]
    if v == "approach":
        return [f"walk to {O}", f"go over to {O}", f"step up to {O}", f"move next to {O}"]
    if v == "pick":
        if th is not None and th.kind == "container":
            return [f"take {O}", f"pick up {O}", f"grab {O}", f"get {O}"]
        return [f"pick up {O}", f"grab {O}", f"take {O}", f"get {O}", f"pick {O} up"]
    if v == "put":
        prep = inside_or_on(t)
        out = [f"put {O} {prep} {T}", f"place {O} {prep} {T}"]
        if prep == "on":
            out += [f"set {O} on {T}", f"put {O} down on {T}", f"lay {O} on {T}"]
        else:
            out += [f"put {O} into {T}", f"place {O} inside {T}"]
        if food and t in ("bowl", "pot", "pan", "plate"):
            out.append(f"add {O} to {T}")
        if o == "egg" and t in ("pan", "pot"):
            out.append(f"crack {O} into {T}")
        if o in ("detergent", "tea bag", "coffee"):
            out = [f"put {a(o)} in {T}", f"add {a(o)} to {T}", f"put {O} in {T}"]
        return out
    if v == "move":
        chopped = w is not None and w.has(o, "chopped") and th is not None and "chop" in th.tags
        adj = ("sliced " if "slice" in th.tags else "chopped ") if chopped else ""
        prep = inside_or_on(t)
        into = "into" if prep == "in" else "onto"
        return [
            f"put the {adj}{o} {prep} {T}",
            f"move the {adj}{o} {into} {T}",
            f"transfer the {adj}{o} to {T}",
            f"slide the {adj}{o} {into} {T}",
        ]
    if v == "chop":
        if th is not None and "slice" in th.tags:
            return [f"slice {O}", f"cut {O} into slices", f"cut {O}", f"slice {O} with the knife"]
        return [
            f"chop {O}",
            f"cut {O}",
            f"chop up {O}",
            f"dice {O}",
            f"cut {O} into pieces",
            f"chop {O} with the knife",
        ]
    if v == "wash":
        if food:
            return [f"wash {O}", f"rinse {O}", f"wash {O} in the sink", f"rinse {O} under the tap"]
        if o == "sponge":
            return ["rinse the sponge", "wet the sponge", "rinse the sponge under the tap"]
        return [f"wash {O}", f"scrub {O}", f"wash {O} with the sponge", f"clean {O} in the sink"]
    if v == "peel":
        return [f"peel {O}", f"take the skin off {O}", f"peel {O} with the knife"]
    if v in ("open", "close"):
        door = th is not None and (th.kind == "appliance" or o in ("cupboard", "wardrobe", "cabinet"))
        if v == "open":
            return [f"open {O}"] + ([f"open the door of {O}", f"open {O} door"] if door else [f"lift the lid of {O}"])
        return [f"close {O}", f"shut {O}"] + ([f"close the door of {O}", f"close {O} door"] if door else [])
    if v == "on":
        out = [f"turn on {O}", f"switch on {O}", f"turn {O} on"]
        if o in ("microwave", "washing machine", "dishwasher", "dryer", "oven"):
            out.append(f"start {O}")
        if o == "toaster":
            out.append("push down the lever of the toaster")
        if o == "tap":
            out.append("let the water run")
        return out
    if v == "off":
        return [f"turn off {O}", f"switch off {O}", f"turn {O} off"]
    if v == "wait":
        return {
            "microwave": ["wait for the microwave to finish", "wait until the microwave beeps", "wait a minute"],
            "stove": ["wait for it to cook", "let it cook for a while", "wait a few minutes"],
            "kettle": ["wait for the water to boil", "wait until the kettle boils", "let the water boil"],
            "oven": ["wait until it is baked", "let it bake for a while", "wait for the oven to finish"],
            "toaster": ["wait for the toast to pop up", "wait until the bread is toasted"],
        }.get(o, [f"wait for {O} to finish", f"let {O} run", "wait a while"])
    if v == "take_out":
        return [f"take {O} out of {T}", f"remove {O} from {T}", f"get {O} out of {T}"]
    if v == "sit":
        out = [f"sit on {O}", f"sit down on {O}", f"take a seat on {O}"]
        return out + [f"sit in {O}"] if o == "armchair" else out
    if v == "lie":
        return [f"lie on {O}", f"lie down on {O}", f"get into {O}"]
    if v == "serve":
        dish = plan.dish if plan is not None and plan.dish else "dish"
        return [f"serve the {dish}", "serve the dish", f"bring the {dish} to the table", f"deliver the {dish}"]
    if v == "fill":
        return [f"fill {O} with water", f"fill {O} at the sink", f"put water in {O}", f"fill {O} from the tap"]
    if v == "pour":
        if o == "kettle":
            return [f"pour the hot water into {T}", f"pour the water from the kettle into {T}"]
        if o == "oil":
            return [f"pour some oil into {T}", f"put a little oil in {T}"]
        return [f"pour {O} into {T}", f"pour some {o} into {T}", f"fill {T} with {o}"]
    if v == "ladle":
        return [
            f"pour the soup into {T}",
            f"ladle the soup into {T}",
            f"fill {T} with soup",
            f"spoon the soup into {T}",
        ]
    if v == "eat":
        return [f"eat {O}", f"enjoy {O}", f"eat {O} slowly"]
    if v == "drink":
        return [f"drink {O}", f"drink the {o} slowly", f"enjoy {O}"]
    if v == "wipe":
        return [f"wipe {O}", f"wipe {O} with the sponge", f"clean {O}", f"wipe down {O}"]
    if v == "water":
        return ["water the plant", "give the plant some water", "pour water on the plant"]
    if v == "spread":
        if o == "toothpaste":
            return ["put toothpaste on the toothbrush", "squeeze some toothpaste onto the toothbrush"]
        return [f"spread {O} on {T}", f"spread some {o} on {T}", f"butter {T}"]
    if v == "brush":
        return ["brush your teeth", "brush your teeth well"]
    if v == "watch":
        return ["watch TV", "watch a show on the TV", "enjoy a show on TV"]
    if v == "read":
        return [f"read {O}", f"read a few pages of {O}", f"open {O} and read"]
    if v == "shower":
        return ["take a shower", "wash yourself in the shower"]
    if v == "dry":
        return ["dry yourself with the towel", "dry off with the towel"]
    if v == "fold":
        return [f"fold {O}"]
    raise ValueError(act)


def goal_phrases(plan: Plan) -> list[str]:
    """Infinitive phrases naming the goal of ``plan`` ("make a tomato salad", "heat up the pancake")."""
    s, objs, x = plan.schema, plan.objs, plan.objs[0]
    X = join(objs)
    ax = a(x)
    if s == "salad":
        return [
            f"make a {X} salad",
            f"make a salad with chopped {X}",
            f"prepare a salad of chopped {X}",
            f"serve a bowl of chopped {X}",
            f"make a fresh salad out of {X}",
        ]
    if s == "soup":
        return [f"make a {X} soup", f"cook a soup with {X}", f"make soup from {X}", f"cook a pot of {X} soup"]
    if s == "sandwich":
        return [f"make a {X} sandwich", f"make a sandwich with {X}", f"prepare a {X} sandwich"]
    if s == "microwave":
        return [
            f"heat up the {x}",
            f"heat the {x} in the microwave",
            f"warm up the {x}",
            f"warm the {x} in the microwave",
            f"make the {x} hot",
        ]
    if s == "boil":
        return [f"cook the {x}", f"boil the {x}", f"cook the {x} in a pot of water", f"make boiled {x}"]
    if s == "fry":
        return [f"fry the {x}", f"cook the {x} in a pan", f"make fried {x}"]
    if s == "oven":
        return [f"bake the {x}", f"cook the {x} in the oven", f"warm the {x} in the oven"]
    if s == "toast":
        return ["make toast", "toast some bread", "make a slice of toast"]
    if s == "cold_drink":
        return [f"pour a glass of {x}", f"have a glass of cold {x}", f"get a glass of {x}"]
    if s == "hot_drink":
        return [f"make a cup of {x}", f"make a mug of hot {x}", f"make some {x}"]
    if s == "tv":
        seat = plan.extra.get("seat", "sofa")
        drink = plan.extra.get("drink")
        if drink:
            return [f"watch TV with {ax} and some {drink}", f"relax in front of the TV with {ax} and some {drink}"]
        return [
            f"watch TV with {ax}",
            f"watch TV while eating {ax}",
            f"relax on the {seat} with {ax} and the TV on",
            f"have {ax} in front of the TV",
        ]
    if s == "fridge":
        return [f"put the {x} in the fridge", f"put the {x} away in the fridge", f"keep the {x} cold in the fridge"]
    if s == "laundry":
        return [f"wash the {X}", f"wash the dirty {X}", f"clean the {X} in the washing machine", "do the laundry"]
    if s == "dishes":
        how = "in the dishwasher" if plan.extra.get("dishwasher") else "by hand"
        return [f"wash the dirty {X}", f"clean the {X} {how}", f"wash the {X} {how}", "do the dishes"]
    if s == "plants":
        rp = _room_prep(x)
        return [f"water the plant {rp}", f"give the plant {rp} some water", f"water the {x} plant"]
    if s == "clean":
        return [f"clean the {x}", f"wipe the {x}", f"wipe down the dirty {x}"]
    if s == "bedtime":
        return ["get ready for bed", "go to bed", "go to sleep"]
    if s == "trash":
        return ["take out the trash", "throw away the trash", "empty the kitchen trash"]
    if s == "table":
        return ["set the table", "set the dining table", "lay the table for dinner"]
    if s == "read":
        return ["read a book", f"read a book on the {plan.extra.get('seat', 'sofa')}", "sit down with a good book"]
    if s == "shower":
        return ["take a shower", "have a shower"]
    raise ValueError(s)
