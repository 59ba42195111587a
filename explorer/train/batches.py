"""The data a run steps through: the training split in each epoch's random order, one batch at a time,
augmented and laid out for the model; the validation split in order.

Order and augmentation draw from the run's own CPU ``torch.Generator`` (the same on any device), so
they are reproducible from the seed and never touch the global generator.
"""
from __future__ import annotations

from collections.abc import Iterator

import torch


class Batches:
    def __init__(self, data, batch_size: int, seed: int, crop_padding: int = 0, flip: bool = False,
                 channels_last: bool = False) -> None:
        self.data = data                    # the data set, already on the training device
        self.batch_size = batch_size
        self.gen = torch.Generator().manual_seed(seed)
        self.crop, self.flip = crop_padding, flip
        self.channels_last = channels_last
        self.order: torch.Tensor | None = None   # this epoch's sample order (CPU); a mid-epoch checkpoint keeps it
        self._order_here: torch.Tensor | None = None  # the same on the device
        self._augment = None
        if crop_padding or flip:
            from explorer.data.augment import augment_batch
            self._augment = augment_batch

    @property
    def n_train(self) -> int:
        return int(self.data.x_train.shape[0])

    def start_epoch(self) -> None:
        if self.order is None:
            self.order = torch.randperm(self.n_train, generator=self.gen)
        self._order_here = self.order.to(self.data.x_train.device)

    def end_epoch(self) -> None:
        self.order = None

    def train(self, batch: int) -> tuple[torch.Tensor, torch.Tensor]:
        bs = self.batch_size
        idx = self._order_here[batch * bs:(batch + 1) * bs]
        x, y = self.data.x_train[idx], self.data.y_train[idx]
        if self._augment is not None:
            x = self._augment(x, self.crop, self.flip, self.gen)
        return self._layout(x), y

    def validation(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        x_all, y_all, bs = self.data.x_val, self.data.y_val, self.batch_size
        for start in range(0, x_all.shape[0], bs):
            yield self._layout(x_all[start:start + bs]), y_all[start:start + bs]

    def _layout(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def restore(self, gen_state: torch.Tensor | None, order: torch.Tensor | None) -> None:
        if gen_state is not None:
            self.gen.set_state(gen_state)
        self.order = order
