"""The choice of per-layer quantity (gradient, output gradient, update ratio) that the Gradients and Plain vs
residual tabs offer for their views; its longest entry never widens the window on a laptop screen."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox

from explorer.runs.feed import LAYER_QUANTITIES


def quantity_box(tip: str) -> QComboBox:
    """Each quantity's label, its key as the item's data (``currentData()``)."""
    box = QComboBox()
    for key, label in LAYER_QUANTITIES.items():
        box.addItem(label, key)
    box.setToolTip(tip)
    box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    box.setMinimumContentsLength(14)   # the entries start alike: 14 characters tell them apart
    return box
