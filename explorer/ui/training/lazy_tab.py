"""A tab page whose widget is built the first time the page is shown or the widget is asked for.

The training dock's "Plain vs residual" tab holds five plots that most sessions never look at; building
them with the window was a third of the time a window took to open. The page builds its widget on its
first show (or when code asks for ``widget``) and then holds it for good; until then it is an empty page.
"""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QVBoxLayout, QWidget


class LazyTab(QWidget):
    def __init__(self, build: Callable[[], QWidget], parent: QWidget | None = None):
        super().__init__(parent)
        self._build = build
        self._widget: QWidget | None = None
        QVBoxLayout(self).setContentsMargins(0, 0, 0, 0)

    @property
    def is_built(self) -> bool:
        return self._widget is not None

    @property
    def widget(self) -> QWidget:
        if self._widget is None:
            self._widget = self._build()
            self.layout().addWidget(self._widget)
        return self._widget

    def showEvent(self, event) -> None:
        self.widget   # noqa: B018  (built on first show)
        super().showEvent(event)
