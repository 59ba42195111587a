"""One lesson's page: its text, the "Run this experiment" button, progress and Cancel, and the check — what the
paper reports next to what you got, with the verdict — then the "Try next" buttons.

A view only: it shows a ``Lesson`` and a result as ``LessonResult.to_json`` gives it (also one read back
from the lessons document), and says what the person asked for through its signals.
"""
from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QFrame, QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton,
                               QScrollArea, QSizePolicy, QVBoxLayout, QWidget)

from explorer.lessons.spec import Lesson
from explorer.ui.lessons.family_plot import FamilyPlot

VERDICT_STYLE = {"reproduced": ("Reproduced", "#2e7d32"), "not reproduced": ("Not reproduced at this size", "#c62828"),
                 "inconclusive": ("Inconclusive", "#ef6c00")}
STATE_MARK = {"holds": "✔", "fails": "✘", "within noise": "≈", "unmeasured": "?"}


def _label(text: str = "", rich: bool = False, css: str = "") -> QLabel:
    w = QLabel(text)
    w.setWordWrap(True)
    w.setTextFormat(Qt.TextFormat.RichText if rich else Qt.TextFormat.PlainText)
    w.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    w.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
    if css:
        w.setStyleSheet(css)
    return w


def describe_run(lesson: Lesson) -> str:
    """What the button will do, in one line: the tool, the networks and the size."""
    s = lesson.settings
    nets = ", ".join(n.preset or (f"{n.family}{n.depth}" if n.family else n.name) for n in lesson.networks) or f"the {s.get('family', '')} family at depths " \
                                                           f"{', '.join(map(str, s.get('depths', [])))}"
    what = {"train": "trains", "compare": "trains, each beside its plain twin,", "depth-sweep": "measures",
            "study": "trains, each depth beside its plain twin,",
            "degeneracy": "measures at initialisation, beside its plain twin,"}[lesson.tool]
    how = f" for {s['epochs']} epochs" if "epochs" in s else ""
    how += f" with {s['seeds']} seeds" if s.get("seeds", 1) > 1 else ""
    extra = f", then measures {' and '.join(s['analyses'])}" if s.get("analyses") else ""
    return f"This experiment {what} {nets}{how} on {s.get('dataset', 'digits')}{extra}."


class LessonPage(QScrollArea):
    runRequested = Signal(int, bool)     # variation (0 = the lesson as written, K = its K-th "try next"), full size
    cancelRequested = Signal()
    openRunsRequested = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.setWidget(body)
        lay = QVBoxLayout(body)
        lay.setContentsMargins(16, 12, 16, 12)
        self.title = _label(css="font-size: 15pt; font-weight: 600;")
        self.paper = _label(css="color: palette(mid); font-style: italic;")
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.MarkdownText)
        self.plan = _label()
        for w in (self.title, self.paper, self.text, self.plan):
            lay.addWidget(w)

        row = QHBoxLayout()
        self.run_button = QPushButton("&Run this experiment")
        self.run_button.setDefault(True)
        self.run_button.clicked.connect(lambda: self.runRequested.emit(0, self.full.isChecked()))
        self.full = QCheckBox("Full size (the paper's; much longer)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancelRequested)
        self.cancel_button.setEnabled(False)
        for w in (self.run_button, self.full, self.cancel_button):
            row.addWidget(w)
        row.addStretch(1)
        lay.addLayout(row)
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.status = _label()
        lay.addWidget(self.progress)
        lay.addWidget(self.status)

        self.result = QFrame()
        self.result.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self.result)
        self.verdict = _label(css="font-size: 13pt; font-weight: 600;")
        self.paper_reports = _label()
        self.got = _label(rich=True)
        self.why = _label(css="color: palette(mid);")
        heading = "font-weight: 600;"
        grid.addWidget(self.verdict, 0, 0, 1, 2)
        grid.addWidget(_label("What the paper reports", css=heading), 1, 0)
        grid.addWidget(_label("What you got", css=heading), 1, 1)
        grid.addWidget(self.paper_reports, 2, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.got, 2, 1, Qt.AlignmentFlag.AlignTop)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.addWidget(self.why, 3, 0, 1, 2)
        self.family = FamilyPlot()   # accuracy against cost, for a lesson that trains several networks
        self.family.hide()
        grid.addWidget(self.family, 5, 0, 1, 2)
        self.open_runs = QPushButton("Open the runs in their view")
        self.open_runs.clicked.connect(self.openRunsRequested)
        grid.addWidget(self.open_runs, 4, 0, 1, 2, Qt.AlignmentFlag.AlignLeft)
        self.result.hide()
        lay.addWidget(self.result)

        self.try_title = _label("Try next", css=heading)
        lay.addWidget(self.try_title)
        self.try_row = QHBoxLayout()
        lay.addLayout(self.try_row)
        self.try_buttons: list[QPushButton] = []
        self.history = _label(css="color: palette(mid);")
        lay.addWidget(self.history)
        lay.addStretch(1)
        self.lesson: Lesson | None = None

    # -- what it shows -----------------------------------------------------------------------------------
    def show_lesson(self, lesson: Lesson, result: dict | None = None, history: str = "") -> None:
        self.lesson = lesson
        self.title.setText(f"Lesson {lesson.number} · {lesson.title}")
        self.paper.setText(lesson.paper)
        self.text.setText(" ".join(lesson.text.split()))
        self.plan.setText(describe_run(lesson))
        for b in self.try_buttons:
            self.try_row.removeWidget(b)
            b.deleteLater()
        self.try_buttons = []
        for i, t in enumerate(lesson.try_next, 1):
            b = QPushButton(t.label)
            b.setToolTip(f"Run the lesson again with this change: {t.label}")
            b.clicked.connect(lambda _=False, k=i: self.runRequested.emit(k, self.full.isChecked()))
            self.try_row.addWidget(b)
            self.try_buttons.append(b)
        self.try_title.setVisible(bool(self.try_buttons))
        self.history.setText(history)
        self.status.setText("")
        self.show_result(result)

    def show_result(self, result: dict | None, has_runs: bool = False) -> None:
        if result is None:
            self.result.hide()
            return
        name, colour = VERDICT_STYLE.get(result.get("verdict"), (str(result.get("verdict")), "#555"))
        variation = f" — {result['variation']}" if result.get("variation") else ""
        self.verdict.setText(f"{name}{variation}")
        self.verdict.setStyleSheet(f"font-size: 13pt; font-weight: 600; color: {colour};")
        self.paper_reports.setText(self.lesson.check.paper if self.lesson else result.get("paper_reports", ""))
        rows = []
        for e in result.get("expectations", []):
            mark = STATE_MARK.get(e.get("state"), "?")
            left, right = _num(e.get("left_value")), _num(e.get("right_value"))
            rows.append(f"<p>{mark} {html.escape(str(e.get('says')))}<br/><span style='color: gray'>"
                        f"{html.escape(str(e.get('left')))} = {left} {html.escape(str(e.get('op')))} "
                        f"{html.escape(str(e.get('right')))}{'' if isinstance(e.get('right'), (int, float)) else ' = ' + right}"
                        f" — {html.escape(str(e.get('state')))}</span></p>")
        self.got.setText("".join(rows))
        self.why.setText(f"Why: {result.get('summary') or result.get('why', '')}")
        self.open_runs.setVisible(has_runs)
        networks = (result.get("details") or {}).get("networks") or []
        self.family.setVisible(bool(self.lesson and self.lesson.view == "family") and self.family.set_networks(networks))
        self.result.show()

    def set_running(self, running: bool) -> None:
        self._pace = None   # a new run's ETA knows nothing of the last one's pace
        self.run_button.setEnabled(not running)
        self.full.setEnabled(not running)
        for b in self.try_buttons:
            b.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.progress.setVisible(running)
        if running:
            self.progress.setRange(0, 0)
            self.result.hide()

    clock = staticmethod(time.monotonic)   # a test puts a fake clock here

    def show_progress(self, what: str, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        self.progress.setFormat(f"{what}: {done:,}/{total:,}{self._eta(what, done, total)}")

    def _eta(self, what: str, done: int, total: int) -> str:
        """', about 2:10 left' from this stage's pace so far; nothing until one unit of it has finished."""
        now = self.clock()
        if getattr(self, "_pace", None) is None or self._pace[0] != what or done < self._pace[2]:
            self._pace = (what, now, done)
        _, start, first = self._pace
        if done <= first or done >= total:
            return ""
        left = (now - start) / (done - first) * (total - done)
        return f", about {int(left) // 60}:{int(left) % 60:02d} left"

    def show_status(self, text: str) -> None:
        self.status.setText(text)


def _num(v) -> str:
    return "n/a" if not isinstance(v, (int, float)) else f"{v:.4g}"
