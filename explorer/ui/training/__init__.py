"""Training from the window: settings, worker thread, run list and live plots.

    from explorer.ui.training import install_training
    dock = install_training(main_window)   # adds the dock, wires canvas selection and the project's runs
"""
from explorer.ui.training.dock import TrainingDock
from explorer.ui.training.install import install_training
from explorer.ui.training.run_controller import RunController

__all__ = ["RunController", "TrainingDock", "install_training"]
