import sys

from tbfl.cli import main

sys.exit(main())
