"""The Lessons window: the list of lessons (with the verdict of each one run), the chosen lesson's page, and
the run of its experiment on a worker thread.

A run goes into a fresh folder of the lessons document (``explorer.lessons.book``), which remembers
it; its result is shown on the page and its training runs can be opened in the main window's training
view (``openRuns``). The experiment itself is ``explorer.lessons.runner.run_lesson`` (``run_fn``; a test
gives a fast fake), called with copies only, so the worker touches no widget.
"""
from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QListWidget, QListWidgetItem, QSplitter, QWidget

from explorer.lessons.book import LessonBook
from explorer.lessons.control import LessonControl
from explorer.lessons.spec import Lesson
from explorer.ui.analysis.worker import AnalysisRunner
from explorer.ui.lessons.page import VERDICT_STYLE, LessonPage

MARK = {"reproduced": "✔", "not reproduced": "✘", "inconclusive": "≈"}


class LessonsWindow(QWidget):
    openRuns = Signal(object)            # a list of RunFeeds: a lesson's runs, for the training view
    openStudy = Signal(str)              # a lesson's study folder, for the Study view
    resultShown = Signal(int, str)       # lesson number, verdict: a run finished (or was shown again)

    def __init__(self, lessons: list[Lesson], book: LessonBook, run_fn=None, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        from explorer.lessons.runner import run_lesson

        self.setWindowTitle("Lessons — Residual Explorer")
        self.lessons, self.book = lessons, book
        self.run_fn = run_fn or run_lesson
        self.runner = AnalysisRunner(self)
        self.list = QListWidget()
        self.list.setMinimumWidth(220)
        self.list.setWordWrap(True)   # long titles wrap instead of scrolling sideways
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setSpacing(2)
        self.page = LessonPage()
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.page)
        split.setStretchFactor(1, 1)
        split.setSizes([300, 800])
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(split)
        for lesson in lessons:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, lesson.number)
            self.list.addItem(item)
            self._label_item(item, lesson)
        self.list.currentRowChanged.connect(self._chosen)
        self.page.runRequested.connect(self.run)
        self.page.cancelRequested.connect(self.cancel)
        self.page.openRunsRequested.connect(self.open_runs)
        self.runner.progress.connect(self.page.show_progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.cancelled.connect(lambda: self._ended("cancelled; nothing of this run was kept as a result"))
        self._running: tuple[Lesson, Path] | None = None
        if lessons:
            self.list.setCurrentRow(0)

    # -- the list -----------------------------------------------------------------------------------------
    def _label_item(self, item: QListWidgetItem, lesson: Lesson) -> None:
        last = self.book.latest(lesson.number)
        mark = f"   {MARK.get(last.verdict, '')}" if last else ""
        item.setText(f"{lesson.number}. {lesson.title}{mark}")
        item.setToolTip(f"{lesson.paper}" + (f"\nlast run: {VERDICT_STYLE.get(last.verdict, (last.verdict,))[0]}"
                                              if last else "\nnot run yet"))

    @property
    def lesson(self) -> Lesson | None:
        row = self.list.currentRow()
        return self.lessons[row] if 0 <= row < len(self.lessons) else None

    def select(self, number: int) -> None:
        for row, lesson in enumerate(self.lessons):
            if lesson.number == number:
                self.list.setCurrentRow(row)

    def _chosen(self, row: int) -> None:
        lesson = self.lesson
        if lesson is None:
            return
        last = self.book.latest(lesson.number)
        result = self.book.result(last) if last else None
        self.page.show_lesson(lesson, None, self._history(lesson))
        self.page.show_result(result, has_runs=bool(last and self._has_runs(last, result)))
        self.page.set_running(self._running is not None and self._running[0].number == lesson.number)

    def _history(self, lesson: Lesson) -> str:
        runs = self.book.runs_of(lesson.number)
        if not runs:
            return "Not run yet."
        when = time.strftime("%d %b %H:%M", time.localtime(runs[-1].when))
        times = "once" if len(runs) == 1 else f"{len(runs)} times"
        return f"Run {times}; the last on {when}, kept in {self.book.folder / runs[-1].folder}."

    # -- running ------------------------------------------------------------------------------------------
    def run(self, variation: int = 0, full: bool = False) -> None:
        from explorer.lessons.runner import variation_of

        lesson = self.lesson
        if lesson is None or self.runner.is_busy():
            return
        folder = self.book.new_folder(lesson.number)
        chosen = variation_of(lesson, variation) if variation else None
        run_fn = self.run_fn

        def job(control):
            return run_fn(lesson, folder, full=full, variation=chosen, control=LessonControl(analysis=control)).to_json()

        self._running = (lesson, folder)
        self.page.set_running(True)
        self.page.show_status(f"running {chosen.label if chosen else 'the experiment'}…")
        self.runner.start(job)

    def _finished(self, result: dict) -> None:
        lesson, folder = self._running
        entry = self.book.add(result, folder)
        self._ended("")
        for row in range(self.list.count()):
            if self.lessons[row].number == lesson.number:
                self._label_item(self.list.item(row), lesson)
        if self.lesson is lesson:
            self.page.history.setText(self._history(lesson))
            self.page.show_result(result, has_runs=self._has_runs(entry, result))
        self.resultShown.emit(lesson.number, result["verdict"])

    def _failed(self, text: str) -> None:
        self._ended(f"the experiment stopped: {text}")

    def _ended(self, text: str) -> None:
        self._running = None
        self.page.set_running(False)
        self.page.show_status(text)

    def cancel(self) -> None:
        self.runner.cancel()
        # The trainings stop at their next step, which can take seconds: say so, and take no second click.
        self.page.cancel_button.setEnabled(False)
        self.page.show_status("cancelling: the running trainings stop at their next step…")

    def shutdown(self) -> bool:
        return self.runner.shutdown()

    # -- the runs, in the main window's training view -----------------------------------------------------
    def _feeds(self, entry) -> list:
        from explorer.runs.feed import RunFeed
        from explorer.runs.store import RunStore

        records, _ = RunStore(self.book.records_folder(entry)).load_all()
        return [RunFeed(r) for r in records]

    def _has_runs(self, entry, result: dict | None) -> bool:
        return bool(self._study_folder(result) or self._feeds(entry))

    @staticmethod
    def _study_folder(result: dict | None) -> str:
        folder = ((result or {}).get("details") or {}).get("folder")
        return folder if isinstance(folder, str) and Path(folder).is_dir() else ""

    def open_runs(self) -> None:
        """The last run's results in the view their tool has: a study in the Study view, runs in the training view."""
        lesson = self.lesson
        last = self.book.latest(lesson.number) if lesson else None
        if last is None:
            return
        study = self._study_folder(self.book.result(last))
        if study:
            self.openStudy.emit(study)
        else:
            self.openRuns.emit(self._feeds(last))
