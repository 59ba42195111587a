"""Shape inference that follows the graph: re-run once per burst of edits, results as a signal.

Every model event marks the analysis stale and schedules one re-run on the next turn of the event
loop, so an edit that fires a thousand events (open, expand a stage) costs one pass. ``result`` is
always fresh when read: a caller that needs it right now (a test, an export) gets it computed.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from explorer.graph import Graph
from explorer.network.inference import Analysis, analyze


class LiveAnalysis(QObject):
    updated = Signal(object)  # Analysis

    def __init__(self, graph: Graph, parent: QObject | None = None):
        super().__init__(parent)
        self.graph = graph
        self._result: Analysis | None = None
        self._revision = -1
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        graph.subscribe(self._on_event)

    def detach(self) -> None:
        self.graph.unsubscribe(self._on_event)
        self._timer.stop()

    def _on_event(self, event) -> None:
        if event.kind == "node_moved":
            return  # positions do not change shapes
        if not self._timer.isActive():
            self._timer.start()

    @property
    def result(self) -> Analysis:
        if self._result is None or self._timer.isActive():
            self.refresh()
        return self._result

    @property
    def pending(self) -> bool:
        """An edit is waiting to be analysed (the next turn of the event loop does it)."""
        return self._timer.isActive()

    @property
    def last(self) -> Analysis | None:
        """The latest result without computing one (None before the first; one edit behind while an update
        is pending, which ``updated`` then brings)."""
        return self._result

    def refresh(self) -> None:
        self._timer.stop()
        self._result = analyze(self.graph)
        self._revision = self.graph.revision
        self.updated.emit(self._result)
