"""`python -m hub.cli`: how a hub starts its helpers and the demo its devices."""

import sys

from hub.cli import main

sys.exit(main())
