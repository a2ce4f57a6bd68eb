"""``python -m codeact_robot.cli``: the same as the ``codeact-robot`` command."""

import sys

from codeact_robot.cli import main

sys.exit(main())
