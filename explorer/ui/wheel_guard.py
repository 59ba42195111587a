"""The mouse wheel scrolls a form; it changes a spin box or combo box only after the user clicked into it.

Qt's default lets the wheel change whatever field happens to be under the pointer while the person scrolls
the form past it (a learning rate of 0.05 became 0.049 without a word). ``guard_wheel(root)`` gives each
spin box and combo box under ``root`` a click/Tab focus (not wheel focus) and passes a wheel event over an
unfocused one on to the parents, so the enclosing scroll area scrolls instead.
"""
from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QAbstractScrollArea, QAbstractSpinBox, QApplication, QComboBox, QWidget

GUARDED = (QAbstractSpinBox, QComboBox)


class WheelGuard(QObject):
    """Event filter: a wheel event over an unfocused field is ignored by it and goes to its parents."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) and not watched.hasFocus():
            area = _scroll_area_of(watched)
            if area is None:
                event.ignore()   # not accepted: QApplication offers it to the parents next
                return True
            # Handed to the enclosing scroll area directly: Qt passes only spontaneous wheel events on to
            # parents, and this way the form scrolls the same for both.
            viewport = area.viewport()
            at = QPointF(viewport.mapFrom(watched, event.position().toPoint()))
            QApplication.sendEvent(viewport, QWheelEvent(at, event.globalPosition(), event.pixelDelta(),
                                                         event.angleDelta(), event.buttons(), event.modifiers(),
                                                         event.phase(), event.inverted(), event.source()))
            return True
        return super().eventFilter(watched, event)


def _scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    p = widget.parentWidget()
    while p is not None and not isinstance(p, QAbstractScrollArea):
        p = p.parentWidget()
    return p


def guard_wheel(root: QWidget) -> WheelGuard:
    """Guard every spin box and combo box under ``root`` now; call again for fields added later."""
    guard = root.findChild(WheelGuard, "wheel_guard")
    if guard is None:
        guard = WheelGuard(root)
        guard.setObjectName("wheel_guard")
    for field in root.findChildren(QWidget):
        if isinstance(field, GUARDED):
            field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            field.removeEventFilter(guard)   # once per field, also when called again
            field.installEventFilter(guard)
    return guard
