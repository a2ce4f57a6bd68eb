# ruff: noqa: F821  (skill functions, np and math are names of the sandbox namespace)
"""Object state found in the camera images, written with the pixels tier's skills.

Defines get_object_names, get_object_position, get_object_orientation, get_object_bbox
and is_holding from the RGB-D images and the cameras' calibration, with numpy only:

1. unproject every pixel of the top and front cameras to a world point (get_camera_info);
2. white-balance each image against the bare table and label each pixel above the table
   with the palette colour of nearest chromaticity;
3. per colour, group the top camera's points into connected 1 cm cells; the groups that are
   mats, boxes, crates or drawers (prelude_pixels_large.py) go first, with the points of
   their colour around them; of the rest, a group wider than 10 cm is a bowl (a block of its
   colour inside it is a raised patch within the rim); otherwise its top face's size and
   height tell a cup (5 cm round base, 6 cm up) from a block, its rectangle the centre and yaw;
   a block's whole top face also tells its size (3, 4 or 5 cm), and a block seen only in part
   (a tower's lower block) the height of its side as the front camera sees it; once any whole
   top face is not 4 cm, the scene has sized blocks and every block is named with its size word
   ("large red block"), so blocks of one colour and different sizes are told apart;
4. a colour the front camera sees where the top camera saw none of it is a block under
   another (a tower's lower block): it bears the lowest object seen above it, so its top is
   that object's bottom.

What the gripper holds is known by touch: the fingers stopped apart on something; what a
holding gripper holds up in view (a crate lifted by its knob) is not on the table.
"""

PALETTE = {
    "red": (0.85, 0.10, 0.10),
    "orange": (0.95, 0.50, 0.05),
    "yellow": (0.95, 0.85, 0.10),
    "green": (0.10, 0.60, 0.20),
    "blue": (0.10, 0.25, 0.85),
    "purple": (0.50, 0.20, 0.70),
    "pink": (0.95, 0.50, 0.70),
    "cyan": (0.10, 0.80, 0.85),
    "brown": (0.45, 0.25, 0.08),
    "gray": (0.45, 0.45, 0.45),
}
TABLE_RGB = (0.80, 0.74, 0.62)  # the table top's colour, the white-balance reference
SIZES = {"block": (0.04, 0.04, 0.04), "cup": (0.07, 0.07, 0.06), "bowl": (0.14, 0.14, 0.045)}
BLOCK_SIDES = {"small": 0.03, "medium": 0.04, "large": 0.05}
SIZE_BOUNDS = ((0.0335, "small"), (0.0435, "medium"))  # a whole top face narrower than this (eroded) is that size
SIDE_REACH = 0.05  # a side face the front camera sees this close to a block's centre is that block's
SIDE_ON_TABLE = 0.012  # a side seen this low reaches down to the table
EROSION_HEIGHT = 0.005  # a side face's z extent falls short of the block's height by the eroded edge pixels
MIN_Z, MAX_Z = 0.001, 0.175  # above the table (a mat is 2 mm high), below anything held up by the gripper
AREA = (0.19, 0.71, -0.36, 0.36)  # x and y range looked at: the workspace and 6 cm around it
MAX_CHROMA = 0.07
GRAY_BRIGHTNESS = (0.13, 0.55)
MIN_POINTS = 12
CELL = 0.01
BOWL_EXTENT = 0.10
CUP_FACE = 0.045  # an upturned cup shows its 5 cm round base: wider than a medium block's face
CUP_TOP = (0.055, 0.067)  # ... 6 cm up (a large block's as wide face is 5 cm up, or higher when stacked)
FACE_DEPTH = 0.004
INNER_BLOCK_RADIUS = 0.05  # raised points this close to a bowl's centre are a block in it
HELD_WIDTH = (0.005, 0.075)  # fingers stopped this far apart hold something (closed: less, open: more)
HELD_REACH, HELD_ABOVE_TABLE = 0.08, 0.05  # points this close to a holding gripper and this high up are what it holds
HELD_SPAN = 0.10  # ... if no lower than this under the fingertips (a crate held by its knob is 9 cm high)
TOP_FACE_MIN = 0.03  # a top face narrower than this is a side seen past the object above it, or a small block's
SMALL_FACE_MIN = 0.024  # a square top face at least this wide is a small block's whole face
LONGEST_FACE = 0.06  # no whole face of a block is longer than a large block's (5 cm, and a pixel or two)
SQUARE = 0.8  # ... square: its shorter side is at least this share of its longer one
# The last look and what looks learned: each colour's last size word, its first (kept while it is the
# colour's only block), the colours of which more than one block was seen at once, and the mats.
seen = {"key": None, "objects": {}, "sizes": {}, "first_size": {}, "shared": [], "sized": False, "mats": {}}


def camera_points(camera):
    """Every pixel's world point (H, W, 3) and its colour as the image shows it (H, W, 3), 0 to 1."""
    info = get_camera_info(camera)
    depth = get_depth_image(camera)
    K, pose = info["K"], info["camera_to_world"]
    columns, rows = np.meshgrid(np.arange(depth.shape[1]), np.arange(depth.shape[0]))
    x = (columns - K[0, 2]) / K[0, 0] * depth
    y = (rows - K[1, 2]) / K[1, 1] * depth
    points = np.stack([x, y, depth], axis=-1) @ pose[:3, :3].T + pose[:3, 3]
    return points, get_camera_image(camera) / 255.0


def colour_labels(points, rgb):
    """Per pixel: the name index in PALETTE of its colour, or -1 (table, arm, background)."""
    x, y, z = points[..., 0], points[..., 1], points[..., 2]
    table = np.abs(z) < 0.002
    shade = np.ones(3)
    if table.sum() > 100:
        shade = np.median(rgb[table], axis=0) / np.array(TABLE_RGB)
    albedo = rgb / np.maximum(shade, 1e-3)
    total = albedo.sum(axis=-1)
    chroma = albedo / np.maximum(total, 1e-6)[..., None]
    palette = np.array(list(PALETTE.values()))
    palette = palette / palette.sum(axis=1, keepdims=True)
    distances = np.linalg.norm(chroma[..., None, :] - palette[None, None], axis=-1)
    labels = np.argmin(distances, axis=-1)
    closest = np.min(distances, axis=-1)
    brightness = total / 3.0
    usable = (x > AREA[0]) & (x < AREA[1]) & (y > AREA[2]) & (y < AREA[3]) & (z > MIN_Z) & (z < MAX_Z)
    valid = usable & (closest < MAX_CHROMA) & (total > 0.15)
    gray = list(PALETTE).index("gray")
    valid = valid & ((labels != gray) | ((brightness > GRAY_BRIGHTNESS[0]) & (brightness < GRAY_BRIGHTNESS[1])))
    # Erode by a pixel: an edge pixel mixes an object's colour with what lies behind it.
    inner = np.zeros(valid.shape, dtype=bool)
    same = labels[1:-1, 1:-1]
    inner[1:-1, 1:-1] = (
        valid[1:-1, 1:-1]
        & (labels[:-2, 1:-1] == same)
        & (labels[2:, 1:-1] == same)
        & (labels[1:-1, :-2] == same)
        & (labels[1:-1, 2:] == same)
        & valid[:-2, 1:-1]
        & valid[2:, 1:-1]
        & valid[1:-1, :-2]
        & valid[1:-1, 2:]
    )
    return np.where(inner, labels, -1)


def groups(points):
    """The points split into groups whose 1 cm cells touch (8-connected), largest first."""
    cells = np.floor(points[:, :2] / CELL).astype(int)
    keys = [(int(i), int(j)) for i, j in cells.tolist()]
    occupied = set(keys)
    group_of = {}
    count = 0
    for start in set(keys):
        if start in group_of:
            continue
        group_of[start] = count
        stack = [start]
        while stack:
            i, j = stack.pop()
            for di in (-1, 0, 1):
                for dj in (-1, 0, 1):
                    cell = (i + di, j + dj)
                    if cell not in group_of and cell in occupied:
                        group_of[cell] = count
                        stack.append(cell)
        count += 1
    index = np.array([group_of[k] for k in keys])
    found = [points[index == g] for g in range(count)]
    return sorted([g for g in found if len(g) >= MIN_POINTS], key=len, reverse=True)


def rectangle(xy):
    """Centre, side lengths and yaw of the smallest rectangle around 2-D points (yaw within +-45 degrees)."""
    best = None
    for degrees in range(0, 90, 3):
        theta = math.radians(degrees)
        axes = np.array([[math.cos(theta), math.sin(theta)], [-math.sin(theta), math.cos(theta)]])
        local = xy @ axes.T
        low, high = local.min(axis=0), local.max(axis=0)
        area = float(np.prod(high - low))
        if best is None or area < best[0]:
            best = (area, (low + high) / 2 @ axes, high - low, theta)
    _, centre, sides, theta = best
    return centre, sides, (theta + math.pi / 4) % (math.pi / 2) - math.pi / 4


def estimate(kind, centre, z, yaw, side=None):
    """An object's pose and box from its kind, centre xy, centre height, yaw and (a block's) side length."""
    size = SIZES[kind] if side is None else (side, side, side)
    c, s = abs(math.cos(yaw)), abs(math.sin(yaw))
    half = np.array([size[0] / 2, size[1] / 2, size[2] / 2])
    if kind != "bowl":
        half[:2] = [c * half[0] + s * half[1], s * half[0] + c * half[1]]
    position = np.array([float(centre[0]), float(centre[1]), float(z)])
    return {"position": position, "yaw": yaw, "bbox": (position - half, position + half)}


def nearest_size(side):
    """The size word whose block side is closest to a measured side length."""
    return min(BLOCK_SIDES, key=lambda word: abs(BLOCK_SIDES[word] - side))


def side_height(front_groups, centre):
    """The height of the nearest group the front camera sees around centre (its side face's z extent), or None."""
    near = [g for g in front_groups if xy_distance(np.mean(g[:, :2], axis=0), centre) < SIDE_REACH]
    if not near:
        return None
    group = min(near, key=lambda g: xy_distance(np.mean(g[:, :2], axis=0), centre))
    return float(group[:, 2].max() - group[:, 2].min()) + EROSION_HEIGHT


def block_size(colour, sides, whole, height):
    """A block's size word: the one it first showed while it is its colour's only block (a face read in a
    tower can come out a size off, and a name must not change), else from its whole top face, else its
    side's height, else what its colour last showed."""
    if colour in seen["first_size"] and colour not in seen["shared"]:
        return seen["first_size"][colour]
    if whole:
        word = next((w for bound, w in SIZE_BOUNDS if max(sides) < bound), "large")
        seen["sizes"][colour] = word
        if colour not in seen["first_size"]:
            seen["first_size"][colour] = word
        seen["sized"] = seen["sized"] or word != "medium"  # a side's height is too rough to tell this
        return word
    if not seen["sized"]:
        return "medium"  # every block is 4 cm
    if height is not None:
        return nearest_size(height)
    return seen["sizes"].get(colour, "medium")


def describe(points):
    """(kind, centre, top height, yaw, top face sides, whole top face seen) of one group seen from above, or None."""
    xy = points[:, :2]
    extent = float(np.max(np.max(xy, axis=0) - np.min(xy, axis=0)))
    if extent > BOWL_EXTENT:
        centre = (np.max(xy, axis=0) + np.min(xy, axis=0)) / 2
        return "bowl", centre, SIZES["bowl"][2], 0.0, None, True
    top = float(points[:, 2].max())
    if top < 0.025:
        return None  # a patch of a bowl's floor
    face = xy[points[:, 2] > top - FACE_DEPTH]
    centre, sides, yaw = rectangle(face)
    kind = "cup" if max(sides) > CUP_FACE and CUP_TOP[0] < top < CUP_TOP[1] else "block"
    return kind, centre, top, yaw, sides, whole_face(sides)


def whole_face(sides):
    """Whether a top face's rectangle is a whole face: wide, or narrower (a small block's) and square; never long."""
    if max(sides) > LONGEST_FACE:
        return False  # more than one face, or a face and what a held crate's shadow does to it
    return min(sides) > TOP_FACE_MIN or (min(sides) > SMALL_FACE_MIN and min(sides) > SQUARE * max(sides))


def inner_block(points, bowl):
    """(centre, top height, yaw, sides) of a block lying in a bowl of its own colour: raised points near its centre."""
    centre = bowl["position"][:2]
    near = np.hypot(points[:, 0] - centre[0], points[:, 1] - centre[1]) < INNER_BLOCK_RADIUS
    raised = points[near & (points[:, 2] > 0.03)]
    if len(raised) < MIN_POINTS:
        return None
    face_centre, sides, yaw = rectangle(raised[:, :2])
    if max(sides) > 0.06:
        return None
    return face_centre, float(raised[:, 2].max()), yaw, sides


def look():
    """Every object found in the images, by name (recomputed only when the images change).

    An empty gripper over the table would hide what lies below it: it goes home first.
    Blocks are named with their size word once any whole top face is not 4 cm (the scene has sized blocks).
    """
    here = get_gripper_position()
    if not is_holding() and (here[0] > HOME[0] + 0.01 or here[2] < HOME[2] - 0.05):
        go_home()
    key = tuple(float(get_depth_image(c).sum()) + float(get_camera_image(c).sum()) for c in ("top", "front"))
    if seen["key"] == key:
        return seen["objects"]
    top_points, top_rgb = camera_points("top")
    front_points, front_rgb = camera_points("front")
    top_labels = colour_labels(top_points, top_rgb)
    front_labels = colour_labels(front_points, front_rgb)
    gripper = get_gripper_position() if is_holding() else None
    front = {
        colour: [g for g in groups(front_points[front_labels == index]) if not held_up(g, gripper)]
        for index, colour in enumerate(PALETTE)
    }
    top_groups = [
        (colour, g)
        for index, colour in enumerate(PALETTE)
        for g in groups(top_points[top_labels == index])
        if not held_up(g, gripper)
    ]
    colour_points = {colour: top_points[top_labels == index] for index, colour in enumerate(PALETTE)}
    objects, zones = find_large(top_groups, colour_points)  # blocks as "size colour block", the rest "colour kind"
    partly_seen, in_bowls = [], []
    described = [(colour, group, describe(group)) for colour, group in top_groups if not in_zone(zones, colour, group)]
    note_shared(described)
    for colour, _, found in described:  # whole faces first: they tell whether the scene has sized blocks
        if found is not None and found[0] == "block" and found[5]:
            block_size(colour, found[4], True, None)
    for colour, group, found in described:
        if found is not None:
            kind, centre, top, yaw, sides, whole = found
            if kind != "block":
                if f"{colour} {kind}" not in objects:
                    objects[f"{colour} {kind}"] = estimate(kind, centre, top - SIZES[kind][2] / 2, yaw)
                if kind == "bowl":
                    in_bowls.append((colour, inner_block(group, objects[f"{colour} bowl"])))
                continue
            size = block_size(colour, sides, whole, None if whole else side_height(front[colour], centre))
            name = f"{size} {colour} block"
            if name in objects:
                continue
            side = BLOCK_SIDES[size]
            objects[name] = estimate("block", centre, top - side / 2, yaw, side)
            if not whole:
                partly_seen.append((name, group))
    for colour, block in in_bowls:
        if block is not None:
            centre, top, yaw, sides = block
            size = block_size(colour, sides, whole_face(sides), None)
            side = BLOCK_SIDES[size]
            objects.setdefault(f"{size} {colour} block", estimate("block", centre, top - side / 2, yaw, side))
    for name, group in sorted(partly_seen, key=lambda item: -float(item[1][:, 2].max())):
        above = beneath(objects, group)  # a lower block of a tower, seen past the one above: it bears that one
        if above is not None:
            side = BLOCK_SIDES[name.split(" ")[0]]
            objects[name] = estimate("block", above["position"][:2], above["bbox"][0][2] - side / 2, 0.0, side)
    unexplained = [
        (colour, group)
        for colour, front_groups in front.items()
        for group in front_groups
        if not in_zone(zones, colour, group)  # a side of a large object
        and not any(n.split(" ")[-2] == colour and near_xy(objects[n], group) for n in objects)
    ]
    for colour, group in sorted(unexplained, key=lambda item: -float(item[1][:, 2].max())):  # higher ones first
        above = beneath(objects, group)
        if above is None:
            continue
        size = block_size(colour, None, False, height_beneath(group, above))
        side = BLOCK_SIDES[size]
        name = f"{size} {colour} block"
        if name not in objects:
            objects[name] = estimate("block", above["position"][:2], above["bbox"][0][2] - side / 2, 0.0, side)
    named = {n if seen["sized"] or not n.endswith(" block") else n.split(" ", 1)[1]: o for n, o in objects.items()}
    seen["key"], seen["objects"] = key, {n: named[n] for n in sorted(named)}
    return seen["objects"]


def note_shared(described):
    """Add to seen["shared"] each colour of which the groups seen from above (colour, group, describe(group))
    show two blocks."""
    faces = {}
    for colour, _, found in described:
        if found is not None and found[0] == "block":
            faces.setdefault(colour, []).append(found)
    for colour, found in faces.items():
        pairs = [(a, b) for i, a in enumerate(found) for b in found[i + 1 :]]
        if colour not in seen["shared"] and any(two_blocks(a, b) for a, b in pairs):
            seen["shared"].append(colour)


def two_blocks(a, b):
    """Whether two groups of one colour seen from above (describe's tuples) are two blocks: both whole top faces,
    or farther apart than a block's face is long (the parts of a block's top seen around the block on it lie closer).
    """
    if a[5] and b[5]:
        return True
    return xy_distance(a[1], b[1]) > LONGEST_FACE


def held_up(group, gripper):
    """Whether a group is what the gripper (None: holding nothing) holds up in view: in the air just below it
    (a tower's upper block under a gripper carrying another one high above is not)."""
    if gripper is None:
        return False
    bottom = float(group[:, 2].min())
    above = bottom > max(HELD_ABOVE_TABLE, gripper[2] - HELD_SPAN)
    return above and xy_distance(np.mean(group[:, :2], axis=0), gripper) < HELD_REACH


def height_beneath(group, above):
    """The height of a block whose side the front camera sees beneath another (above).

    Up to the bottom of the one above when its side reaches down to the table (its side's edges
    are eroded by more than a pixel each), else its side's z extent.
    """
    if float(group[:, 2].min()) < SIDE_ON_TABLE:
        return float(above["bbox"][0][2])
    return float(group[:, 2].max() - group[:, 2].min()) + EROSION_HEIGHT


def near_xy(object_estimate, group, reach=0.06):
    """Whether a group of points lies around an object already found."""
    centre = np.mean(group[:, :2], axis=0)
    return xy_distance(centre, object_estimate["position"]) < reach


def beneath(objects, group):
    """The estimate of the lowest object that stands on the group's points (above them), or None."""
    top = float(group[:, 2].max())
    centre = np.mean(group[:, :2], axis=0)
    above = [
        o
        for o in objects.values()
        if o["position"][2] > top
        and xy_distance(o["position"], centre) < 0.05
        and abs(centre[1] - o["position"][1]) < 0.03
    ]
    if not above:
        return None
    return min(above, key=lambda o: o["position"][2])


def found(name):
    """The estimate for name, or a ValueError listing what the images show."""
    objects = look()
    if name not in objects:
        raise ValueError(f"no {name} is visible; visible objects: {', '.join(objects) or 'none'}")
    return objects[name]


def get_object_names():
    """Names of the objects the cameras show, sorted."""
    return list(look())


def get_object_position(name):
    """Centre of an object, found in the images."""
    return found(name)["position"].copy()


def get_object_orientation(name):
    """(roll, pitch, yaw) of an object, found in the images (roll and pitch taken as 0)."""
    return (0.0, 0.0, found(name)["yaw"])


def get_object_bbox(name):
    """(min corner, max corner) of an object, found in the images."""
    low, high = found(name)["bbox"]
    return low.copy(), high.copy()


def is_holding(name=None):
    """Whether the fingers stopped on something (and it is the object pick grasped last, when name is given)."""
    holding = HELD_WIDTH[0] < get_gripper_width() < HELD_WIDTH[1]
    return holding if name is None else holding and gripper_memory["held"] == name


def held_object():
    """The object in the gripper (the one pick grasped last), or None."""
    return gripper_memory["held"] if is_holding() else None
