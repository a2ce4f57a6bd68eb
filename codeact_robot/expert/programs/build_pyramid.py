# ruff: noqa: F821  (sandbox names)
"""BuildPyramid: the <left> and <right> side by side on the <location>, the <top> resting on both."""

SPACING = 0.052  # centre to centre of the base blocks: room for a turned block (the instruction allows 4-6 cm)


def solve(left, right, top, location):
    centre = np.array(get_location(location), dtype=float)
    base = {left: centre + [0.0, SPACING / 2], right: centre - [0.0, SPACING / 2]}

    def on_base():
        """Whether the top block's bottom lies on both base blocks' tops, centred between them."""
        bottom = float(get_object_bbox(top)[0][2])
        level = all(abs(bottom - float(get_object_bbox(b)[1][2])) < RESTS_GAP for b in base)
        return level and is_at(top, centre, 0.012)

    based = all(on_table(b) and is_at(b, s, 0.015) for b, s in base.items())
    if not (based and on_base()):
        for block in base:
            clear(block, avoid=list(base.values()))
        arrange(base)
        summit = max(float(get_object_bbox(b)[1][2]) for b in base) + height(top) / 2
        for _ in range(2):  # placed on two blocks, it touches both: judged by where it rests, not by place's answer
            if pick(top):
                place([centre[0], centre[1], summit])
            if on_base():
                break
    based = all(on_table(b) and is_at(b, s, 0.015) for b, s in base.items())
    finish(based and on_base(), f"the pyramid stands on the {location}")
