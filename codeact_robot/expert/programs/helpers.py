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
