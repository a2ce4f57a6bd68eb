"""The names every sandbox defines besides its skills; a learned skill may take none of them.

Importing this runs nothing of the sandbox: the host reads these names to check a skill
without building a sandbox.
"""

from __future__ import annotations

from codeact_robot.sandbox.builtins import BUILTIN_NAMES

PREIMPORTED = {"np": "numpy", "math": "math"}
"""Modules every program finds imported, by the name it finds them under."""

SANDBOX_NAMES = BUILTIN_NAMES | frozenset(PREIMPORTED)
"""The builtins and the pre-imported modules."""
