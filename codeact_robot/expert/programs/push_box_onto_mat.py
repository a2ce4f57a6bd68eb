# ruff: noqa: F821  (sandbox names)
"""PushBoxOntoMat: push the <box> onto the <mat> (the box is too wide to grasp)."""

ON_MAT_MARGIN = 0.04  # box centre this close to the mat's along both axes (the check allows 6 cm)


def off_mat(box, mat):
    """How far the box's centre is from the mat's, along x and y."""
    b, m = get_object_position(box), get_object_position(mat)
    return max(abs(b[0] - m[0]), abs(b[1] - m[1]))


def solve(box, mat):
    for attempt in range(4):
        if off_mat(box, mat) < ON_MAT_MARGIN:
            break
        b, m = get_object_position(box), get_object_position(mat)
        delta = np.array([m[0] - b[0], m[1] - b[1]])
        distance = float(np.hypot(delta[0], delta[1]))
        print(f"push {attempt + 1}: {distance:.3f} m to go")
        push(box, [float(delta[0] / distance), float(delta[1] / distance)], min(distance, 0.3))
    go_home()
    finish(off_mat(box, mat) < ON_MAT_MARGIN, f"the {box} is on the {mat}")
