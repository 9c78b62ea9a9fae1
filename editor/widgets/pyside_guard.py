"""A guard against a reference-count bug in PySide6's bindings on Python 3.11.

With PySide6 6.12 on Python 3.11, some void Qt methods (`QFont.setBold`,
`QPainter.setFont`, `QPainter.setPen`, ...) drop one reference to `None` (and
some to `True`/`False`) on every call. The code view makes such calls for every
token it paints, so after a few thousand paints Python would free `None` itself
and abort ("Fatal Python error: none_dealloc"). Python 3.12 made these
singletons immortal; on older Pythons this module gives them a reference count
so large that no session can run it down, which is what 3.12 does.
"""

from __future__ import annotations

import ctypes
import sys

#: Added to each singleton's count: more calls than any session makes.
HEADROOM = 1 << 40


def guard() -> None:
    if sys.version_info >= (3, 12):
        return
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every CPython object header.
        ctypes.c_ssize_t.from_address(id(singleton)).value += HEADROOM


guard()
