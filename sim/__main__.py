import sys

from sim.server import main

sys.exit(main())
