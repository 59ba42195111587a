"""Data sets as in-memory tensors, for training residual networks.

No Qt here: the GUI and the CLI both go through :func:`load_dataset`.

    >>> ds = load_dataset("digits", seed=0)
    >>> ds.input_shape, ds.num_classes
    ((1, 8, 8), 10)
"""

from .augment import augment_batch
from .dataset import Dataset
from .errors import DatasetError
from .loader import batches, num_batches
from .registry import DATASET_HELP, load_dataset

__all__ = ["DATASET_HELP", "Dataset", "DatasetError", "augment_batch", "batches",
           "load_dataset", "num_batches"]
