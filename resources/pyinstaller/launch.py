"""PyInstaller's entry script: the app, frozen (see desktop_agent/packaging/frozen.py)."""

import sys

from desktop_agent.packaging.frozen import main

sys.exit(main())
