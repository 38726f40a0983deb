"""``python -m tbfl``: the ``tbfl`` command."""

import sys

from tbfl.cli import main

if __name__ == "__main__":  # importing the module (e.g. the API reference's build) runs nothing
    sys.exit(main())
