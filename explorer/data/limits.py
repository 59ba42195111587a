"""How much one data set may cost, checked against what a file declares before anything is allocated.

A data file is untrusted: a 222-byte pickle or a 2 MB gzip can declare gigabytes. Each loader charges
what the headers promise to one :class:`Budget` per data set *before* reading or allocating it, so a
crafted file is refused with one line instead of filling memory. The figures are far above the real
sets the loaders are for (CIFAR-10 needs 0.69 GiB, MNIST 0.2 GiB as float32 tensors).
"""

from __future__ import annotations

from .errors import DatasetError

# The float32 tensors of one data set (train and validation together).
DATASET_BUDGET_BYTES = 1 << 30
# One decoded image: 32 Mpixel (about 5800×5800) is above any camera a lab set comes from, and the
# RGB float copy of that is 0.4 GB, still under the data set budget.
MAX_IMAGE_PIXELS = 1 << 25
# An encoded image file; the largest photo of MAX_IMAGE_PIXELS stays well under it.
MAX_IMAGE_FILE_BYTES = 64 << 20

_FLOAT_BYTES = 4


def gib(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:.2f} GiB"


class Budget:
    """The bytes one data set's float32 tensors may take; loaders charge it before allocating."""

    def __init__(self, name: str, limit_bytes: int = DATASET_BUDGET_BYTES) -> None:
        self.name = name
        self.limit = limit_bytes
        self.used = 0

    def charge(self, values: int, where: str,
               fix: str = "the file is damaged or not the data set it claims to be") -> None:
        """Reserve ``values`` float32 values for ``where`` or refuse with the figures and ``fix``."""
        cost = values * _FLOAT_BYTES
        if self.used + cost > self.limit:
            raise DatasetError(
                f"{where} declares {values:,} values ({gib(cost)} as float32), which takes the "
                f"{self.name} data set over its {gib(self.limit)} budget; {fix}")
        self.used += cost
