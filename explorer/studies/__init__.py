"""Many trainings as one study: the study folder, its trials, the executors (a local pool; Ray), the figure and report.

Sits above analysis/runs/train and below the lessons, the window and the command line; imports no Qt.
"""
