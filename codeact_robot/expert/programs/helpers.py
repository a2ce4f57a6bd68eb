# ruff: noqa: F821  (skill functions and np are names of the sandbox namespace)
"""Helpers every reference program starts with. Sandbox code: only the skill API and numpy."""

memory = {}  # what a program decided in an earlier turn (its choice of block, say)
# The program's own judgement of the goal, a little stricter than the task's success check
# (which the program cannot see), so that "done" is only declared when the goal surely holds:
IN_BOWL_RADIUS = 0.055  # centre this close to the bowl's (the check allows its 6 cm inner radius)
IN_BOWL_MAX_Z = 0.1
ON_TOP_XY = 0.02  # centres this close horizontally (the check allows 2.5 cm)
ON_TOP_DZ = (0.03, 0.05)  # one block height above
AT_PLACE_RADIUS = 0.06  # centre this close to a place (the check allows 8 cm)
RESTS_XY = 0.02  # a block rests on another: centres this close horizontally,
RESTS_GAP = 0.008  # and its bottom this close to the other's top (any sizes)
AT_SPOT = 0.01  # a block put at a spot of an arrangement stands this close to it
DIRECTION_VECTORS = {"left": (0, 1), "right": (0, -1), "top": (1, 0), "bottom": (-1, 0)}  # as in the top camera


def names_of(kind):
    """Visible objects of one kind ("block", "bowl", "cup"), sorted."""
    return [n for n in get_object_names() if n.endswith(" " + kind)]


def xy_distance(a, b):
    """Horizontal distance between two points or positions."""
    return float(np.hypot(a[0] - b[0], a[1] - b[1]))


def is_in(obj, bowl):
    """Whether obj lies inside bowl."""
    p, b = get_object_position(obj), get_object_position(bowl)
    return xy_distance(p, b) < IN_BOWL_RADIUS and p[2] < IN_BOWL_MAX_Z


def is_on(upper, lower):
    """Whether upper sits on top of lower."""
    p, q = get_object_position(upper), get_object_position(lower)
    return xy_distance(p, q) < ON_TOP_XY and ON_TOP_DZ[0] < p[2] - q[2] < ON_TOP_DZ[1]


def is_at(obj, point, radius=AT_PLACE_RADIUS):
    """Whether obj stands within radius of a table point."""
    return xy_distance(get_object_position(obj), point) < radius


def height(obj):
    """The object's height from its bounding box (a small block 3 cm, a medium one 4, a large one 5)."""
    low, high = get_object_bbox(obj)
    return float(high[2] - low[2])


def on_table(obj):
    """Whether obj stands on the table itself."""
    return float(get_object_bbox(obj)[0][2]) < RESTS_GAP


def rests_on(upper, lower):
    """Whether upper rests on top of lower, whatever their sizes."""
    if xy_distance(get_object_position(upper), get_object_position(lower)) > RESTS_XY:
        return False
    return abs(float(get_object_bbox(upper)[0][2] - get_object_bbox(lower)[1][2])) < RESTS_GAP


def clear(obj, avoid=()):
    """Move whatever rests on obj (and on that, top first) to free table spots away from avoid."""
    for _ in range(len(get_object_names())):
        above = [o for o in names_of("block") if o != obj and rests_on(o, obj)]
        if not above:
            return
        top = above[0]
        while True:
            higher = [o for o in names_of("block") if o != top and rests_on(o, top)]
            if not higher:
                break
            top = higher[0]
        move(top, free_spot(avoid=avoid, clearance=0.08))


def build_tower(order):
    """Stack the blocks of order bottom to top (any sizes), moving whatever is in the way; returns whether it stands."""
    for _ in range(3 * len(order)):
        built = 1 if on_table(order[0]) else 0
        while built and built < len(order) and rests_on(order[built], order[built - 1]):
            built += 1
        if built == len(order):
            return True
        if built == 0:  # the bottom block stands on another: free it and set it on the table
            clear(order[0])
            move(order[0], free_spot(clearance=0.08))
        else:
            clear(order[built - 1])
            clear(order[built])
            move(order[built], order[built - 1])
    return False


def overlaps(point, width, obj):
    """Whether a block width wide standing at point would overlap obj's footprint."""
    low, high = get_object_bbox(obj)
    half = width / 2
    return low[0] - half < point[0] < high[0] + half and low[1] - half < point[1] < high[1] + half


def arrange(goal, tolerance=AT_SPOT):
    """Stand each block of goal (name -> table point) at its point; returns whether all stand there.

    A block whose point another object occupies waits; when every pending point is taken,
    a pending block that takes one is moved aside to a free spot.
    """
    names = list(goal)
    for _ in range(3 * len(names)):
        pending = [b for b in names if not is_at(b, goal[b], tolerance)]
        if not pending:
            return True
        ready = [b for b in pending if not any(overlaps(goal[b], height(b), o) for o in get_object_names() if o != b)]
        if ready:
            move(ready[0], goal[ready[0]])
        else:  # every pending spot is taken: move aside a block that takes one
            taking = [o for o in pending if any(overlaps(goal[b], height(b), o) for b in pending if b != o)]
            move((taking or pending)[0], free_spot(avoid=list(goal.values()), clearance=0.08))
    return all(is_at(b, goal[b], tolerance) for b in names)


def tower_from(base, blocks):
    """The blocks already stacked on base, bottom to top."""
    tower = [base]
    while True:
        above = [b for b in blocks if b not in tower and is_on(b, tower[-1])]
        if not above:
            return tower
        tower.append(above[0])


def stack_onto(base, blocks):
    """Stack every block not yet in the tower on base onto its top; returns the tower."""
    tower = tower_from(base, blocks)
    for block in blocks:
        if block not in tower:
            move(block, tower[-1])
            tower = tower_from(base, blocks)
    return tower


def free_spot(avoid=(), clearance=0.1, near=None):
    """A table point at least clearance from every object (and every point in avoid).

    Prefers the point nearest to near when given, else the one with the most room.
    """
    bounds = get_workspace_bounds()
    occupied = [get_object_position(n) for n in get_object_names()] + [np.array(p) for p in avoid]
    best, best_score = None, None
    for x in np.linspace(bounds["x"][0] + 0.04, bounds["x"][1] - 0.04, 9):
        for y in np.linspace(bounds["y"][0] + 0.04, bounds["y"][1] - 0.04, 13):
            room = min([xy_distance((x, y), p) for p in occupied] + [1.0])
            if room < clearance:
                continue
            score = -xy_distance((x, y), near) if near is not None else room
            if best_score is None or score > best_score:
                best, best_score = np.array([x, y]), score
    return best


def move(obj, target, attempts=3):
    """pick_and_place with retries: a missed grasp is tried again from a fresh look."""
    for attempt in range(attempts):
        if pick_and_place(obj, target):
            return True
        if is_holding():
            open_gripper()
        print(f"attempt {attempt + 1} to move the {obj} failed; trying again")
    return False


def finish(ok, what):
    """Report the outcome; declare the task done when it holds."""
    if ok:
        say(what)
        done()
    else:
        print("not finished yet: " + what)
