"""Qt only: the window, canvas, inspector, plots and the worker thread."""
from explorer.ui.compat import immortalize_none

immortalize_none()  # PySide6 6.12 on Python 3.11 under-counts None; see compat.py
