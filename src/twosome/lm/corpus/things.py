"""The household things the corpus talks about, stored as data: about 150 objects (foods, drinks, containers,
surfaces, appliances, furniture, items), each with the room where it is usually found, what it is kept in or on, a
category, how common it is, and tags (``chop``: cut on a cutting board; ``salad``: goes in a salad; ``open``: has a
door; ``power``: is switched on and off; ``sit``: you sit on it; ...). Nothing here is taken from an environment.
"""

from __future__ import annotations

from dataclasses import dataclass

ROOM_NAMES = (
    "kitchen",
    "bathroom",
    "bedroom",
    "living room",
    "dining room",
    "hallway",
    "laundry room",
    "garage",
    "garden",
    "office",
    "balcony",
)

ROOM_USE = {
    "kitchen": "cook and keep food",
    "bathroom": "wash, take a shower and brush their teeth",
    "bedroom": "sleep and get dressed",
    "living room": "relax, watch TV and talk with friends",
    "dining room": "eat meals together",
    "hallway": "walk between rooms and leave their shoes",
    "laundry room": "wash and dry clothes",
    "garage": "park the car and keep tools and the trash can",
    "garden": "grow flowers and vegetables",
    "office": "work at a desk",
    "balcony": "sit outside and grow a few plants",
}


@dataclass(frozen=True)
class Thing:
    name: str
    kind: str  # food | drink | container | surface | appliance | furniture | item
    room: str  # where it is usually found
    spot: str  # the thing it is kept in or on ("" = somewhere in the room)
    cat: str  # category noun for facts ("vegetable", "fruit", "snack", ...)
    freq: int  # how common it is in everyday life: sampling weight 1-3
    tags: frozenset[str]

    @property
    def plural(self) -> bool:
        return "plural" in self.tags

    @property
    def mass(self) -> bool:
        return "mass" in self.tags


# name | kind | room | spot | category | freq | tags
_TABLE = """
tomato | food | kitchen | counter | vegetable | 3 | chop raw wash salad soup sandwich
lettuce | food | kitchen | fridge | vegetable | 3 | chop raw wash salad sandwich
onion | food | kitchen | basket | vegetable | 3 | chop peel salad soup pan
cucumber | food | kitchen | fridge | vegetable | 2 | chop raw wash salad sandwich
carrot | food | kitchen | fridge | vegetable | 3 | chop raw wash peel salad soup
pepper | food | kitchen | fridge | vegetable | 2 | chop raw wash salad pan
cabbage | food | kitchen | fridge | vegetable | 1 | chop raw wash salad soup
celery | food | kitchen | fridge | vegetable | 1 | chop raw wash salad soup
radish | food | kitchen | fridge | vegetable | 1 | chop raw wash salad
zucchini | food | kitchen | fridge | vegetable | 1 | chop wash soup pan
eggplant | food | kitchen | counter | vegetable | 1 | chop wash oven pan
broccoli | food | kitchen | fridge | vegetable | 1 | chop wash pot soup
mushroom | food | kitchen | fridge | vegetable | 2 | chop wash pan soup
potato | food | kitchen | basket | vegetable | 3 | chop wash peel pot oven microwave soup
garlic | food | kitchen | basket | vegetable | 1 | chop peel soup pan
avocado | food | kitchen | counter | fruit | 1 | chop peel raw salad sandwich
apple | food | kitchen | basket | fruit | 3 | chop raw wash salad snack
banana | food | kitchen | basket | fruit | 2 | chop peel raw salad snack
orange | food | kitchen | basket | fruit | 2 | chop peel raw salad snack
pear | food | kitchen | basket | fruit | 1 | chop raw wash salad
peach | food | kitchen | basket | fruit | 1 | chop raw wash salad
mango | food | kitchen | basket | fruit | 1 | chop peel raw salad
strawberry | food | kitchen | fridge | fruit | 1 | chop raw wash salad
pineapple | food | kitchen | counter | fruit | 1 | chop peel raw salad
melon | food | kitchen | counter | fruit | 1 | chop raw salad
bread | food | kitchen | counter | baked food | 3 | chop slice toast mass
egg | food | kitchen | fridge | food | 3 | pan pot cold
cheese | food | kitchen | fridge | dairy food | 2 | chop slice sandwich cold snack mass
butter | food | kitchen | fridge | dairy food | 2 | cold mass
yogurt | food | kitchen | fridge | dairy food | 1 | cold snack mass
milk | drink | kitchen | fridge | drink | 3 | cold microwave drink mass
juice | drink | kitchen | fridge | drink | 2 | cold drink mass
coffee | drink | kitchen | cupboard | hot drink | 2 | hot mass
tea | drink | kitchen | cupboard | hot drink | 2 | hot mass
rice | food | kitchen | cupboard | grain | 2 | pot microwave mass
pasta | food | kitchen | cupboard | grain | 2 | pot microwave mass
noodles | food | kitchen | cupboard | grain | 1 | pot microwave plural
beans | food | kitchen | cupboard | food | 1 | pot microwave plural
soup | food | kitchen | fridge | dish | 2 | microwave cold mass
pancake | food | kitchen | counter | dish | 2 | microwave pan
pizza | food | kitchen | fridge | dish | 2 | microwave oven snack cold
chicken | food | kitchen | fridge | meat | 2 | oven pan cold mass
fish | food | kitchen | fridge | food | 1 | oven pan cold
sausage | food | kitchen | fridge | meat | 1 | pan oven cold
chips | food | kitchen | cupboard | snack | 3 | snack plural
popcorn | food | kitchen | cupboard | snack | 1 | microwave snack mass
cookies | food | kitchen | cupboard | snack | 2 | snack oven plural
cake | food | kitchen | fridge | dessert | 1 | chop slice oven snack cold
cereal | food | kitchen | cupboard | breakfast food | 1 | mass
oil | item | kitchen | cupboard | cooking oil | 1 | mass
tea bag | item | kitchen | cupboard | item | 1 |
detergent | item | laundry room | shelf | soap | 1 | mass
toothpaste | item | bathroom | sink | item | 1 | mass
bowl | container | kitchen | counter | dish | 3 | dish inside
plate | container | kitchen | cupboard | dish | 3 | dish top
cup | container | kitchen | cupboard | dish | 2 | dish inside
mug | container | kitchen | cupboard | dish | 2 | dish inside
glass | container | kitchen | cupboard | dish | 2 | dish inside
pot | container | kitchen | cupboard | pan | 2 | dish inside
pan | container | kitchen | cupboard | pan | 2 | dish inside
tray | container | kitchen | counter | tray | 1 | top
basket | container | kitchen | counter | basket | 1 | inside
laundry basket | container | bedroom |  | basket | 1 | inside
watering can | container | balcony |  | can | 1 | inside
trash bag | item | kitchen |  | bag | 1 |
trash can | container | garage |  | bin | 1 | inside open
cutting board | surface | kitchen | counter | board | 3 | top
counter | surface | kitchen |  | surface | 3 | top wipe
kitchen table | surface | kitchen |  | table | 2 | top wipe
dining table | surface | dining room |  | table | 2 | top wipe
coffee table | surface | living room |  | table | 2 | top wipe
desk | surface | office |  | table | 2 | top wipe
nightstand | surface | bedroom |  | table | 1 | top wipe
shelf | surface | living room |  | shelf | 1 | top wipe
drying rack | surface | kitchen | counter | rack | 1 | top
floor | surface | living room |  | floor | 1 | top
microwave | appliance | kitchen | counter | appliance | 3 | open power inside heat
oven | appliance | kitchen |  | appliance | 2 | open power inside heat
fridge | appliance | kitchen |  | appliance | 3 | open inside cool
freezer | appliance | kitchen |  | appliance | 1 | open inside cool
stove | appliance | kitchen |  | appliance | 2 | power top heat
toaster | appliance | kitchen | counter | appliance | 1 | power inside heat
kettle | appliance | kitchen | counter | appliance | 1 | power inside heat
dishwasher | appliance | kitchen |  | appliance | 1 | open power inside
washing machine | appliance | laundry room |  | appliance | 2 | open power inside
dryer | appliance | laundry room |  | appliance | 1 | open power inside
tap | appliance | kitchen | sink | appliance | 2 | power
sink | container | kitchen |  | sink | 2 | inside
TV | appliance | living room |  | screen | 3 | power screen
lamp | appliance | bedroom | nightstand | light | 2 | power light
radio | appliance | living room | shelf | device | 1 | power music
computer | appliance | office | desk | device | 1 | power screen
fan | appliance | bedroom |  | device | 1 | power
shower | appliance | bathroom |  | shower | 1 | power
cupboard | furniture | kitchen |  | cupboard | 2 | open inside
wardrobe | furniture | bedroom |  | wardrobe | 1 | open inside
drawer | furniture | kitchen |  | drawer | 1 | open inside
cabinet | furniture | bathroom |  | cabinet | 1 | open inside
bookshelf | furniture | living room |  | shelf | 1 | top
sofa | furniture | living room |  | seat | 3 | sit
armchair | furniture | living room |  | seat | 2 | sit
chair | furniture | dining room |  | seat | 2 | sit
stool | furniture | kitchen |  | seat | 1 | sit
bench | furniture | garden |  | seat | 1 | sit
bed | furniture | bedroom |  | bed | 3 | sit lie
bathtub | furniture | bathroom |  | bathtub | 1 | inside
toilet | furniture | bathroom |  | toilet | 1 |
knife | item | kitchen | drawer | tool | 2 | tool
spoon | item | kitchen | drawer | tool | 1 | dish
fork | item | kitchen | drawer | tool | 1 | dish
sponge | item | kitchen | sink | cleaning tool | 2 |
towel | item | bathroom |  | cloth | 2 | clothes
toothbrush | item | bathroom | cup | item | 2 |
soap | item | bathroom |  | soap | 1 | mass
broom | item | hallway |  | cleaning tool | 1 |
book | item | living room | bookshelf | book | 2 |
remote | item | living room | coffee table | device | 1 |
pillow | item | bedroom | bed | bedding | 1 |
blanket | item | bedroom | bed | bedding | 1 |
shirt | item | bedroom | floor | clothing | 2 | clothes
socks | item | bedroom | floor | clothing | 2 | clothes plural
jeans | item | bedroom | floor | clothing | 1 | clothes plural
sweater | item | bedroom | floor | clothing | 1 | clothes
dress | item | bedroom | floor | clothing | 1 | clothes
sheets | item | bedroom | bed | bedding | 1 | clothes plural
plant | item | living room |  | plant | 2 | plant
"""


def _parse(table: str) -> dict[str, Thing]:
    things: dict[str, Thing] = {}
    for line in table.strip().splitlines():
        name, kind, room, spot, cat, freq, tags = (part.strip() for part in line.split("|"))
        things[name] = Thing(name, kind, room, spot, cat, int(freq), frozenset(tags.split()))
    return things


THINGS: dict[str, Thing] = _parse(_TABLE)


def with_tag(tag: str, kind: str | None = None) -> list[str]:
    return [t.name for t in THINGS.values() if tag in t.tags and (kind is None or t.kind == kind)]


FOOD_NAMES = [t.name for t in THINGS.values() if t.kind in ("food", "drink")]
CLOTHES = [n for n in with_tag("clothes") if n != "towel"]
PLANT_ROOMS = ("living room", "bedroom", "office", "garden", "balcony", "kitchen")
SEATS = ("sofa", "armchair")
WIPEABLE = with_tag("wipe")
DISHES = ["plate", "bowl", "cup", "mug", "glass", "pan", "pot", "fork", "spoon"]

# A few objects for grid-world navigation text (BabyAI-like vocabulary, general spatial knowledge).
COLOURS = ("red", "green", "blue", "purple", "yellow", "grey")
NAV_OBJECTS = ("key", "ball", "box")
