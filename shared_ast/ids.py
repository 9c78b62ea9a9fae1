"""Fresh node and toplevel ids.

Ids are random 53-bit integers: editors on different machines mint them
without coordination and they stay exact in JavaScript numbers and JSON.
A collision inside one toplevel is caught by op validation, never silently
merged.
"""

from __future__ import annotations

import random

_rng = random.SystemRandom()

MAX_ID = 2**53 - 1


def new_id() -> int:
    return _rng.randint(1, MAX_ID)
