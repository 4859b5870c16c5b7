"""Task declarations: scene, actions, observation layout, goal and wording. Adding a task is a declaration.

=====================================  ===========================================  ==========================
id (``twosome/VirtualHome-...-v0``)    goal (success = reward 1, episode ends)      source
=====================================  ===========================================  ==========================
``FoodPreparation``                    in the kitchen, pancake out of sight (i.e.   TWOSOME ``VirtualHome-v1``
                                       inside the closed microwave)                 (graph_environment_v1.py,
                                                                                    policy_v1.py)
``Entertainment``                      in the living room, facing the TV, TV on,    TWOSOME ``VirtualHome-v2``
                                       sitting on the sofa, chips and milk each     (graph_environment_v2.py,
                                       close to the agent or on the coffee table    policy_v2.py)
``Cheese``/``Hamburger``/``ApplePie``  as Food Preparation with the pancake         wording verbatim from
/``Pizza``                             renamed (cheese, hamburger, apple pie,       morning9393/ADRL; taken to
                                       pizza)                                       be TWOSOME's Fig. 6 tasks
                                                                                    (inferred, see docs)
``WashingPlate``                       as Food Preparation with "dishes" and        same (ADRL keeps the goal
                                       "dishwasher" ("heat up the dishes in the     "heat up ..."), see
                                       dishwasher", sic)                            ``WashingPlateNatural``
``Laundry``                            as Food Preparation with "clothes" and       same (ADRL: "heat up the
                                       "washing machine"                            clothes in the washing
                                                                                    machine", sic)
``WashingPlateNatural``/               the two chores with the goal phrase fixed    ours (not in any source)
``LaundryNatural``                     ("wash the dishes in the dishwasher", "wash
                                       the clothes in the washing machine")
``NonceItem``/``Nonce``/              as Food Preparation with invented words:     ours: the nonce-word
``NonceOneToken``                      "the blicket in the microwave", "the         control of transfer
                                       blicket in the dax", "the pige in the
                                       microwave" (one SmolLM2 token)
=====================================  ===========================================  ==========================

Horizon 50 decisions everywhere. Shortest successful plans (:attr:`TaskSpec.optimal_steps`, checked by a
breadth-first search in the tests): 6 for the Food Preparation family (walk to the item, grab it, walk to the
appliance, open it, put the item in, close it) and 11 for Entertainment (walk to the chips, grab, walk to the
milk, grab, walk to the living room, walk to the coffee table, put one item on it, walk to the TV, switch it
on, walk to the sofa, sit).

The unseen variants keep the original's underlying dynamics: ADRL runs the same ``VirtualHome-v1`` graph and
only swaps the words, so the item still rests on the kitchen table and the appliance on the kitchen counter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from .observation import Feature, Goal
from .prompts import ContainerWords, WatchWords
from .scene import (
    CAN_OPEN,
    CLOSED,
    CONTAINERS,
    GRABBABLE,
    HAS_SWITCH,
    OFF,
    SITTABLE,
    SURFACES,
    Scene,
    Thing,
)
from .world import VERBS

Verb = Literal["walk", "grab", "open", "close", "put_in", "put_on", "switch_on", "switch_off", "sit", "stand_up"]


@dataclass(frozen=True)
class ActionSpec:
    """One discrete action: its text for the LLM and the engine call it makes (``verb(*args)``)."""

    text: str
    verb: Verb
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskSpec:
    env_id: str
    scene: Scene
    actions: tuple[ActionSpec, ...]
    features: tuple[Feature, ...]  # the observation vector, in order
    goal: Goal
    words: ContainerWords | WatchWords
    optimal_steps: int
    source: str
    horizon: int = 50

    def __post_init__(self) -> None:
        keys = [f.key for f in self.features]
        if len(set(keys)) != len(keys):
            raise ValueError(f"{self.env_id}: duplicate feature keys {keys}")
        literals = {lit.removeprefix("not ") for clause in self.goal for lit in clause}
        if not literals <= set(keys):
            raise ValueError(f"{self.env_id}: goal uses unknown features {sorted(literals - set(keys))}")
        names = {*self.scene.rooms, *(t.name for t in self.scene.things)}
        for a in self.actions:
            if a.verb not in VERBS:
                raise ValueError(f"{self.env_id}: action {a.text!r} has unknown verb {a.verb!r}")
            if not set(a.args) <= names:
                raise ValueError(f"{self.env_id}: action {a.text!r} names unknown nodes {a.args}")


ROOMS = ("kitchen", "bathroom", "bedroom", "living room")
ROOM_FEATURES = tuple(Feature(f"in_{r.replace(' ', '')}", "in_room", (r,)) for r in ROOMS)
WALK_TO_ROOMS = tuple(
    ActionSpec(f"walk to the {room}", "walk", (room,)) for room in ("living room", "kitchen", "bathroom", "bedroom")
)


# ----- Food Preparation family: put an item into an appliance, close it ----------------------------------------
def container_task(env_id: str, item: str, box: str, goal: str, source: str) -> TaskSpec:
    """A Food Preparation-like task: ``item`` on the kitchen table, ``box`` (closed) on the kitchen counter.

    Success is the original's test: the agent is in the kitchen and does not see the item, which the dynamics
    only allow with the item inside the closed appliance.
    """
    scene = Scene(
        rooms=ROOMS,
        things=(
            Thing("kitchen table", "kitchen", frozenset({SURFACES})),
            Thing("kitchen counter", "kitchen", frozenset({SURFACES})),
            Thing(item, "kitchen", frozenset({GRABBABLE}), on="kitchen table"),
            Thing(
                box,
                "kitchen",
                frozenset({CAN_OPEN, CONTAINERS, HAS_SWITCH}),
                frozenset({CLOSED, OFF}),
                on="kitchen counter",
            ),
        ),
        agent_room="kitchen",
    )
    actions = (
        *WALK_TO_ROOMS,
        ActionSpec(f"walk to the {item}", "walk", (item,)),
        ActionSpec(f"walk to the {box}", "walk", (box,)),
        ActionSpec(f"grab the {item}", "grab", (item,)),
        ActionSpec(f"put the {item} in the {box}", "put_in", (item, box)),
        ActionSpec(f"open the {box}", "open", (box,)),
        ActionSpec(f"close the {box}", "close", (box,)),
    )
    features = (
        *ROOM_FEATURES,
        Feature("see_item", "sees", (item,)),
        Feature("close_to_item", "close", (item,)),
        Feature("hold_item", "holds", (item,)),
        Feature("see_box", "sees", (box,)),
        Feature("close_to_box", "close", (box,)),
        Feature("box_open", "is_open", (box,)),
        Feature("item_in_box", "inside", (item, box)),
    )
    return TaskSpec(
        env_id=env_id,
        scene=scene,
        actions=actions,
        features=features,
        goal=(("in_kitchen",), ("not see_item",)),
        words=ContainerWords(item=item, box=box, goal=goal),
        optimal_steps=6,
        source=source,
    )


_ADRL = "unseen task of TWOSOME Fig. 6; wording from morning9393/ADRL mappo/envs/virtualhome/virtualhome_{}.py"

FOOD_PREPARATION = container_task(
    "twosome/VirtualHome-FoodPreparation-v0",
    "pancake",
    "microwave",
    "heat up the pancake in the microwave",
    "TWOSOME VirtualHome-v1 (virtual-home/.../graph_environment_v1.py, twosome/virtualhome/policy_v1.py)",
)
CHEESE = container_task(
    "twosome/VirtualHome-Cheese-v0",
    "cheese",
    "microwave",
    "heat up the cheese in the microwave",
    _ADRL.format("cheese"),
)
HAMBURGER = container_task(
    "twosome/VirtualHome-Hamburger-v0",
    "hamburger",
    "microwave",
    "heat up the hamburger in the microwave",
    _ADRL.format("hamburger"),
)
APPLE_PIE = container_task(
    "twosome/VirtualHome-ApplePie-v0",
    "apple pie",
    "microwave",
    "heat up the apple pie in the microwave",
    _ADRL.format("apple_pie"),
)
PIZZA = container_task(
    "twosome/VirtualHome-Pizza-v0", "pizza", "microwave", "heat up the pizza in the microwave", _ADRL.format("pizza")
)
WASHING_PLATE = container_task(
    "twosome/VirtualHome-WashingPlate-v0",
    "dishes",
    "dishwasher",
    "heat up the dishes in the dishwasher",  # sic (ADRL)
    _ADRL.format("washing_plate"),
)
LAUNDRY = container_task(
    "twosome/VirtualHome-Laundry-v0",
    "clothes",
    "washing machine",
    "heat up the clothes in the washing machine",  # sic (ADRL)
    _ADRL.format("laundry"),
)
# The nonce-word control (unseen tasks, docs/RESULTS.md): Food Preparation with invented words for its objects
# (GLAM's "dax" and "blicket" style), same dynamics. An agent whose transfer to Cheese or Pizza comes from knowing
# the words should lose it here; one that keys on the action list's structure should not.
NONCE_ITEM = container_task(
    "twosome/VirtualHome-NonceItem-v0",
    "blicket",
    "microwave",
    "heat up the blicket in the microwave",
    "ours: Food Preparation with the pancake renamed to an invented word",
)
NONCE = container_task(
    "twosome/VirtualHome-Nonce-v0",
    "blicket",
    "dax",
    "heat up the blicket in the dax",
    "ours: Food Preparation with the pancake and the microwave renamed to invented words",
)
# The same control with a nonce word that SmolLM2's tokenizer keeps as one token (" pige"; " pancake" is two and
# " blicket" three), so that a drop on NonceItem cannot come from the word's token count alone.
NONCE_ONE_TOKEN = container_task(
    "twosome/VirtualHome-NonceOneToken-v0",
    "pige",
    "microwave",
    "heat up the pige in the microwave",
    "ours: Food Preparation with the pancake renamed to an invented word of one SmolLM2 token",
)
WASHING_PLATE_NATURAL = replace(
    WASHING_PLATE,
    env_id="twosome/VirtualHome-WashingPlateNatural-v0",
    words=replace(WASHING_PLATE.words, goal="wash the dishes in the dishwasher"),
    source="ours: WashingPlate with a washing goal phrase",
)
LAUNDRY_NATURAL = replace(
    LAUNDRY,
    env_id="twosome/VirtualHome-LaundryNatural-v0",
    words=replace(LAUNDRY.words, goal="wash the clothes in the washing machine"),
    source="ours: Laundry with a washing goal phrase",
)


# ----- Entertainment: snacks on the coffee table, TV on, on the sofa -------------------------------------------
ENTERTAINMENT = TaskSpec(
    env_id="twosome/VirtualHome-Entertainment-v0",
    scene=Scene(
        rooms=ROOMS,
        things=(
            Thing("kitchen table", "kitchen", frozenset({SURFACES})),
            Thing("kitchen counter", "kitchen", frozenset({SURFACES})),
            Thing("chips", "kitchen", frozenset({GRABBABLE}), on="kitchen counter"),
            # The original's milk is an openable, closed carton; nothing here opens it.
            Thing("milk", "kitchen", frozenset({GRABBABLE, CAN_OPEN}), frozenset({CLOSED}), on="kitchen table"),
            Thing("coffee table", "living room", frozenset({SURFACES})),
            Thing("TV stand", "living room", frozenset({SURFACES})),
            Thing("TV", "living room", frozenset({HAS_SWITCH}), frozenset({OFF}), on="TV stand"),
            Thing("sofa", "living room", frozenset({SITTABLE, SURFACES}), facing="TV"),
        ),
        agent_room="kitchen",
    ),
    actions=(
        *WALK_TO_ROOMS,
        ActionSpec("walk to the chips", "walk", ("chips",)),
        ActionSpec("walk to the milk", "walk", ("milk",)),
        ActionSpec("walk to the coffee table", "walk", ("coffee table",)),
        ActionSpec("walk to the TV", "walk", ("TV",)),
        ActionSpec("walk to the sofa", "walk", ("sofa",)),
        ActionSpec("grab the chips", "grab", ("chips",)),
        ActionSpec("grab the milk", "grab", ("milk",)),
        ActionSpec("put the chips on the coffee table", "put_on", ("chips", "coffee table")),
        ActionSpec("put the milk on the coffee table", "put_on", ("milk", "coffee table")),
        ActionSpec("turn on the TV", "switch_on", ("TV",)),
        ActionSpec("turn off the TV", "switch_off", ("TV",)),
        ActionSpec("sit on the sofa", "sit", ("sofa",)),
        ActionSpec("stand up from the sofa", "stand_up"),
    ),
    features=(
        *ROOM_FEATURES,
        Feature("see_food", "sees", ("chips",)),
        Feature("close_to_food", "close", ("chips",)),
        Feature("hold_food", "holds", ("chips",)),
        Feature("food_on_table", "on", ("chips", "coffee table")),
        Feature("see_drink", "sees", ("milk",)),
        Feature("close_to_drink", "close", ("milk",)),
        Feature("hold_drink", "holds", ("milk",)),
        Feature("drink_on_table", "on", ("milk", "coffee table")),
        Feature("see_tv", "sees", ("TV",)),
        Feature("close_to_tv", "close", ("TV",)),
        Feature("facing_tv", "facing", ("TV",)),
        Feature("tv_on", "is_on", ("TV",)),
        Feature("see_seat", "sees", ("sofa",)),
        Feature("close_to_seat", "close", ("sofa",)),
        Feature("sitting_on_seat", "sits_on", ("sofa",)),
        Feature("see_table", "sees", ("coffee table",)),
        Feature("close_to_table", "close", ("coffee table",)),
    ),
    goal=(
        ("in_livingroom",),
        ("facing_tv",),
        ("tv_on",),
        ("sitting_on_seat",),
        ("close_to_drink", "drink_on_table"),
        ("close_to_food", "food_on_table"),
    ),
    words=WatchWords(),
    optimal_steps=11,
    source="TWOSOME VirtualHome-v2 (virtual-home/.../graph_environment_v2.py, twosome/virtualhome/policy_v2.py)",
)

TASKS: dict[str, TaskSpec] = {
    t.env_id: t
    for t in (
        FOOD_PREPARATION,
        ENTERTAINMENT,
        CHEESE,
        HAMBURGER,
        APPLE_PIE,
        PIZZA,
        WASHING_PLATE,
        LAUNDRY,
        WASHING_PLATE_NATURAL,
        LAUNDRY_NATURAL,
        NONCE_ITEM,
        NONCE,
        NONCE_ONE_TOKEN,
    )
}
