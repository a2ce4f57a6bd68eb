# ruff: noqa: F821  (sandbox names)
"""BlocksInLine: put all the blocks in a <horizontal|vertical|diagonal> line."""

AXES = {"horizontal": (0.0, 1.0), "vertical": (1.0, 0.0), "diagonal": (0.7071, 0.7071)}
SPACING = 0.08


def solve(orientation):
    blocks = names_of("block")
    axis = np.array(AXES[orientation])
    centre = get_location("middle")
    offsets = (np.arange(len(blocks)) - (len(blocks) - 1) / 2) * SPACING
    spots = [centre + k * axis for k in offsets]
    # Blocks keep their order along the line, so paths cross little.
    order = sorted(blocks, key=lambda b: float(get_object_position(b)[:2] @ axis))
    goal = dict(zip(order, spots))
    for _ in range(2 * len(blocks)):
        pending = [b for b in order if not is_at(b, goal[b], 0.015)]
        if not pending:
            break
        ready = [
            b for b in pending if all(xy_distance(get_object_position(o), goal[b]) > 0.05 for o in blocks if o != b)
        ]
        if ready:
            move(ready[0], goal[ready[0]])
        else:  # every free spot is taken by a block that belongs elsewhere: move one aside
            move(pending[0], free_spot(avoid=spots, clearance=0.08))
    finish(all(is_at(b, goal[b], 0.02) for b in blocks), f"the blocks stand in a {orientation} line")
