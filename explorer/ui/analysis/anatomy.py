"""Block anatomy: the share of the network's parameters and multiply-accumulates each block takes, and
the selected block's expanded primitive graph, layer by layer. Computed from the cost model (no torch)."""
from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableWidget, QTableWidgetItem

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import column, items, label, names, obj
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import Tool, ToolView
from explorer.ui.training.plots.style import run_color

LAYER_COLUMNS = ("layer", "type", "output", "params", "MACs")


def compute(target: Target, control) -> dict:
    from explorer.analysis.anatomy import anatomy

    control.step("anatomy", 0, 1)
    graph = target.load_graph()
    blocks = anatomy(graph)
    control.step("anatomy", 1, 1)
    result = {"label": graph.name or "network", "blocks": [b.to_json() for b in blocks]}
    if blocks:
        top_p = max(blocks, key=lambda b: b.params_share)
        top_m = max(blocks, key=lambda b: b.macs_share)
        result["verdict"] = (f"{top_p.node} ({top_p.title}) holds {top_p.params_share:.1%} of the parameters; "
                             f"{top_m.node} ({top_m.title}) does {top_m.macs_share:.1%} of the multiply-accumulates")
    else:
        result["verdict"] = "no block with a cost"
    return result


class AnatomyView(ToolView):
    def __init__(self):
        super().__init__()
        self.shares = plots.plot("share of the network", "block", "Cost by block (click a bar)")
        self.params = plots.Bars(self.shares, plots.RESIDUAL, width=0.4, offset=-0.2, on_click=self._clicked)
        self.macs = plots.Bars(self.shares, 1, width=0.4, offset=0.2, on_click=self._clicked)
        self.ticks = plots.CategoryTicks(self.shares)
        self.layers = QTableWidget(0, len(LAYER_COLUMNS))
        self.layers.setHorizontalHeaderLabels(LAYER_COLUMNS)
        self.layers.verticalHeader().setVisible(False)
        self.layers.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.row = plots.PlotRow([self.shares, self.layers])
        self.fill(self.row)
        self.blocks: list[dict] = []
        self.nodes: list[str] = []
        self.selected = ""

    def show_result(self, result: dict) -> None:
        blocks = [obj(b, "a block") for b in items(result.get("blocks"), "'blocks'")]
        # Nodes without cost (activations, pooling, flatten) would only crowd the axis.
        blocks = [b for b, p, m in zip(blocks, column(blocks, "params", "a block"), column(blocks, "macs", "a block"))
                  if p > 0 or m > 0]
        nodes = names(blocks, "node", "a block")
        p, m = column(blocks, "params_share", "a block"), column(blocks, "macs_share", "a block")
        for b in blocks:
            names(items(b.get("layers", []), "a block's 'layers'"), "node", "a layer")
        self.blocks, self.nodes = blocks, nodes
        self.params.set(p)
        self.macs.set(m)
        self.ticks.set(nodes)
        self.shares.setYRange(0, max([*p, *m, 0.01]) * 1.05)
        self.row.legend.set_entries([(run_color(plots.RESIDUAL), "■", "share of the parameters"),
                                     (run_color(1), "■", "share of the MACs"),
                                     ("#777777", "", f"{label(result, 'label', 'network')}: select a block to see "
                                                     "its layers")])
        self.highlight(self.selected if self.selected in nodes else (nodes[int(np.argmax(p))] if nodes else ""))

    def clear(self) -> None:
        self.blocks, self.nodes = [], []
        self.params.set([])
        self.macs.set([])
        self.layers.setRowCount(0)
        self.row.legend.set_entries([])

    def _clicked(self, index: int) -> None:
        if 0 <= index < len(self.nodes):
            self.nodeClicked.emit(self.nodes[index])

    def highlight(self, node_id: str) -> None:
        if node_id not in self.nodes:
            self.params.mark([])
            self.macs.mark([])
            return
        self.selected = node_id
        i = self.nodes.index(node_id)
        self.params.mark([i])
        self.macs.mark([i])
        block = self.blocks[i]
        layers = block.get("layers") or [{"node": node_id, "type": block.get("type", ""), "out_shape": "",
                                          "params": block.get("params"), "macs": block.get("macs")}]
        self.layers.setRowCount(len(layers))
        for r, la in enumerate(layers):
            for c, key in enumerate(("node", "type", "out_shape", "params", "macs")):
                v = la.get(key)
                item = QTableWidgetItem(f"{v:,}" if isinstance(v, int) and not isinstance(v, bool) else str(v or ""))
                if key in ("params", "macs"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.layers.setItem(r, c, item)
        self.layers.resizeColumnsToContents()

    def table(self):
        out = []
        for b in self.blocks:
            out.append([b.get("node"), b.get("title"), b.get("repeat"), b.get("params"), b.get("macs"),
                        b.get("params_share"), b.get("macs_share")])
        return ["node", "block", "repeat", "params", "macs", "params_share", "macs_share"], out


class AnatomyTool(Tool):
    name = "anatomy"
    title = "Block anatomy"
    summary = "Each block's share of parameters and MACs; what a block is made of, layer by layer"
    compute = staticmethod(compute)
    view = AnatomyView
