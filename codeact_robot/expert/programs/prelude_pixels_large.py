# ruff: noqa: F821  (skill functions, np and math are names of the sandbox namespace)
"""Objects too large to grasp, found in the camera images: mats, boxes, crates and drawers.

Loaded after prelude_pixels.py, whose look() hands each colour's groups of top-camera points
here first. A group is told by the height and width of its faces:

- a mat is flat (2 mm high) and 16 cm wide; a box can slide over it, so a mat once seen whole
  keeps that estimate while it is seen only in part (it never moves);
- a box's top face is 10 cm wide, 5 cm up, and so is all of it seen from above (a bowl's rim is wider and
  lower, and blocks in a bowl can show a face as wide and high as a box's);
- a crate's top face is a 2 cm knob 9 cm up, with an 11 cm face 2 cm below it;
- a drawer's cabinet has a 16 cm face 11 cm up; its knob ("<colour> drawer handle") is the
  point of the cabinet's colour farthest out in front of it, at the drawer's mid height.

Points of a large object's colour around it (a box's sides, a drawer pulled out) are its own.
"""

LARGE_SIZES = {
    "mat": (0.16, 0.16, 0.002),
    "box": (0.10, 0.10, 0.05),
    "crate": (0.11, 0.11, 0.09),  # 7 cm high, with its 2 cm knob on top
    "drawer": (0.16, 0.16, 0.11),  # the cabinet
    "handle": (0.02, 0.02, 0.02),
}
KNOB_SIZE = 0.02  # a crate's knob
HANDLE_STANDOFF = 0.035  # a drawer's knob stands this far in front of the drawer's front
DRAWER_TRAVEL = 0.12
FLAT = 0.004  # a group no higher than this is a mat
WIDE_FACE = 0.08  # a face at least this wide is a large object's
BOX_FACE = 0.12  # ... and narrower than this, 4 to 6 cm up: a box's (a bowl's rim is 14 cm); wider, higher: a cabinet's
BOX_TOP = (0.04, 0.06)
CABINET_TOP = 0.09
CRATE_TOP = 0.08  # a crate's knob is 9 cm up (a block in a bowl of its colour is 5 cm up, over the bowl's wall)
WHOLE_MAT = 0.15  # a mat seen this wide is seen whole
HANDLE_REACH = 0.03  # a knob's points lie this close to the cabinet's centre line (y)
HANDLE_Z = (0.035, 0.075)
ZONE_MARGIN = 0.03  # points of a large object's colour this close to its box are its own


def large_object(points):
    """(kind, centre xy, yaw) of a group that is a mat, box, crate or drawer's cabinet, or None."""
    top = float(points[:, 2].max())
    if top < FLAT:
        centre, sides, _ = rectangle(points[:, :2])
        return ("mat", centre, 0.0) if max(sides) > WIDE_FACE else None
    centre, sides, yaw = rectangle(points[points[:, 2] > top - FACE_DEPTH][:, :2])
    if min(sides) > BOX_FACE and top > CABINET_TOP:
        return "drawer", centre, 0.0
    box_face = min(sides) > WIDE_FACE and max(sides) < BOX_FACE and BOX_TOP[0] < top < BOX_TOP[1]
    if box_face and min(rectangle(points[:, :2])[1]) < BOX_FACE:  # a bowl's rim around its face is wider both ways
        return "box", centre, yaw
    below_knob = np.abs(points[:, 2] - (top - KNOB_SIZE)) < FACE_DEPTH
    if max(sides) < 2 * KNOB_SIZE and top > CRATE_TOP and below_knob.sum() >= MIN_POINTS:
        centre, sides, yaw = rectangle(points[below_knob][:, :2])
        if min(sides) > WIDE_FACE:
            return "crate", centre, yaw
    return None


def drawer_handle(points, drawer):
    """The estimate of a drawer's knob: its colour's points farthest out in front of the cabinet, or None."""
    centre = drawer["position"]
    front = drawer["bbox"][0][0]
    knob = points[
        (points[:, 0] < front)
        & (points[:, 0] > front - DRAWER_TRAVEL - HANDLE_STANDOFF - 2 * KNOB_SIZE)
        & (np.abs(points[:, 1] - centre[1]) < HANDLE_REACH)
        & (points[:, 2] > HANDLE_Z[0])
        & (points[:, 2] < HANDLE_Z[1])
    ]
    if len(knob) < MIN_POINTS:
        return None
    x = float(knob[:, 0].min()) + LARGE_SIZES["handle"][0] / 2
    knob = knob[knob[:, 0] < x + LARGE_SIZES["handle"][0] / 2]
    y = float(np.median(knob[:, 1]))
    return large_estimate("handle", [x, y], float(centre[2]), 0.0)


def large_estimate(kind, centre, z, yaw):
    """A large object's pose and box from its kind, centre xy, centre height and yaw."""
    size = LARGE_SIZES[kind]
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    half = np.array([(c * size[0] + s * size[1]) / 2, (s * size[0] + c * size[1]) / 2, size[2] / 2])
    position = np.array([float(centre[0]), float(centre[1]), float(z)])
    return {"position": position, "yaw": yaw, "bbox": (position - half, position + half)}


def zone(estimate_, kind):
    """The xy box around a large object whose points of its colour are its own (a drawer's: pulled out too)."""
    low, high = estimate_["bbox"][0][:2] - ZONE_MARGIN, estimate_["bbox"][1][:2] + ZONE_MARGIN
    if kind == "drawer":
        low = low - np.array([DRAWER_TRAVEL + HANDLE_STANDOFF + KNOB_SIZE, 0.0])
    return low, high


def in_zone(zones, colour, group):
    """Whether a group's centre lies in the zone of a large object of its colour."""
    centre = np.mean(group[:, :2], axis=0)
    return any(c == colour and np.all(centre > low) and np.all(centre < high) for c, (low, high) in zones)


def find_large(top_groups, colour_points):
    """The large objects among the top camera's groups: (objects by name, their zones as (colour, (low, high))).

    Args:
        top_groups: (colour, points) per group of one colour, largest first.
        colour_points: every top-camera point of each colour (a drawer's knob need not touch its cabinet).
    """
    objects, zones = {}, []
    for colour, group in top_groups:
        found_ = None if in_zone(zones, colour, group) else large_object(group)
        if found_ is None:
            continue
        kind, centre, yaw = found_
        name = f"{colour} {kind}"
        objects[name] = large_estimate(kind, centre, LARGE_SIZES[kind][2] / 2, yaw)
        if kind == "mat":
            objects[name] = whole_mat(name, objects[name], group)
        if kind == "drawer":
            handle = drawer_handle(colour_points[colour], objects[name])
            if handle is not None:
                objects[name + " handle"] = handle
        zones.append((colour, zone(objects[name], kind)))
    return objects, zones


def whole_mat(name, estimate_, group):
    """A mat's estimate from the look that saw it whole (a box on it hides part of it); remembers a whole view."""
    _, sides, _ = rectangle(group[:, :2])
    if min(sides) > WHOLE_MAT:
        seen["mats"][name] = estimate_
        return estimate_
    return seen["mats"].get(name, estimate_)
