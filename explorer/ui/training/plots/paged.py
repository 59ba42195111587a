"""Plot panes stacked top to bottom that stay readable in a short dock.

When the visible area holds every pane at its minimum height, the panes share it through a vertical
splitter (drag to trade height). When it does not, each pane gets the whole visible height (at least its
minimum) and the area scrolls: a plot is then seen whole, axes and tick labels included, one page at a
time, instead of every plot being squeezed to a strip with its x axis cut off."""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QScrollArea, QSplitter, QWidget


class PagedPlots(QScrollArea):
    def __init__(self, panes: list[tuple[QWidget, int]], parent: QWidget | None = None):
        """``panes``: (widget, minimum height in pixels), top to bottom."""
        super().__init__(parent)
        self.panes = [w for w, _ in panes]
        self.minimums = [m for _, m in panes]
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        for w, m in panes:
            w.setMinimumHeight(m)
            self.splitter.addWidget(w)
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(self.splitter)
        self.viewport().installEventFilter(self)

    def paged(self) -> bool:
        """True when the panes do not fit together and each fills the visible height (the area scrolls)."""
        return self.viewport().height() < sum(self.minimums) + self.splitter.handleWidth() * (len(self.panes) - 1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.viewport() and event.type() == QEvent.Type.Resize:
            self._fit()
        return super().eventFilter(watched, event)

    def _fit(self) -> None:
        page = self.viewport().height()
        paged = self.paged()
        for w, m in zip(self.panes, self.minimums):
            w.setMinimumHeight(max(m, page) if paged else m)
