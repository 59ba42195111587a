"""The choice of per-layer quantity (gradient, output gradient, update ratio) that the Gradients and Plain vs
residual tabs offer for their views; its longest entry never widens the window on a laptop screen, and
where the bar has room the box grows until every entry shows whole."""
from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtWidgets import QComboBox, QSizePolicy, QStyle, QStyleOptionComboBox

from explorer.runs.feed import LAYER_QUANTITIES


def quantity_box(tip: str) -> QComboBox:
    """Each quantity's label, its key as the item's data (``currentData()``)."""
    box = QComboBox()
    for key, label in LAYER_QUANTITIES.items():
        box.addItem(label, key)
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(14)   # the entries start alike: 14 characters tell them apart
    box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
    box.setMaximumWidth(_whole_width(box))
    return box


def _whole_width(box: QComboBox) -> int:
    """The width at which the longest entry shows whole (frame and arrow included, as the style draws them)."""
    text = max((box.itemText(i) for i in range(box.count())), key=box.fontMetrics().horizontalAdvance, default="")
    option = QStyleOptionComboBox()
    box.initStyleOption(option)
    content = QSize(box.fontMetrics().horizontalAdvance(text) + 8, box.sizeHint().height())
    return box.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, content, box).width()
