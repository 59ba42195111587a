"""The note's argument as guided experiments: lesson data files, their runner and their checks.

Sits above studies and analysis and below the window and the command line; imports no Qt.
"""
