"""Work-arounds for the Qt binding, applied once when ``explorer.ui`` is imported.

PySide6 6.12's wheels return ``None`` from every void method without taking a reference to it. From
Python 3.12 on ``None`` is immortal and that is harmless; on 3.11 each call drops None's reference
count by one, and after a few thousand Qt calls (one repaint can make hundreds) the interpreter aborts
with "none_dealloc: deallocating None". We give ``None`` the same treatment 3.12 does: a reference
count so large no run can use it up. The field is checked against ``sys.getrefcount`` first and left
alone when it does not match (an unusual build), so this can only ever add references.
"""
from __future__ import annotations

import ctypes
import platform
import sys

HEADROOM = 1 << 60


def immortalize_none() -> bool:
    """Return True when None's reference count was raised (CPython < 3.12 only). True and False get
    the same headroom: methods returning a bool under-count them the same way (seen as "bool_dealloc"
    after a few test files of geometry checks)."""
    if sys.version_info >= (3, 12) or platform.python_implementation() != "CPython":
        return False
    raised = False
    for obj in (None, True, False):
        field = ctypes.c_ssize_t.from_address(id(obj))
        # sys.getrefcount counts its own argument; read the field in between the same way
        if abs(field.value - (sys.getrefcount(obj) - 1)) > 64:
            continue
        if field.value < HEADROOM // 2:
            field.value += HEADROOM
        raised = raised or obj is None
    return raised
