"""Whether a process id read from outside (a file name, a lock file) names a process that is running.

A pid comes from untrusted text: ``os.kill`` raises OverflowError for one outside the C int range and
treats 0 and negative numbers as process groups, so anything outside 1..2**31-1 is "not running".
"""
from __future__ import annotations

import os

MAX_PID = 2**31 - 1


def valid_pid(pid: int) -> bool:
    return 0 < pid <= MAX_PID


def alive(pid: int) -> bool:
    """True when ``pid`` is running (or exists but is not ours to signal); False when it is not a valid pid."""
    if not valid_pid(pid):
        return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError, ValueError):
        return True  # exists but not ours, or we cannot tell: treat it as alive and leave its files alone
    return True
