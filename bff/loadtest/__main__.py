import sys

from bff.loadtest.command import main

sys.exit(main())
