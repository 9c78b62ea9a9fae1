"""`python -m editor`: open the structure editor (see `editor.app`)."""

import sys

from editor.app import main

sys.exit(main())
