"""A skill written by hand: `codeact-robot skills add my_skills.py --task StackBlocks --call "stack_blocks()"`."""


def stack_blocks():
    """Stack all the blocks into one tower."""
    tower = [n for n in get_object_names() if n.endswith(" block")]
    for below, above in zip(tower, tower[1:]):
        pick_and_place(above, below)
