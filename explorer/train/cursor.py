"""Where a run is: epoch, optimiser step and batch within the epoch, against how many there will be."""
from __future__ import annotations


def steps_per_epoch(n: int, batch_size: int) -> int:
    """Batches per epoch; the last may be short, but a lone last sample is left out (it changes every
    epoch): BatchNorm cannot normalise a batch of one."""
    if n > 1 and n % batch_size == 1:
        return n // batch_size
    return -(-n // batch_size)


class Cursor:
    def __init__(self, epochs: int, n_train: int, batch_size: int, max_steps: int | None = None) -> None:
        self.epochs = epochs
        self.steps_per_epoch = steps_per_epoch(n_train, batch_size)
        total = epochs * self.steps_per_epoch
        self.total_steps = min(total, max_steps) if max_steps is not None else total
        self.epoch = 0                  # completed epochs
        self.step = 0                   # optimiser steps done
        self.batch = 0                  # batches done in the current epoch

    @property
    def running(self) -> bool:
        """Another epoch is due."""
        return self.epoch < self.epochs and self.step < self.total_steps

    @property
    def in_epoch(self) -> bool:
        return self.batch < self.steps_per_epoch

    @property
    def at_end(self) -> bool:
        return self.step >= self.total_steps

    @property
    def epoch_complete(self) -> bool:
        return self.batch == self.steps_per_epoch

    @property
    def epochs_left(self) -> int:
        """Epochs still to validate (the current one counts until its last batch is done)."""
        return self.epochs - self.epoch - (1 if self.epoch_complete else 0)

    def advance(self) -> None:
        self.step += 1
        self.batch += 1

    def log_due(self, every: int) -> bool:
        return self.step % every == 0 or self.epoch_complete or self.at_end

    def next_epoch(self) -> None:
        self.epoch += 1
        self.batch = 0

    def restore(self, epoch: int, step: int, batch: int) -> None:
        self.epoch, self.step, self.batch = epoch, step, batch
