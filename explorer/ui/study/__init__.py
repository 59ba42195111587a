"""The window's Study view: a study's form, its live figure and loss curves (explorer.studies does the work)."""
from explorer.ui.study.install import install_study

__all__ = ["install_study"]
