"""How a run's name is shortened to fit the run list's Name column.

Runs of one network differ only at the end ("resnet20_digits #1", "resnet20_digits (plain twin) #1"),
so eliding in the middle or at the end makes them look alike. The name is split into the network part
and its suffix (the plain-twin mark and the "#N" counter); the suffix stays whole, the network part is
elided at its end, and "(plain twin)" becomes "(plain)" to leave it more room."""
from __future__ import annotations

import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QStyledItemDelegate

_SUFFIX = re.compile(r"^(?P<head>.*?)(?P<tail>(?: \(plain twin\))?(?: #\d+)?)$", re.S)


def fit_run_name(name: str, metrics: QFontMetrics, width: int) -> str:
    """``name`` as it fits in ``width`` pixels: the suffix kept, the network part elided at its end."""
    if metrics.horizontalAdvance(name) <= width:
        return name
    m = _SUFFIX.match(name)
    head, tail = m.group("head"), m.group("tail")
    if not tail:
        return metrics.elidedText(name, Qt.TextElideMode.ElideRight, width)
    suffix = tail.replace("(plain twin)", "(plain)")   # the network part is worth more than "twin"
    if metrics.horizontalAdvance(head + suffix) <= width:
        return head + suffix
    room = width - metrics.horizontalAdvance(suffix)
    return (metrics.elidedText(head, Qt.TextElideMode.ElideRight, room) if room > 0 else "") + suffix


class RunNameDelegate(QStyledItemDelegate):
    """Paints the Name column with ``fit_run_name``; editing (rename) still sees the whole name."""

    PADDING = 8   # the item's text margins on both sides

    def initStyleOption(self, option, index) -> None:
        super().initStyleOption(option, index)
        width = option.rect.width() - self.PADDING
        if option.features & option.ViewItemFeature.HasDecoration:
            width -= option.decorationSize.width() + 4
        option.text = fit_run_name(option.text, option.fontMetrics, width)
