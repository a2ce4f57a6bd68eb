# ruff: noqa: F821  (skill functions, np and math are names of the sandbox namespace)
"""The compound motions of the high tier, written with the primitive tier's skills.

pick, place, pick_and_place, push and go_home from move_to, open_gripper, close_gripper
and object state: the program computes approach, grasp height, wrist angle, release and
retreat itself, and checks each step (is_holding after a grasp, where the object came
to rest after a release), so the family programs' retries see a truthful False.
"""

HALF_HEIGHTS = {"block": 0.02, "cup": 0.03, "bowl": 0.0225}
GRASP_BELOW_TOP = 0.02  # fingertips close this far below an object's top
MIN_FINGERTIP_Z = 0.012
HOVER = 0.08  # above the grasp or release point before going straight down
LIFT = 0.2  # fingertips this high after a grasp
RELEASE_ABOVE_REST = 0.003  # an object is let go this far above where it will rest
DROP_ABOVE_RIM = 0.012  # into a bowl: released this far above its rim
BOWL_INNER = 0.06
BOWL_SPOT_OFFSET = 0.03  # free spots inside a bowl, from its centre
FINGER_REACH = 0.051  # an open finger's middle, from the point between the fingertips
FINGER_HALF = 0.011  # and its half thickness
WRIST_LOW = -math.pi / 2 + 0.25  # wrist yaws in reach everywhere: [WRIST_LOW, WRIST_LOW + pi)
PLACED_XY = 0.03
HOME = [0.25, 0.0, 0.4]  # near the robot and high: out of the top camera's view
PUSH_STEP = 0.015  # move_to goes straight (no rise) for moves this short
gripper_memory = {"held": None}  # the object last grasped (out of the cameras' view while carried)


def kind_of(name):
    """The kind of an object: the last word of its name."""
    return name.split(" ")[-1]


def wrist(yaw):
    """The yaw equivalent to yaw (the fingers are symmetric) that the wrist reaches everywhere."""
    return (yaw - WRIST_LOW) % math.pi + WRIST_LOW


def held_object():
    """The name of the object in the gripper, or None."""
    held = gripper_memory["held"]
    if held is not None and is_holding(held):
        return held
    return next((n for n in get_object_names() if is_holding(n)), None)


def finger_room(point, yaw, skip):
    """Horizontal room between the open fingers at point (turned by yaw) and the objects around."""
    axis = np.array([-math.sin(yaw), math.cos(yaw)])
    room = 1.0
    for other in get_object_names():
        if other in skip:
            continue
        low, high = get_object_bbox(other)
        if high[2] < point[2] - 0.011:
            continue  # lower than the fingertips
        centre = (low[:2] + high[:2]) / 2
        if kind_of(other) == "bowl" and xy_distance(point, centre) < BOWL_INNER:
            continue  # working inside a bowl: its wall is farther than the fingers reach
        for side in (-1, 1):
            finger = np.array(point[:2]) + side * FINGER_REACH * axis
            gap = np.maximum(np.maximum(low[:2] - finger, finger - high[:2]), 0.0)
            room = min(room, float(np.hypot(gap[0], gap[1])) - FINGER_HALF)
    return room


def clearest(point, yaws, skip):
    """Of yaws, the one whose open fingers have the most room (the first of equals)."""
    rooms = [min(finger_room(point, y, skip), 0.015) for y in yaws]
    return wrist(yaws[int(np.argmax(rooms))])


def retreat(height=LIFT):
    """Straight up to height (a short move does not rise on its own), unless already that high."""
    here = get_gripper_position()
    if here[2] < height - 0.01:
        move_to([here[0], here[1], height])


def go_home():
    """Up, then to a pose near the robot, clear of the top camera's view."""
    retreat()
    return move_to(HOME)


def pick(name):
    """Grasp name from above and carry it up near the robot; True if it is held afterwards."""
    if is_holding(name):
        return True
    if is_holding():
        print(f"the gripper holds something else; putting it aside before picking the {name}")
        place(free_spot())
    if kind_of(name) == "bowl":
        raise ValueError(f"the {name} is 14 cm wide and cannot be grasped (the gripper opens 8 cm)")
    top = get_object_bbox(name)[1][2]
    centre = get_object_position(name)
    grasp = np.array([centre[0], centre[1], max(top - GRASP_BELOW_TOP, MIN_FINGERTIP_Z)])
    face = get_object_orientation(name)[2]
    yaw = clearest(grasp, [face, face + math.pi / 2], [name])
    retreat()
    open_gripper()
    gripper_memory["held"] = name
    move_to(grasp + [0.0, 0.0, HOVER], yaw)
    move_to(grasp, yaw)
    close_gripper()
    retreat()
    if is_holding(name):
        move_to(HOME)  # carried out of the cameras' view, so that the next look sees the whole table
        return is_holding(name)
    open_gripper()  # a miss or a slip: nothing stays half-held
    go_home()
    return False


def spot_in_bowl(bowl, held):
    """The point inside bowl farthest from what already lies in it."""
    centre = get_object_position(bowl)[:2]
    inside = [
        get_object_position(n)[:2]
        for n in get_object_names()
        if n not in (bowl, held) and xy_distance(get_object_position(n), centre) < BOWL_INNER
    ]
    if not inside:
        return centre
    candidates = [centre] + [
        centre + BOWL_SPOT_OFFSET * np.array([math.cos(a), math.sin(a)]) for a in np.arange(8) * math.pi / 4
    ]
    return max(candidates, key=lambda c: min(xy_distance(c, p) for p in inside))


def support_top(xy, held):
    """The top of whatever stands at xy (0: the bare table)."""
    tops = [0.0]
    for n in get_object_names():
        if n == held:
            continue
        low, high = get_object_bbox(n)
        if low[0] <= xy[0] <= high[0] and low[1] <= xy[1] <= high[1]:
            tops.append(float(high[2]))
    return max(tops)


def place(target):
    """Put the held object on target (a name, [x, y] or [x, y, z]) and go home; True if it rests there."""
    held = held_object()
    if held is None:
        return False
    if isinstance(target, str) and target == held:
        raise ValueError(f"cannot place the {held} on itself")
    half = HALF_HEIGHTS[kind_of(held)]
    into_bowl = isinstance(target, str) and kind_of(target) == "bowl"
    if isinstance(target, str):
        top = get_object_bbox(target)[1][2]
        spot = spot_in_bowl(target, held) if into_bowl else get_object_position(target)[:2]
        centre_z = top + half + (DROP_ABOVE_RIM if into_bowl else RELEASE_ABOVE_REST)
        skip = [held, target]
    else:
        spot = np.array(target[:2], dtype=float)
        rest = support_top(spot, held) + half
        centre_z = (rest if len(target) == 2 else max(float(target[2]), half)) + RELEASE_ABOVE_REST
        skip = [held]
    point = np.array([spot[0], spot[1], centre_z + half - GRASP_BELOW_TOP])
    yaw = clearest(point, [k * math.pi / 4 for k in range(4)], skip)  # the held object turns with the wrist
    move_to(point + [0.0, 0.0, HOVER], yaw)
    move_to(point, yaw)
    open_gripper()
    go_home()
    return placed_at(held, target, spot)


def placed_at(obj, target, spot):
    """Whether obj came to rest where it was put."""
    if obj not in get_object_names():
        return True  # out of sight now (in a bowl of its own colour): it was let go on target
    position = get_object_position(obj)
    if isinstance(target, str) and target in get_object_names():
        below = get_object_position(target)
        if kind_of(target) == "bowl":
            return xy_distance(position, below) < BOWL_INNER and position[2] < get_object_bbox(target)[1][2] + 0.05
        return xy_distance(position, below) < 0.025 and position[2] > below[2]
    return xy_distance(position, spot) < PLACED_XY


def pick_and_place(obj, target):
    """pick then place; False as soon as a step fails."""
    get_object_position(obj)  # an unknown name fails here, before anything moves
    if not pick(obj):
        return False
    return place(target)


def push(name, direction, distance):
    """Push name along direction ("left", "right", "top", "bottom" or [dx, dy]) by distance metres."""
    vectors = {"left": (0, 1), "right": (0, -1), "top": (1, 0), "bottom": (-1, 0)}
    unit = np.array(vectors[direction] if isinstance(direction, str) else direction, dtype=float)
    unit = unit / np.linalg.norm(unit)
    start = get_object_position(name)
    goal = start[:2] + unit * distance
    low = get_object_bbox(name)[0]
    height = max(low[2] + 0.015, MIN_FINGERTIP_Z + 0.003)
    half = (get_object_bbox(name)[1][0] - low[0]) / 2
    yaw = wrist(math.atan2(unit[1], unit[0]) + math.pi / 2)
    close_gripper()
    behind = start[:2] - unit * (half + 0.03)
    move_to([behind[0], behind[1], height + HOVER], yaw)
    move_to([behind[0], behind[1], height], yaw)
    end = goal - unit * (half + 0.015)
    steps = int(np.ceil(xy_distance(behind, end) / PUSH_STEP))
    for k in range(1, steps + 1):
        point = behind + (end - behind) * k / steps
        move_to([point[0], point[1], height], yaw)
    retreat()
    return xy_distance(get_object_position(name), goal) < 0.02
