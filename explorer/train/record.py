"""What a run has achieved so far: one row per finished epoch, the best validation accuracy and where
the last good checkpoint lies."""
from __future__ import annotations

from explorer.train.checkpoint import Checkpoint


class RunRecord:
    def __init__(self) -> None:
        self.history: list[dict] = []
        self.best_val_acc: float | None = None
        self.best_epoch: int | None = None
        self.last_ckpt: str | None = None

    def add_epoch(self, row: dict) -> None:
        self.history.append(row)

    def is_best(self, val_acc: float | None) -> bool:
        return val_acc is not None and (self.best_val_acc is None or val_acc > self.best_val_acc)

    def set_best(self, val_acc: float, epoch: int) -> None:
        self.best_val_acc, self.best_epoch = val_acc, epoch

    def saved(self, path: str) -> None:
        """A last.pt was written: the run's last good checkpoint."""
        self.last_ckpt = path

    @property
    def latest(self) -> dict | None:
        return self.history[-1] if self.history else None

    def restore(self, ckpt: Checkpoint) -> None:
        self.history = list(ckpt.history)
        self.best_val_acc, self.best_epoch = ckpt.best_val_acc, ckpt.best_epoch
        self.last_ckpt = ckpt.path
