import sys

from seismag.cli import main

sys.exit(main())
