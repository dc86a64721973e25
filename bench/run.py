"""Print every speed figure of the project (and write them as JSON): ``python bench/run.py [--full] [--out FILE]``.
The same as ``drpose3d bench``; see ``bench/measure.py`` for what is measured and against which goal."""

import sys

from drpose3d.command.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
