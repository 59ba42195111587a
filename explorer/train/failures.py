"""How a run that cannot go on says so: each failure as a FailedReport whose reason says what happened
and whose advice says what to change, naming the last good checkpoint where there is one."""
from __future__ import annotations

import torch

from explorer.train.config import TrainConfig
from explorer.train.divergence import DivergenceGuard
from explorer.train.reports import FailedReport


class SetupFailure(Exception):
    """Raised by set-up code; carries the FailedReport of a problem with the run's input."""

    def __init__(self, report: FailedReport):
        super().__init__(report.reason)
        self.report = report


def is_oom(e: BaseException) -> bool:
    oom = getattr(torch, "OutOfMemoryError", None)
    return (oom is not None and isinstance(e, oom)) or (isinstance(e, RuntimeError) and "out of memory" in str(e).lower())


def _kept(checkpoint: str | None) -> str:
    return f"the last good checkpoint is {checkpoint}" if checkpoint else "no checkpoint was written yet"


def loss_not_finite(epoch: int, step: int, lr: float, checkpoint: str | None) -> FailedReport:
    """``epoch``: 1-based epoch the loss went bad in; ``step``: steps done by then."""
    return FailedReport("nan", f"the training loss became NaN or infinite (epoch {epoch}, by step {step}; "
                               f"learning rate {lr:.3g}); training stopped",
                        f"lower the learning rate, add warm-up or gradient clipping; {_kept(checkpoint)}",
                        epoch=epoch, step=step, checkpoint=checkpoint)


def loss_diverged(epoch: int, step: int, lr: float, peak_lr: float, guard: DivergenceGuard,
                  checkpoint: str | None) -> FailedReport:
    return FailedReport("diverged", f"the training loss diverged: {guard.loss:.3g}, above {guard.limit:.3g} "
                                    f"({guard.factor:g}× its start level {guard.reference:.3g}) for {guard.streak} "
                                    f"log intervals in a row (epoch {epoch}, by step "
                                    f"{step}; learning rate {lr:.3g}); training stopped",
                        f"lower the learning rate: {peak_lr:.3g} is too high for this network; {_try_lr(peak_lr)}, "
                        f"or add warm-up or gradient clipping; {_kept(checkpoint)}",
                        epoch=epoch, step=step, checkpoint=checkpoint)


def _try_lr(lr: float) -> str:
    """A tenth of a plausible rate; beyond 1 (a typo or a probe) the default, which trains the presets."""
    if lr <= 1:
        return f"try --lr {lr / 10:.3g} (the default is {TrainConfig.lr:g})"
    return f"try the default, --lr {TrainConfig.lr:g}"


def checkpoint_not_written(reason: str, checkpoint: str | None) -> FailedReport:
    """A full disk or a vanished folder: the run stops rather than train on without a way to resume."""
    return FailedReport("checkpoint", f"{reason}; training stopped",
                        f"free disk space or choose another --out folder; {_kept(checkpoint)}",
                        checkpoint=checkpoint)


def out_of_memory(device_name: str, batch_size: int, epoch: int, step: int, checkpoint: str | None) -> FailedReport:
    keep = f"; the last good checkpoint is {checkpoint}" if checkpoint else ""
    return FailedReport("oom", f"{device_name} ran out of memory with batch size {batch_size} "
                               f"(epoch {epoch}, step {step + 1})",
                        f"try --batch-size {max(1, batch_size // 2)}, --amp bf16 or a smaller model{keep}",
                        epoch=epoch, step=step, batch_size=batch_size, checkpoint=checkpoint)
