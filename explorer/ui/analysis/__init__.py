"""The analysis workbench in the window: a dock with one tool view per analysis (gradient flow, depth
sweep, lesion, path lengths, loss landscape, block anatomy), run in a worker thread on the current graph,
the selected run or a run folder, with results saved beside the run and exported as PNG and CSV."""
from explorer.ui.analysis.install import install_analysis

__all__ = ["install_analysis"]
