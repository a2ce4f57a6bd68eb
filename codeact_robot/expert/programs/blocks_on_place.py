# ruff: noqa: F821  (sandbox names)
"""BlocksOnPlace: put all the blocks on the <place>."""


def spots_around(point, count):
    """Up to count table spots on and around point, 6 cm apart, inside the workspace."""
    bounds = get_workspace_bounds()
    offsets = [
        (0, 0),
        (0, 0.06),
        (0, -0.06),
        (0.06, 0),
        (-0.06, 0),
        (0.06, 0.06),
        (-0.06, -0.06),
        (0.06, -0.06),
        (-0.06, 0.06),
    ]
    spots = []
    for dx, dy in offsets:
        x, y = point[0] + dx, point[1] + dy
        if bounds["x"][0] + 0.02 <= x <= bounds["x"][1] - 0.02 and bounds["y"][0] + 0.02 <= y <= bounds["y"][1] - 0.02:
            spots.append(np.array([x, y]))
    return spots[:count]


def solve(place):
    target = get_location(place)
    blocks = names_of("block")
    spots = spots_around(target, len(blocks) + 4)
    for block in blocks:
        if is_at(block, target, 0.1):
            continue
        taken = [get_object_position(b) for b in names_of("block") if b != block]
        free = [s for s in spots if all(xy_distance(s, t) > 0.045 for t in taken)]
        move(block, free[0] if free else target)
    finish(all(is_at(b, target, 0.1) for b in blocks), f"all the blocks are on the {place}")
