import sys

from ecco_lib.cli import main

sys.exit(main())
