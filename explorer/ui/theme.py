"""Light and dark colours that follow the system colour scheme.

One ``Theme`` value holds every colour the canvas draws with; ``ThemeWatcher`` picks light or dark from
the platform (``QStyleHints.colorScheme``, overridable with ``RESIDUAL_EXPLORER_THEME=light|dark``), sets
a matching Fusion palette on the application and emits ``changed`` when the system switches.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory


@dataclass(frozen=True)
class Theme:
    dark: bool
    canvas: QColor
    grid: QColor
    node: QColor
    node_border: QColor
    text: QColor
    text_dim: QColor
    edge: QColor
    edge_label: QColor
    accent: QColor       # selection
    error: QColor
    error_fill: QColor
    warning: QColor
    port: QColor
    accept: QColor       # a connection that would be made
    refuse: QColor       # a connection that would be refused

    def block_color(self, hue: QColor) -> QColor:
        """A block's own colour, toned for the background (lighter on dark, deeper on light)."""
        return hue.lighter(125) if self.dark else hue


LIGHT = Theme(False, QColor("#f7f7f5"), QColor("#e6e6e2"), QColor("#ffffff"), QColor("#b9b9b4"), QColor("#202124"),
              QColor("#6b6f76"), QColor("#8a8f98"), QColor("#4a4f57"), QColor("#1a73e8"), QColor("#d93025"),
              QColor("#fdecea"), QColor("#e37400"), QColor("#7b8089"), QColor("#188038"), QColor("#d93025"))
DARK = Theme(True, QColor("#1e1f22"), QColor("#2a2b2f"), QColor("#2b2d31"), QColor("#4a4d55"), QColor("#e8eaed"),
             QColor("#9aa0a6"), QColor("#7d828c"), QColor("#c4c7cc"), QColor("#8ab4f8"), QColor("#f28b82"),
             QColor("#4a2624"), QColor("#fdd663"), QColor("#9aa0a6"), QColor("#81c995"), QColor("#f28b82"))


def system_is_dark() -> bool:
    forced = os.environ.get("RESIDUAL_EXPLORER_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    app = QGuiApplication.instance()
    return bool(app) and app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor("#2b2d31"), QColor("#232428"), QColor("#e8eaed")
    for role, color in ((QPalette.Window, window), (QPalette.WindowText, text), (QPalette.Base, base),
                        (QPalette.AlternateBase, QColor("#303236")), (QPalette.ToolTipBase, base),
                        (QPalette.ToolTipText, text), (QPalette.Text, text), (QPalette.Button, QColor("#303236")),
                        (QPalette.ButtonText, text), (QPalette.Highlight, QColor("#3d6fb6")),
                        (QPalette.HighlightedText, QColor("#ffffff")), (QPalette.PlaceholderText, QColor("#80868b")),
                        (QPalette.Link, QColor("#8ab4f8"))):
        p.setColor(role, color)
    for role in (QPalette.Text, QPalette.ButtonText, QPalette.WindowText):
        p.setColor(QPalette.Disabled, role, QColor("#6b6f76"))
    return p


class ThemeWatcher(QObject):
    """Holds the current theme and re-emits it when the system colour scheme changes."""

    changed = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.theme = DARK if system_is_dark() else LIGHT
        app = QApplication.instance()
        if app is not None:
            app.styleHints().colorSchemeChanged.connect(self._system_changed)

    def apply_to_app(self) -> None:
        app = QApplication.instance()
        if app is None:
            return
        # Fusion draws the same on every platform and honours a dark palette; native styles may not.
        if "Fusion" in QStyleFactory.keys() and app.style().name().lower() != "fusion":
            app.setStyle("Fusion")
        app.setPalette(dark_palette() if self.theme.dark else app.style().standardPalette())

    def _system_changed(self, *_):
        theme = DARK if system_is_dark() else LIGHT
        if theme is not self.theme:
            self.theme = theme
            self.apply_to_app()
            self.changed.emit(theme)
