"""Ctrl-C for the long commands that run many trainings (study, lesson): the first one cancels the work
through its control (the command then exits 130), a second one aborts at once."""
from __future__ import annotations

import signal
import sys
import threading


def cancel_on_ctrl_c(control, saying: str):
    """Route SIGINT to ``control.cancel()`` and print ``saying``; returns the previous handler (None when
    not on the main thread, where no handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def handler(signum, frame):
        if control.cancelled:
            raise KeyboardInterrupt
        control.cancel()
        print(f"\n{saying} (Ctrl-C again to abort)", file=sys.stderr)

    return signal.signal(signal.SIGINT, handler)
