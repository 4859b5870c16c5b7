"""What the original TWOSOME VirtualHome code gives for fixed action sequences, pinned by test_virtualhome.py.

The action lists of the two original tasks, and per task a list of cases: the actions played from reset, then the
symbolic vector, reward, terminated, whether the simulator accepted the last action, the valid actions and the
prompt's body between the rooms sentence and the goal.
"""

FP_ACTIONS = [
    "walk to the living room",
    "walk to the kitchen",
    "walk to the bathroom",
    "walk to the bedroom",
    "walk to the pancake",
    "walk to the microwave",
    "grab the pancake",
    "put the pancake in the microwave",
    "open the microwave",
    "close the microwave",
]
ENT_ACTIONS = [
    "walk to the living room",
    "walk to the kitchen",
    "walk to the bathroom",
    "walk to the bedroom",
    "walk to the chips",
    "walk to the milk",
    "walk to the coffee table",
    "walk to the TV",
    "walk to the sofa",
    "grab the chips",
    "grab the milk",
    "put the chips on the coffee table",
    "put the milk on the coffee table",
    "turn on the TV",
    "turn off the TV",
    "sit on the sofa",
    "stand up from the sofa",
]

# (actions, vector, reward, terminated, executed (last action accepted by the simulator), valid actions, prompt)
FP_CASES = [
    (
        (),
        "10001001000",
        0,
        False,
        None,
        [0, 2, 3, 4, 5],
        "kitchen. You notice pancake and microwave. Currently, you are not grabbing anything in hand. The pancake and "
        "the microwave are not close to you. The microwave is not opend. ",
    ),
    (  # close to both, empty-handed: the original says nothing about the hands
        (4, 6, 5, 8, 7),
        "10001101111",
        0,
        False,
        True,
        [0, 2, 3, 8, 9],
        "kitchen. You notice pancake and microwave. The microwave is opened. ",
    ),
    (
        (4, 6, 5, 8, 7, 9),
        "10000001100",
        1,
        True,
        True,
        [0, 2, 3],
        "kitchen. The pancake is in the microwave. Currently, you are not grabbing anything in hand. The microwave is "
        "close to you. The microwave is closed. ",
    ),
    (  # masked "walk to the kitchen" from the kitchen is executed: it forgets what the agent was close to
        (4, 1),
        "10001001000",
        0,
        False,
        True,
        [0, 2, 3, 4, 5],
        "kitchen. You notice pancake and microwave. Currently, you are not grabbing anything in hand. The pancake and "
        "the microwave are not close to you. The microwave is not opend. ",
    ),
    (  # masked "grab the pancake" from afar fails: nothing changes
        (6,),
        "10001001000",
        0,
        False,
        False,
        [0, 2, 3, 4, 5],
        "kitchen. You notice pancake and microwave. Currently, you are not grabbing anything in hand. The pancake and "
        "the microwave are not close to you. The microwave is not opend. ",
    ),
    (
        (4, 6, 2),
        "01001110000",
        0,
        False,
        True,
        [0, 1, 3],
        "bathroom. and notice nothing useful. Currently, you have grabbed the pancake in hand. ",
    ),
    (  # the held pancake is filed in the room walked from: "walk to the pancake" goes back to the bathroom
        (4, 6, 2, 1, 4),
        "01001110000",
        0,
        False,
        True,
        [0, 1, 3],
        "bathroom. and notice nothing useful. Currently, you have grabbed the pancake in hand. ",
    ),
    (
        (5, 8, 0),
        "00010000000",
        0,
        False,
        True,
        [1, 2, 3],
        "living room. and notice nothing useful. Currently, you are not grabbing anything in hand. ",
    ),
    (
        (5, 8, 0, 1, 4),
        "10001101010",
        0,
        False,
        True,
        [0, 2, 3, 5, 6],
        "kitchen. You notice pancake and microwave. Currently, you are not grabbing anything in hand. The pancake is "
        "close to you. The microwave is opened. ",
    ),
    (  # opening needs a free hand, putting in needs an open microwave
        (5, 9),
        "10001001100",
        0,
        False,
        False,
        [0, 2, 3, 4, 8, 9],
        "kitchen. You notice pancake and microwave. Currently, you are not grabbing anything in hand. The microwave is "
        "close to you. The microwave is not opend. ",
    ),
    (
        (4, 6, 5, 7),
        "10001111100",
        0,
        False,
        False,
        [0, 2, 3, 4, 7, 8, 9],
        "kitchen. You notice pancake and microwave. Currently, you have grabbed the pancake in hand. The microwave is "
        "close to you. The microwave is not opend. ",
    ),
    (  # the pancake can be taken out of the open microwave again
        (4, 6, 5, 8, 7, 6),
        "10001111110",
        0,
        False,
        True,
        [0, 2, 3, 4, 7, 8, 9],
        "kitchen. You notice pancake and microwave. Currently, you have grabbed the pancake in hand. The microwave is "
        "close to you. The microwave is opened. ",
    ),
]

ENT_CASES = [
    (
        (),
        "100010001000000000000",
        0,
        False,
        None,
        [0, 2, 3, 4, 5],
        "kitchen and notice chips and milk. But they are not close to you. Currently, you are not grabbing anything "
        "in hand. ",
    ),
    (
        (4, 9, 5, 10),
        "100011101110000000000",
        0,
        False,
        True,
        [0, 2, 3],
        "kitchen and notice chips and milk. Currently, you have grabbed the chips and the milk in hand. ",
    ),
    (  # switching needs a free hand: with both hands full the TV stays off
        (4, 9, 5, 10, 0, 7, 13),
        "000111101110110010010",
        0,
        False,
        False,
        [1, 2, 3, 6, 8, 13, 14],
        "living room and you notice a coffee table, a TV and a sofa. The TV is close to you. Currently, you have "
        "grabbed the chips and the milk in hand. ",
    ),
    (
        (4, 9, 5, 10, 0, 6, 11),
        "000111011110100010011",
        0,
        False,
        True,
        [1, 2, 3, 7, 8],
        "living room and you notice a coffee table, a TV and a sofa. The TV is not close to you. Currently, you have "
        "the chips on the coffee table and the milk in your hand. ",
    ),
    (
        (4, 9, 5, 10, 0, 6, 11, 7, 13, 8, 15),
        "000110011110101111110",
        1,
        True,
        True,
        [1, 2, 3],
        "living room and you notice a coffee table, a TV and a sofa. You are sitting on the sofa. Currently, the TV "
        "is turned on, you have the chips on the coffee table and the milk in your hand. ",
    ),
    (  # the other optimal plan: TV first, then both snacks in hand
        (0, 7, 13, 1, 4, 9, 5, 10, 0, 8, 15),
        "000111101110101111110",
        1,
        True,
        True,
        [1, 2, 3],
        "living room and you notice a coffee table, a TV and a sofa. You are sitting on the sofa. Currently, the TV "
        "is turned on, you have grabbed the chips and the milk in hand. ",
    ),
    (  # standing up keeps the "sitting" and "facing" flags (only the SITTING state goes)
        (0, 8, 15, 16),
        "000100000000101011110",
        0,
        False,
        True,
        [1, 2, 3],
        "living room and you notice a coffee table, a TV and a sofa. You are sitting on the sofa. ",
    ),
    (  # no walking while seated
        (0, 8, 15, 1),
        "000100000000101011110",
        0,
        False,
        False,
        [1, 2, 3],
        "living room and you notice a coffee table, a TV and a sofa. You are sitting on the sofa. ",
    ),
    (
        (0, 8, 15, 16, 1, 0),
        "000100000000100010110",
        0,
        False,
        True,
        [1, 2, 3, 6, 7, 8],
        "living room and you notice a coffee table, a TV and a sofa. They are not close to you. Currently, you are "
        "not grabbing anything in hand. ",
    ),
    (  # the chips stayed on the coffee table: the kitchen prompt offers "walk to the chips", which is out of sight
        (4, 9, 0, 6, 11, 1, 4),
        "100000001000000000000",
        0,
        False,
        False,
        [0, 2, 3, 4],
        "kitchen and notice milk. The milk is not close to you. ",
    ),
    (
        (5, 10, 0, 6, 12, 1),
        "100010000000000000000",
        0,
        False,
        True,
        [0, 2, 3, 5],
        "kitchen and only notice chips. The chips are not close to you. ",
    ),
    (
        (4, 9, 0, 7, 13),
        "000111100000110110010",
        0,
        False,
        True,
        [1, 2, 3, 6, 8],
        "living room and you notice a coffee table, a TV and a sofa. The sofa is not close to you. Currently, the TV "
        "is turned on, you have grabbed the chips in hand. Currently, the TV is turned on, you have grabbed the chips "
        "in hand. ",
    ),
    (
        (4, 9, 0, 6),
        "000111100000100010011",
        0,
        False,
        True,
        [1, 2, 3, 7, 8, 11],
        "living room and you notice a coffee table, a TV and a sofa. The coffee table is close to you. Currently, you "
        "have grabbed the chips in hand. Currently, you have grabbed the chips in hand. ",
    ),
    (
        (5, 10, 0, 6, 12, 7, 13, 1, 4, 9, 0, 8),
        "000111101001100111010",
        0,
        False,
        True,
        [1, 2, 3, 6, 7, 15, 16],
        "living room and you notice a coffee table, a TV and a sofa. The sofa is close to you. Currently, the TV is "
        "turned on, you have grabbed the chips in hand. Currently, the TV is turned on, you have the milk on the "
        "coffee table and the chips in your hand. ",
    ),
]
