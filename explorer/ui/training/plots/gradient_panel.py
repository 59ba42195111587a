"""The "Gradients" tab: heatmap (layers × steps) on top, the by-depth profile and the selected layers'
curves below, one choice of quantity for all three, the heatmap's colour scale (shared with the ticked
runs, or its own), and node highlighting passed to each."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QSplitter, QVBoxLayout, QWidget

from explorer.ui.training.plots.depth_profile import DepthProfile
from explorer.ui.training.plots.export import ExportButton
from explorer.ui.training.plots.grad_heatmap import GradHeatmap
from explorer.ui.training.plots.layer_curves import LayerCurves
from explorer.ui.training.plots.paged import PagedPlots
from explorer.ui.training.plots.quantity_box import quantity_box
from explorer.ui.training.plots.run_switch import RunSwitch
from explorer.ui.training.throttle import GRADIENT_HZ, Throttle

HEATMAP_MIN_HEIGHT = 170   # six or seven layer names one above the other, and the step axis whole in a 1366×768 window
PLOT_MIN_HEIGHT = 170      # title, curves and the x axis's labels


class GradientPanel(QWidget):
    layerClicked = Signal(str)

    def __init__(self, controller, on_error=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        # One throttle for the three views: they change together (a LayerStatsReport of the focus run).
        self.throttle = Throttle(None, GRADIENT_HZ, parent=self, visible=self.isVisible)
        self.heatmap = GradHeatmap(controller, throttle=self.throttle)
        self.by_depth = DepthProfile(controller, throttle=self.throttle)
        self.curves = LayerCurves(controller, throttle=self.throttle)
        self.quantity = quantity_box("Which per-layer statistic the three views show")
        self.run_switch = RunSwitch(controller)   # both runs of a comparison, one click apart
        self.own_scale = QCheckBox("own colour scale")
        self.own_scale.setToolTip("Off: the heatmap's colours cover this run and the ticked runs, so switching "
                                  "between compared runs keeps one scale. On: fit the colours to this run alone")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("show"))
        bar.addWidget(self.quantity, 2)   # grows first (up to its entries' width) where there is room
        bar.addWidget(QLabel("run"))
        bar.addWidget(self.run_switch, 1)
        bar.addWidget(self.own_scale)
        self.exports = [ExportButton(self.heatmap, None, "gradient_heatmap", on_error, what="heatmap"),
                        ExportButton(self.by_depth, None, "gradient_by_depth", on_error, what="by depth"),
                        ExportButton(self.curves, None, "gradient_layers", on_error, what="layer curves")]
        for b in self.exports:
            bar.addWidget(b)
        lower = QSplitter()
        lower.addWidget(self.by_depth)
        lower.addWidget(self.curves)
        # A short dock pages through the heatmap and the two lower plots instead of flattening them.
        self.body = PagedPlots([(self.heatmap, HEATMAP_MIN_HEIGHT), (lower, PLOT_MIN_HEIGHT)])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(bar)
        lay.addWidget(self.body, 1)
        self.quantity.currentIndexChanged.connect(self._quantity)
        self.own_scale.toggled.connect(lambda on: self.heatmap.set_shared_scale(not on))
        self.heatmap.layerClicked.connect(self._clicked)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.throttle.shown()

    def _quantity(self) -> None:
        q = self.quantity.currentData()
        for view in (self.heatmap, self.by_depth, self.curves):
            view.set_quantity(q)

    def _clicked(self, node_id: str) -> None:
        self.highlight_node(node_id)
        self.layerClicked.emit(node_id)

    def highlight_node(self, node_id: str) -> None:
        for view in (self.heatmap, self.by_depth, self.curves):
            view.highlight_node(node_id)
