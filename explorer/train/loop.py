"""The training loop: epochs of optimiser steps, with a report at each log interval and epoch end.

It composes the run's parts (set up by ``engine.TrainingRun``): the trainee takes the steps, the
batches feed them, the cursor counts them, the device-side sums are read once per log interval (the
one sync point), pacing turns the reads into rates and an ETA, the divergence guard judges the loss
that was read, the record and the folder keep what the run achieved. Between steps it honours the
control (pause/resume/stop), and it returns exactly one FinishedReport or FailedReport.
"""
from __future__ import annotations

from collections.abc import Iterator

from explorer.train import failures
from explorer.train.batches import Batches
from explorer.train.checkpoint import CheckpointWriteError
from explorer.train.config import TrainConfig
from explorer.train.control import TrainControl
from explorer.train.cursor import Cursor
from explorer.train.divergence import DivergenceGuard
from explorer.train.folder import RunFolder
from explorer.train.schedule import Schedule
from explorer.train.pacing import Pacing
from explorer.train.record import RunRecord
from explorer.train.reports import CheckpointReport, EpochReport, FailedReport, FinishedReport, Report, StatusReport, \
    StepReport
from explorer.train.stopwatch import Stopwatch
from explorer.train.sums import MetricSums
from explorer.train.trainee import Trainee


class TrainingLoop:
    def __init__(self, cfg: TrainConfig, control: TrainControl, trainee: Trainee, batches: Batches, cursor: Cursor,
                 sums: MetricSums, record: RunRecord, folder: RunFolder, num_classes: int,
                 schedule: Schedule | None = None) -> None:
        self.cfg = cfg
        self.schedule = schedule or Schedule(cfg, cursor.total_steps, cursor.steps_per_epoch)
        self.control = control
        self.trainee = trainee
        self.batches = batches
        self.cursor = cursor
        self.sums = sums
        self.record = record
        self.folder = folder
        self.pacing = Pacing(Stopwatch())
        self.guard = DivergenceGuard(num_classes)

    def reports(self) -> Iterator[Report]:
        """The run's reports after its StartedReport, ending with one FinishedReport or FailedReport."""
        try:
            final = yield from self._train()
        except CheckpointWriteError as e:
            final = failures.checkpoint_not_written(str(e), self.record.last_ckpt)
        except Exception as e:
            if not failures.is_oom(e):
                raise
            final = self._out_of_memory()
        finally:
            self.trainee.close()
            self.folder.close()
        yield final

    # == the loop =====================================================================================
    def _train(self):
        cfg, ctl, cur, trainee, sums, pacing = self.cfg, self.control, self.cursor, self.trainee, self.sums, self.pacing
        clock = pacing.clock
        totals = sums.read()
        pacing.begin(cur.step, totals.loss, totals.correct, sums.seen)
        lr = cfg.lr
        clock.start()
        while cur.running:
            self.batches.start_epoch()
            pacing.start_epoch(sums.seen)
            while cur.in_epoch:
                # -- between steps: the only place a run pauses or stops --------------------------------
                if ctl.paused and not ctl.stop_requested:
                    with clock.paused():
                        yield StatusReport("paused", cur.step)
                        ctl.wait_while_paused()
                        yield StatusReport("running", cur.step)
                if ctl.stop_requested:
                    return (yield from self._finish("stopped"))
                if cur.at_end:
                    return (yield from self._finish("completed"))

                x, y = self.batches.train(cur.batch)
                if trainee.compile_due(cur.step):
                    yield from self._compile(x, y)
                lr = self.schedule.lr
                trainee.set_lr(lr)
                out, loss = trainee.step(x, y, cur.step, cur.epoch + 1)
                self.schedule.step()
                sums.add(loss, out, y)
                pacing.count(y.shape[0])
                cur.advance()
                del out, loss, x, y
                if cur.log_due(cfg.log_every):
                    totals = sums.read()  # the sync point: the host reads the device once per log interval
                    interval = pacing.interval(cur.step, totals.loss, totals.correct, sums.seen)
                    verdict = self.guard.check(totals.loss, interval.loss, totals.first)
                    if verdict is not None:
                        return self._loss_failure(verdict, lr)
                    yield from self._flush_stats()
                    report = StepReport(cur.epoch + 1, cfg.epochs, cur.step, cur.total_steps, cur.batch,
                                        cur.steps_per_epoch, interval.loss, interval.acc, lr, interval.samples_per_s,
                                        interval.elapsed,
                                        pacing.eta(cur.step, cur.total_steps, cur.epochs_left, interval.elapsed))
                    self.folder.step(report)
                    yield from self._emit(report)
            yield from self._end_epoch(totals, lr)
        return (yield from self._finish("completed"))

    def _end_epoch(self, totals, lr: float):
        """Validate, report and checkpoint the epoch just trained (its last batch was a log point: ``totals``
        are its sums)."""
        cfg, cur, record, pacing = self.cfg, self.cursor, self.record, self.pacing
        seen = self.sums.seen
        seconds, samples_per_s = pacing.epoch_time(seen)
        with pacing.clock.paused():
            with pacing.validation():
                val_loss, val_acc = (self.trainee.evaluate(self.batches, lambda: self.control.stop_requested)
                                     if cfg.validate else (None, None))
            train_loss, train_acc = totals.loss / max(1, seen), totals.correct / max(1, seen)
            cur.next_epoch()
            best = record.is_best(val_acc)
            if best:
                record.set_best(val_acc, cur.epoch)
            er = EpochReport(cur.epoch, cfg.epochs, train_loss, train_acc, val_loss, val_acc, lr, samples_per_s,
                             seconds, best)
            record.add_epoch({"epoch": cur.epoch, "step": cur.step, "train_loss": train_loss, "train_acc": train_acc,
                              "val_loss": val_loss, "val_acc": val_acc, "lr": lr, "samples_per_s": samples_per_s,
                              "seconds": seconds})
            self.batches.end_epoch()
            self.sums.reset()
            pacing.new_epoch(cur.step)
            yield from self._emit(er)
            if self._worth_saving():
                yield from self._save("last")
                if best:
                    yield from self._save("best")
            self.folder.epoch(er, cur.step)  # after the checkpoints: metrics.csv never lists an epoch that was not saved

    # == endings ======================================================================================
    def _finish(self, status: str):
        cur, record, clock = self.cursor, self.record, self.pacing.clock
        self.trainee.synchronize()
        yield from self._flush_stats()
        clock.stop()
        latest = record.latest
        if self._worth_saving() and (cur.batch or latest is None or latest["step"] != cur.step):
            yield from self._save("last")  # mid-epoch state, so a stopped run resumes where it stopped
        if latest is not None:
            train_loss, train_acc = latest["train_loss"], latest["train_acc"]
        else:  # not even one epoch: report the partial epoch
            totals, seen = self.sums.read(), self.sums.seen
            train_loss = totals.loss / seen if seen else None
            train_acc = totals.correct / seen if seen else None
        return FinishedReport(status=status, epochs_done=cur.epoch, steps=cur.step, final_train_loss=train_loss,
                              final_train_acc=train_acc, final_val_loss=latest["val_loss"] if latest else None,
                              final_val_acc=latest["val_acc"] if latest else None, best_val_acc=record.best_val_acc,
                              best_epoch=record.best_epoch, samples_per_s=self.pacing.samples_per_s,
                              seconds=clock.total, device=self.trainee.device_name, checkpoint=record.last_ckpt,
                              history=list(record.history))

    def _loss_failure(self, verdict: str, lr: float) -> FailedReport:
        self.pacing.clock.stop()
        cur, kept = self.cursor, self.record.last_ckpt
        if verdict == "nan":
            return failures.loss_not_finite(cur.epoch + 1, cur.step, lr, kept)
        return failures.loss_diverged(cur.epoch + 1, cur.step, lr, self.cfg.lr, self.guard, kept)

    def _out_of_memory(self) -> FailedReport:
        self.pacing.clock.stop()
        self.trainee.release()
        return failures.out_of_memory(self.trainee.device_name, self.cfg.batch_size, self.cursor.epoch + 1,
                                      self.cursor.step, self.record.last_ckpt)

    # == helpers ======================================================================================
    def _compile(self, x, y):
        """The ``--compile`` warm-up as its own phase, with the training clock stopped (it is not in any rate
        or ETA): a report before it with the estimate, one after it with the time taken or the warning."""
        compiled, step = self.trainee.compiled, self.cursor.step
        with self.pacing.clock.paused():
            estimate = compiled.estimate_s()
            yield StatusReport("compiling", step, f"compiling, ~{estimate:.0f} s", estimate)
            self.trainee.warm_up(x, y)
            if compiled.warning:
                yield StatusReport("eager", step, compiled.warning, compiled.warmup_s)
            else:
                yield StatusReport("compiled", step, f"compiled in {compiled.warmup_s:.0f} s", compiled.warmup_s)

    def _emit(self, report: Report):
        """Yield with the stopwatch off: the consumer's time is not training time."""
        with self.pacing.clock.paused():
            yield report

    def _flush_stats(self):
        """LayerStatsReports of the steps sampled since the last sync (their host copies are complete)."""
        for report in self.trainee.layer_reports():
            self.folder.layers(report)
            yield from self._emit(report)

    def _worth_saving(self) -> bool:
        """A folder to save to, and weights that have not blown up: a suspect model never replaces the
        last good checkpoint."""
        return self.folder.enabled and not self.guard.suspect

    def _save(self, kind: str):
        cur, record = self.cursor, self.record
        state = dict(self.trainee.state(), scheduler_state=self.schedule.state_dict(),
                     rng={"data": self.batches.gen.get_state(), **self.trainee.rng_state()},
                     epoch=cur.epoch, step=cur.step, batch=cur.batch,
                     order=self.batches.order if cur.batch else None, epoch_sums=self.sums.snapshot(),
                     history=list(record.history), best_val_acc=record.best_val_acc, best_epoch=record.best_epoch)
        with self.pacing.clock.paused():
            path = self.folder.save(kind, **state)
            if kind == "last":
                record.saved(path)
            yield CheckpointReport(path, kind, cur.epoch, cur.step)
