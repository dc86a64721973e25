"""``python -m drpose3d`` (and ``torchrun ... -m drpose3d reproduce``): the command line."""

import sys

from drpose3d.command.cli import main

if __name__ == "__main__":
    sys.exit(main())
