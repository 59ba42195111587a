"""The run model of the window: every run (live or reopened), which are overlaid, which one the
gradient views show, and the lifecycle of the one that trains.

Views read runs from here and call its methods; they never write a RunRecord. Reports from the worker
go through ``RunFeed`` (Qt-free) so the same bookkeeping serves the command line. Finished runs are
saved to the project's runs folder on a background thread (a 1,000-layer run is megabytes of JSON).

Training always works on a copy of the graph taken at ``start``: the document stays editable, edits
apply to the next run, and each run keeps the graph it trained (``record.graph_json``).

Each run also writes its run folder (weights, graph.json, config.json: what ``train --out`` writes; its
``out_dir``) beside its record, ``<runs folder>/<run id>/``, so the analysis tools and fine-tuning find
its weights after a restart. An unsaved document's runs write into a scratch folder of this controller;
saving the document moves their folders into its runs folder with the records (the training run's when
it ends, since its worker is writing it).
"""
from __future__ import annotations

import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from explorer.graph.fileio import dumps_graph
from explorer.graph.model import Graph
from explorer.runs import RunRecord, RunStore
from explorer.runs.feed import ACTIVE, RunFeed
from explorer.runs.overlay_file import load_overlay, save_overlay
from explorer.runs.layer_extras import delete_extra_layers, load_extra_layers, save_extra_layers
from explorer.runs.project import bring_run_folder, found_run_folder, run_folder
from explorer.train import FailedReport, StepReport, TrainConfig
from explorer.train.compare import PLAIN, RESIDUAL, plan_comparison
from explorer.ui.training.worker import TrainingSession, TrainJob

log = logging.getLogger(__name__)


class RunController(QObject):
    runAdded = Signal(str)
    runRemoved = Signal(str)
    runChanged = Signal(str)          # status, name, final metrics
    dataArrived = Signal(str)         # new points in a run's series
    overlayChanged = Signal()         # the set of ticked runs
    focusChanged = Signal(str)        # the run the gradient views show ("" = none)
    progress = Signal(str, object)    # run id, newest StepReport
    trainingChanged = Signal(bool)    # a run is training (or queued) / nothing trains
    runStarted = Signal(str)
    runFinished = Signal(str)
    notice = Signal(str, str)         # text, level: "info" | "error"
    _saveFailed = Signal(str)         # from the saver thread, queued to the GUI thread

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.feeds: dict[str, RunFeed] = {}       # in creation order
        self.overlay: set[str] = set()
        self.focus = ""
        self.store: RunStore | None = None
        self._scratch = tempfile.TemporaryDirectory(prefix="explorer-runs-")  # unsaved documents' run folders
        # Every runs folder this controller has put run folders in: only those folders are moved or deleted.
        self._homes: set[Path] = {Path(self._scratch.name).resolve()}
        self.session = TrainingSession(self)
        self.session.reportsReady.connect(self._on_reports)
        self.session.failed.connect(self._on_failed)
        self.session.ended.connect(self._on_ended)
        self._queue: list[TrainJob] = []
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-saver")
        self._saveFailed.connect(self._on_save_failed)  # a slot of this GUI-thread object: queued

    # -- queries ----------------------------------------------------------------------------------
    def feed(self, run_id: str) -> RunFeed | None:
        return self.feeds.get(run_id)

    def record(self, run_id: str) -> RunRecord | None:
        f = self.feeds.get(run_id)
        return f.record if f else None

    def run_ids(self) -> list[str]:
        return list(self.feeds)

    @property
    def training_id(self) -> str | None:
        return self.session.run_id if self.session.is_active() else None

    def is_training(self) -> bool:
        return self.session.is_active() or bool(self._queue)

    def visible_ids(self) -> list[str]:
        """Runs the plots draw, in run-list order: the ticked ones, the one training and the one selected
        (so a run that just finished stays on screen until another is chosen)."""
        shown = {self.training_id, self.focus}
        return [i for i in self.feeds if i in self.overlay or i in shown]

    def color_index(self, run_id: str) -> int:
        return list(self.feeds).index(run_id) if run_id in self.feeds else 0

    # -- starting runs ----------------------------------------------------------------------------
    def start(self, graph: Graph, dataset: str, config: TrainConfig, arch: str | None = None,
              name: str | None = None, auto_log: bool = True, auto_stats: bool = True) -> str:
        """Queue a run of a copy of ``graph``; it starts now when nothing trains. Returns its id."""
        job = self._make_job(graph, dataset, config, arch, name, auto_log, auto_stats)
        self._queue.append(job)
        self._next()
        return job.run_id

    def start_comparison(self, graph: Graph, dataset: str, config: TrainConfig, arch: str | None = None,
                         auto_log: bool = True, auto_stats: bool = True) -> tuple[str, str]:
        """Train the plain twin of ``graph`` and then ``graph`` itself, same settings and seed, overlaid
        (``explorer.train.compare`` plans it). Raises ValueError when the graph has no shortcut to remove."""
        if self.is_training():
            raise RuntimeError("a run is already training; stop it or wait for it to finish")
        plan = plan_comparison(graph, config, arch)
        if plan.identical:
            raise ValueError(f"{plan.describe()}; open a residual network (e.g. a ResNet preset) to compare")
        jobs = {r.role: self._make_job(r.graph, dataset, r.config, r.arch, None, auto_log, auto_stats)
                for r in plan.runs}
        self.overlay = {j.run_id for j in jobs.values()}
        self.overlayChanged.emit()
        self._save_overlay()
        self._queue += list(jobs.values())  # in the plan's order
        self.notice.emit(plan.describe(), "info")
        self._next()
        return jobs[PLAIN].run_id, jobs[RESIDUAL].run_id

    def _make_job(self, graph, dataset, config, arch, name, auto_log, auto_stats) -> TrainJob:
        graph = graph.copy()  # frozen: this run trains the graph as it is now
        arch = arch or graph.name or "network"
        if name is None:
            n = 1 + sum(1 for f in self.feeds.values() if f.record.arch == arch)
            name = f"{arch} #{n}"
        rec = RunRecord(name=name, arch=arch, dataset=dataset, config={}, graph_json=dumps_graph(graph))
        if not config.out_dir:
            home = self.store.folder if self.store is not None else Path(self._scratch.name)
            config = config.replace(out_dir=str(run_folder(home, rec.id)))
        rec.config = dict(config.to_dict(), auto_log=auto_log, auto_stats=auto_stats)
        self.add_feed(RunFeed(rec))
        return TrainJob(rec.id, graph, dataset, config, auto_log, auto_stats)

    def _next(self) -> None:
        if self.session.is_active():
            return
        if not self._queue:
            self.trainingChanged.emit(False)
            return
        job = self._queue.pop(0)
        feed = self.feeds.get(job.run_id)
        if feed is None:  # deleted while queued
            return self._next()
        feed.record.status = "running"
        self.session.start(job)
        self.set_focus(job.run_id)
        self.trainingChanged.emit(True)
        self.runChanged.emit(job.run_id)
        self.runStarted.emit(job.run_id)
        self._save(feed)  # a record exists even if the app dies mid-run

    # -- control ----------------------------------------------------------------------------------
    def pause(self) -> None:
        self.session.pause()

    def resume(self) -> None:
        self.session.resume()

    def stop(self) -> None:
        """Stop the training run within one step and drop queued runs (e.g. the comparison's second)."""
        for job in self._queue:
            feed = self.feeds.get(job.run_id)
            if feed:
                feed.record.status, feed.record.message = "stopped", "cancelled before it started"
                self.runChanged.emit(job.run_id)
        self._queue.clear()
        self.session.stop()
        if not self.session.is_active():
            self.trainingChanged.emit(False)

    def stop_and_wait(self, timeout_ms: int = 30_000) -> bool:
        """Stop the run (queued ones are cancelled) and wait until it has ended and been recorded: before
        its document goes, so the run keeps its final state in the folder it belongs to."""
        self.stop()
        return self.session.shutdown(timeout_ms)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Stop training and wait for the thread (window closing); pending saves are written."""
        self._queue.clear()
        ok = self.session.shutdown(timeout_ms)
        self._saver.shutdown(wait=True)
        self._saver = ThreadPoolExecutor(max_workers=1, thread_name_prefix="run-saver")
        return ok

    # -- worker signals ---------------------------------------------------------------------------
    @Slot(str, object)
    def _on_reports(self, run_id: str, batch: list) -> None:
        feed = self.feeds.get(run_id)
        if feed is None:
            return
        status = feed.record.status
        last_step = None
        for r in batch:
            feed.apply(r)
            if isinstance(r, StepReport):
                last_step = r
            elif isinstance(r, FailedReport):
                self.notice.emit(f"run '{feed.record.name}' failed: {r.text}", "error")
        for n in feed.notices:
            self.notice.emit(n, "info")
        feed.notices.clear()
        if last_step is not None:
            self.progress.emit(run_id, last_step)
        self.dataArrived.emit(run_id)
        if feed.record.status != status:
            self.runChanged.emit(run_id)

    @Slot(str, str, str)
    def _on_failed(self, run_id: str, kind: str, message: str) -> None:
        feed = self.feeds.get(run_id)
        if feed is not None:
            feed.fail(message, kind)
            self.runChanged.emit(run_id)
            self.notice.emit(f"run '{feed.record.name}' failed: {message}", "error")

    @Slot(str)
    def _on_ended(self, run_id: str) -> None:
        feed = self.feeds.get(run_id)
        if feed is not None:
            rec = feed.record
            if rec.status in ACTIVE:  # the worker ended without a final report (cannot happen; never hang on it)
                rec.status, rec.message = "stopped", rec.message or "ended without a final report"
            self._bring_home(feed)
            self._save(feed)
            self.runChanged.emit(run_id)
            self.runFinished.emit(run_id)
        self._next()

    @Slot(str)
    def _on_save_failed(self, message: str) -> None:
        self.notice.emit(message, "error")

    # -- editing the run list ---------------------------------------------------------------------
    def show_runs(self, feeds: list[RunFeed]) -> None:
        """List finished runs trained elsewhere (a lesson's), overlaid, the last one in focus; runs already
        listed are skipped. Their folders stay where they are (never moved or deleted here)."""
        added = [f for f in feeds if f.id not in self.feeds]
        for feed in added:
            self.add_feed(feed)
            self.overlay.add(feed.id)
        if added:
            self.overlayChanged.emit()
            self._save_overlay()
            self.set_focus(added[-1].id)

    def set_overlay(self, run_id: str, on: bool) -> None:
        if run_id not in self.feeds or (run_id in self.overlay) == on:
            return
        (self.overlay.add if on else self.overlay.discard)(run_id)
        self.overlayChanged.emit()
        self._save_overlay()

    def _save_overlay(self) -> None:
        """The ticks are part of the project: written beside its runs (only on a change the user made, so
        opening another document never overwrites them)."""
        if self.store is not None:
            try:
                save_overlay(self.store.folder, self.overlay & set(self.feeds))
            except OSError as e:
                log.warning("could not save the overlay ticks: %s", e)

    def set_focus(self, run_id: str) -> None:
        run_id = run_id if run_id in self.feeds else ""
        if run_id != self.focus:
            self.focus = run_id
            self.focusChanged.emit(run_id)

    def rename(self, run_id: str, name: str) -> None:
        feed = self.feeds.get(run_id)
        name = name.strip()
        if feed is None or not name or name == feed.record.name:
            return
        feed.record.name = name
        self.runChanged.emit(run_id)
        if not feed.active:
            self._save(feed)

    def delete(self, run_id: str) -> None:
        feed = self.feeds.get(run_id)
        if feed is None:
            return
        if run_id == self.training_id:
            raise RuntimeError("stop the run before deleting it")
        self._queue = [j for j in self._queue if j.run_id != run_id]
        own = self._own_folder(feed)
        if own is not None:
            self._saver.submit(lambda: shutil.rmtree(own, ignore_errors=True))
        if self.store is not None:
            store = self.store
            self._saver.submit(lambda: (store.delete(run_id), delete_extra_layers(store.folder, run_id)))
        self._forget([run_id])

    def _forget(self, run_ids: list[str]) -> None:
        """Take runs off the list. Focus and overlay drop them first: a view that redraws on
        ``runRemoved`` must never be pointed at a run that no longer exists."""
        for rid in run_ids:
            del self.feeds[rid]
            self.overlay.discard(rid)
        if self.focus in run_ids:
            self.set_focus("")
        for rid in run_ids:
            self.runRemoved.emit(rid)
        if run_ids:
            self.overlayChanged.emit()

    def add_feed(self, feed: RunFeed) -> None:
        """List a run (not in focus, not overlaid)."""
        self.feeds[feed.id] = feed
        self.runAdded.emit(feed.id)

    # -- persistence ------------------------------------------------------------------------------
    def set_folder(self, folder: str | Path | None, carry_over: bool) -> None:
        """Use ``folder`` as the project's runs folder (None: the document has no file, so its runs live in
        memory only). ``carry_over``: the project was saved under a new name, so its runs move with it
        (saved there); otherwise it is another document, whose runs replace the list (the live run, if
        any, stays: the window asks to stop it first, see ``FileActions.maybe_save``)."""
        self._saver.submit(lambda: None).result()   # earlier saves are written: a reopened folder has them
        self.store = RunStore(folder) if folder else None
        if self.store is not None:
            self._homes.add(self.store.folder.resolve())
        if not carry_over:
            keep = {self.training_id} | {j.run_id for j in self._queue}
            self._forget([r for r in self.feeds if r not in keep])
        for feed in self.feeds.values():
            self._bring_home(feed)
            if carry_over:
                self._save(feed)
        self.load_folder()

    def unsaved_runs(self) -> int:
        """How many listed runs exist only in memory (the document has no file yet): what is lost with it."""
        return 0 if self.store is not None else len(self.feeds)

    def load_folder(self) -> list[str]:
        """Add the runs saved in the store's folder (skipping ones already listed); returns problems."""
        if self.store is None:
            return []
        runs, problems = self.store.load_all()
        for rec in runs:
            if rec.id in self.feeds:
                continue
            if rec.status in ACTIVE:  # the app ended while it trained
                rec.status, rec.message = "stopped", rec.message or "the app closed while this run trained"
            found = found_run_folder(self.store.folder, rec.id)
            if found is not None:  # the project may have moved since the record wrote its out_dir
                rec.config["out_dir"] = str(found)
            self.add_feed(RunFeed(rec, load_extra_layers(self.store.folder, rec.id)))
        self.overlay |= load_overlay(self.store.folder) & set(self.feeds)   # the ticks as they were left
        for p in problems:
            self.notice.emit(f"could not read a saved run ({p}); it was skipped", "error")
        self.overlayChanged.emit()
        return problems

    def _own_folder(self, feed: RunFeed) -> Path | None:
        """The run's folder when this controller chose it (``<a runs folder>/<run id>``), else None (a
        folder the settings named is the user's: never moved or deleted)."""
        out = feed.record.config.get("out_dir")
        if not isinstance(out, str) or not out:
            return None
        path = Path(out)
        return path if path.name == feed.id and path.parent.resolve() in self._homes else None

    def _bring_home(self, feed: RunFeed) -> None:
        """Put the run's folder beside its record in the current runs folder: moved from the scratch
        folder, copied from another project's (Save As keeps the old project whole). Not the training
        run's: its worker writes there until it ends, and ``_on_ended`` brings it then."""
        own = self._own_folder(feed)
        if self.store is None or own is None or feed.id == self.training_id:
            return
        if own.parent.resolve() == self.store.folder.resolve():
            return
        try:
            moved = bring_run_folder(own, self.store.folder, feed.id,
                                     move=own.parent.resolve() == Path(self._scratch.name).resolve())
        except OSError as e:
            self.notice.emit(f"could not bring the weights of run '{feed.record.name}' from {own} to "
                             f"{self.store.folder}: {e}; check the folder is writable and has space", "error")
            return
        feed.record.config["out_dir"] = str(moved)
        for job in self._queue:  # a queued run has not started: it writes to the new place
            if job.run_id == feed.id:
                job.config = job.config.replace(out_dir=str(moved))

    def _save(self, feed: RunFeed) -> None:
        if self.store is None:
            return
        store, rec = self.store, feed.record
        extras = {k: v for k, v in feed.layers.items() if k != "grad_norm"}

        def write():
            try:
                store.save(rec)
                save_extra_layers(store.folder, rec.id, extras)
            except Exception as e:  # a full disk must not take the window down; say where and why
                self._saveFailed.emit(f"could not save run '{rec.name}' to {store.folder}: {e}; "
                                      "check the folder is writable and has space")
        if feed.active:
            write()  # small (nothing trained yet): write now so the file exists
        else:
            self._saver.submit(write)
