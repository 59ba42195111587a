"""Wiring the lessons into a main window: Help ▸ Lessons, a "Lessons" button on the main toolbar (the start
screen's way in: two clicks from opening the app to lesson 1's result), and the lesson's runs opened in
the training view. The lessons document lives in the user's data folder (setting ``lessons/folder``)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QMessageBox, QStyle, QToolBar

from explorer.lessons.book import LessonBook
from explorer.lessons.loader import load_lessons
from explorer.lessons.spec import LessonError
from explorer.ui.lessons.window import LessonsWindow


def lessons_folder(mw: QMainWindow) -> Path:
    chosen = mw.settings.value("lessons/folder") if hasattr(mw, "settings") else None
    if isinstance(chosen, str) and chosen:
        return Path(chosen)
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".residual-explorer") / "lessons"


class Lessons:
    """The window's lessons: the action that opens them and the Lessons window, made on first use."""

    def __init__(self, mw: QMainWindow):
        self.mw = mw
        self.window: LessonsWindow | None = None
        self.run_fn = None   # the experiment (None: explorer.lessons.runner.run_lesson; a test sets a fast fake)
        self.action = QAction(mw.style().standardIcon(QStyle.StandardPixmap.SP_FileDialogInfoView), "&Lessons", mw)
        self.action.setShortcut(QKeySequence("F1"))
        self.action.setToolTip("Lessons: the note's argument as guided experiments (F1)")
        self.action.setStatusTip("Open the lessons: one experiment per step of why residual networks work")
        self.action.triggered.connect(self.show)

    def show(self, number: int | None = None) -> LessonsWindow | None:
        if self.window is None:
            try:
                lessons = load_lessons()
            except LessonError as e:
                QMessageBox.warning(self.mw, "Lessons", f"The lessons could not be read: {e}")
                return None
            book = LessonBook(lessons_folder(self.mw))
            self.window = LessonsWindow(lessons, book, run_fn=self.run_fn, parent=self.mw)
            self.window.openRuns.connect(self._open_runs)
            self.window.openStudy.connect(self._open_study)
            screen = self.mw.screen().availableGeometry()
            self.window.resize(min(1200, screen.width() - 60), min(760, screen.height() - 60))
            frame = self.window.frameGeometry()
            frame.moveCenter(screen.center())
            self.window.move(frame.topLeft())
            if book.problem:
                QMessageBox.warning(self.mw, "Lessons", book.problem)
        if number is not None:
            self.window.select(number)
        self.window.show()
        self.window.raise_()
        self.window.activateWindow()
        return self.window

    def _open_runs(self, feeds: list) -> None:
        dock = getattr(self.mw, "training_dock", None)
        if dock is None or not feeds:
            return
        dock.controller.show_runs(feeds)
        self._bring_forward(dock)

    def _open_study(self, folder: str) -> None:
        dock = self.mw.findChild(QDockWidget, "dock_study")
        if dock is None:
            return
        dock.panel.open_folder(folder)
        self._bring_forward(dock)

    def _bring_forward(self, dock: QDockWidget) -> None:
        """Show the result's view in front. The lessons window stays above the main window (it is its child
        window), so it steps aside; the Lessons button brings it back on the same page."""
        dock.show()
        dock.raise_()
        if self.window is not None:
            self.window.hide()
        self.mw.raise_()
        self.mw.activateWindow()

    def shutdown(self) -> bool:
        return self.window.shutdown() if self.window is not None else True


def install_lessons(mw: QMainWindow) -> Lessons:
    lessons = Lessons(mw)
    help_menu = next((a.menu() for a in mw.menuBar().actions() if a.text().replace("&", "") == "Help"), None)
    if help_menu is not None:
        first = help_menu.actions()[0] if help_menu.actions() else None
        help_menu.insertAction(first, lessons.action)
    toolbar = mw.findChild(QToolBar, "toolbar_main")
    if toolbar is not None:
        toolbar.addSeparator()
        toolbar.addAction(lessons.action)
    return lessons
