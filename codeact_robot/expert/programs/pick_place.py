# ruff: noqa: F821  (sandbox names)
"""PickPlace: pick up the <object> and place it on (or in) the <target>."""


def solve(object, target):
    def placed():
        return is_in(object, target) if target.endswith(" bowl") else is_on(object, target)

    if not placed():
        move(object, target)
    finish(placed(), f"the {object} is on the {target}")
