"""The "Plain vs residual" tab: a network and its plain twin next to each other.

Top: which comparison (pairs found by ``explorer.runs.verdict.find_pairs``; selecting either run in the
run list shows its pair) and the verdict line with the numbers. Below: loss, accuracy and the gradient by
depth of both runs at the same step, then the two heatmaps on one colour scale ("one colour scale"
unticked frees each). Each view is the tab's own instance of the usual plot, told which runs to draw;
the verdict text is computed below the UI (``verdict``), this tab only shows it.
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QLabel, QPushButton,
                               QSplitter, QStackedLayout, QVBoxLayout, QWidget)

from explorer.runs.verdict import Pair, find_pairs, verdict
from explorer.ui.training.plots.color_scale import ColorScale
from explorer.ui.training.plots.depth_profile import DepthProfile
from explorer.ui.training.plots.export import ExportError, export_png
from explorer.ui.training.plots.grad_heatmap import GradHeatmap
from explorer.ui.training.plots.metric_plot import MetricPlot
from explorer.ui.training.plots.paged import PagedPlots
from explorer.ui.training.plots.quantity_box import quantity_box
from explorer.ui.training.plots.style import run_color
from explorer.ui.training.throttle import GRADIENT_HZ, Throttle

EMPTY_TEXT = ("No comparison yet. Press <b>Plain vs residual</b> to train this network and its plain twin "
              "(the same layers without shortcuts) with the same settings; they are compared here.")
PLOT_MIN_HEIGHT = 190   # title, curves and the x axis's labels
VERDICT_WORDS = {"grad_norm": "weight gradient", "output_grad_norm": "gradient", "update_ratio": "update ratio"}


class ComparisonView(QWidget):
    layerClicked = Signal(str)

    def __init__(self, controller, on_error=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.on_error = on_error
        self.pairs: list[Pair] = []
        self.pair: Pair | None = None
        self.throttle = Throttle(self._update_verdict, GRADIENT_HZ, parent=self, visible=self.isVisible)
        self.scale = ColorScale()
        runs = self.pair_ids
        self.loss = MetricPlot(controller, "loss", throttle=self.throttle, runs=runs)
        self.acc = MetricPlot(controller, "acc", throttle=self.throttle, runs=runs)
        self.by_depth = DepthProfile(controller, throttle=self.throttle, runs=runs, same_step=True)
        self.heatmaps = (GradHeatmap(controller, throttle=self.throttle, run=lambda: self._run("plain"),
                                     compared=runs, scale=self.scale),
                         GradHeatmap(controller, throttle=self.throttle, run=lambda: self._run("residual"),
                                     compared=runs, scale=self.scale))
        self.captions = (QLabel(), QLabel())
        self.verdict = QLabel(" ")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verdict.setStyleSheet("font-weight: 600;")
        self.empty = QLabel(EMPTY_TEXT)
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self._body())
        lay = QVBoxLayout(self)
        lay.setContentsMargins(2, 2, 2, 2)
        lay.addLayout(self._bar())
        lay.addWidget(self.verdict)
        lay.addLayout(self.stack, 1)
        self._connect()
        self._find_pairs()

    def _bar(self) -> QHBoxLayout:
        """Which comparison, which quantity, one colour scale or two, and the picture export."""
        self.pair_box = QComboBox()
        self.pair_box.setToolTip("Which comparison to show: a plain twin's run and its network's run")
        self.pair_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.pair_box.setMinimumContentsLength(18)
        self.quantity = quantity_box("Which per-layer statistic the gradient views show")
        self.one_scale = QCheckBox("one colour scale")
        self.one_scale.setChecked(True)
        self.one_scale.setToolTip("Both heatmaps use the same colours for the same values (untick to fit each "
                                  "heatmap to its own run)")
        self.export = QPushButton("Export plot…")
        self.export.setToolTip("Save this comparison (verdict, curves and heatmaps) as a PNG picture")
        bar = QHBoxLayout()
        bar.addWidget(QLabel("compare"))
        bar.addWidget(self.pair_box, 1)
        bar.addWidget(QLabel("show"))
        bar.addWidget(self.quantity, 1)   # grows to show its entries whole where there is room
        bar.addWidget(self.one_scale)
        bar.addWidget(self.export)
        return bar

    def _body(self) -> PagedPlots:
        """The curves side by side over the two heatmaps, each under its caption."""
        curves = QSplitter()
        for w in (self.loss, self.acc, self.by_depth):
            curves.addWidget(w)
        maps = QSplitter()
        for caption, heatmap in zip(self.captions, self.heatmaps):
            box = QWidget()
            bl = QVBoxLayout(box)
            bl.setContentsMargins(0, 0, 0, 0)
            bl.setSpacing(0)
            bl.addWidget(caption)
            bl.addWidget(heatmap, 1)
            maps.addWidget(box)
        # A short dock pages through the curves and the heatmaps: each seen whole, x axis included.
        self.body = PagedPlots([(curves, PLOT_MIN_HEIGHT), (maps, PLOT_MIN_HEIGHT)])
        return self.body

    def _connect(self) -> None:
        controller = self.controller
        self.pair_box.currentIndexChanged.connect(self._picked)
        self.quantity.currentIndexChanged.connect(self._quantity)
        self.one_scale.toggled.connect(lambda on: [h.set_shared_scale(on) for h in self.heatmaps])
        self.export.clicked.connect(self._export)
        for h in self.heatmaps:
            h.layerClicked.connect(self._clicked)
        for sig in (controller.runAdded, controller.runRemoved, controller.runChanged):
            sig.connect(lambda _id: self._find_pairs())
        controller.focusChanged.connect(self.select_focus)
        controller.dataArrived.connect(lambda rid: self.throttle.request() if rid in self.pair_ids() else None)

    # -- which runs -------------------------------------------------------------------------------
    def pair_ids(self) -> list[str]:
        return [self.pair.plain, self.pair.residual] if self.pair else []

    def _run(self, role: str) -> str:
        return getattr(self.pair, role) if self.pair else ""

    def _find_pairs(self) -> None:
        records = [self.controller.record(r) for r in self.controller.run_ids()]
        pairs = find_pairs(r for r in records if r is not None)
        grew = len(pairs) > len(self.pairs)
        keep = self.pair if self.pair in pairs and not grew else (pairs[0] if pairs else None)  # new ones first
        self.pairs = pairs
        self.pair_box.blockSignals(True)
        self.pair_box.clear()
        for p in pairs:
            self.pair_box.addItem(f"{self.controller.record(p.plain).name}  vs  {self.controller.record(p.residual).name}")
        self.pair_box.setCurrentIndex(pairs.index(keep) if keep in pairs else -1)
        self.pair_box.blockSignals(False)
        self._show(keep)

    def select_focus(self, run_id: str) -> None:
        """Show the pair ``run_id`` belongs to (the run list's selection follows the run in focus)."""
        for p in self.pairs:
            if run_id in (p.plain, p.residual) and p != self.pair:
                self.pair_box.setCurrentIndex(self.pairs.index(p))
                return

    def _picked(self, index: int) -> None:
        self._show(self.pairs[index] if 0 <= index < len(self.pairs) else None)

    def select_pair(self, pair: Pair) -> None:
        if pair in self.pairs:
            self.pair_box.setCurrentIndex(self.pairs.index(pair))

    def _show(self, pair: Pair | None) -> None:
        changed = pair != self.pair
        self.pair = pair
        self.stack.setCurrentWidget(self.body if pair else self.empty)
        for role, caption in zip(("plain", "residual"), self.captions):
            rec = self.controller.record(self._run(role))
            caption.setText("" if rec is None else
                            f"<b style='color:{run_color(self.controller.color_index(rec.id)).name()}'>"
                            f"{'plain twin' if role == 'plain' else 'residual'}</b>: {rec.name} ({rec.status})")
        if changed:
            for view in (self.loss, self.acc, self.by_depth, *self.heatmaps):
                view.refresh()
        self.throttle.request()

    # -- options ----------------------------------------------------------------------------------
    def _quantity(self) -> None:
        q = self.quantity.currentData()
        for view in (self.by_depth, *self.heatmaps):
            view.set_quantity(q)
        self.throttle.request()

    def _clicked(self, node_id: str) -> None:
        self.highlight_node(node_id)
        self.layerClicked.emit(node_id)

    def highlight_node(self, node_id: str) -> None:
        for view in (self.by_depth, *self.heatmaps):
            view.highlight_node(node_id)

    # -- the verdict ------------------------------------------------------------------------------
    def _update_verdict(self) -> None:
        self.verdict.setText(self.verdict_text())

    def verdict_text(self) -> str:
        if self.pair is None:
            return " "
        q = self.quantity.currentData()
        feeds = [self.controller.feed(r) for r in self.pair_ids()]
        if any(f is None for f in feeds):
            return " "
        plain, res = feeds
        return verdict(plain.record, res.record, plain.layers.get(q), res.layers.get(q), VERDICT_WORDS.get(q, q))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.throttle.shown()

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save comparison picture", "plain_vs_residual.png",
                                              "PNG image (*.png)")
        if not path:
            return
        try:
            self.throttle.flush()
            export_png(self, path)
        except ExportError as e:
            if self.on_error:
                self.on_error(str(e))
