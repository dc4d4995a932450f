"""``consolidate`` (the console script) and ``python -m consolidate``.

The command's own module is imported inside :func:`main`, so that a Ctrl-C while Python is still
loading it ends like one during the run (one line, exit 130), not in a traceback.
"""

import sys

from consolidate.errors import EXIT_INTERRUPTED


def main() -> int:
    try:
        from consolidate.cli import main as run
    except KeyboardInterrupt:
        print("consolidate: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return run()


if __name__ == "__main__":
    sys.exit(main())
