"""The lessons in the window: Help ▸ Lessons and the toolbar's Lessons button open a window with the list of
lessons, each one's page, its "Run this experiment" button and its verdict (explorer.lessons does the work)."""
from explorer.ui.lessons.install import Lessons, install_lessons

__all__ = ["Lessons", "install_lessons"]
