"""Depth sweep: the first layer's gradient at initialisation against total depth, network vs plain twin,
for a preset family (resnet 8, 20, 56, 110) or the current graph used as the template."""
from __future__ import annotations

import re

import numpy as np
from PySide6.QtWidgets import QComboBox

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import column, items, label, table_rows
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import Option, Tool, ToolError, ToolView, check, line
from explorer.ui.training.plots.style import LINE, run_color

CURRENT = "the current graph"
DEFAULT_DEPTHS = "8,20,56,110"
BATCH = 128


def families() -> list[str]:
    """Preset-name prefixes with at least two depths ("resnet", "plain", ...)."""
    from explorer.presets import list_presets

    seen: dict[str, int] = {}
    for p in list_presets():
        m = re.fullmatch(r"(.*?[a-z_])(\d+)", p.name)
        if m:
            seen[m.group(1)] = seen.get(m.group(1), 0) + 1
    return [f for f, n in seen.items() if n >= 2]


def parse_depths(text: str) -> list[int]:
    try:
        depths = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise ToolError(f"depths must be whole numbers separated by commas, like {DEFAULT_DEPTHS}") from None
    if not depths or not all(3 <= d <= 2000 for d in depths):
        raise ToolError(f"each depth must be between 3 and 2,000 weight layers, like {DEFAULT_DEPTHS}")
    return depths


def compute(family: str, base, depths: list[int], dataset: str, bn: bool, control) -> dict:
    from explorer.analysis.depth_sweep import depth_sweep, family_graph, sweep_verdict
    from explorer.ui.analysis import jobs

    dev = jobs.device()
    ds = jobs.dataset(dataset)
    graphs = {d: jobs.fitted(family_graph(family, d, base), ds) for d in depths}
    x, y = ds.x_train[:BATCH].to(dev), ds.y_train[:BATCH].to(dev)
    points = depth_sweep(graphs, x, y, 0, bn, control)
    return {"label": family, "normalisation": bn, "depths": [p.row() for p in points],
            "verdict": sweep_verdict(points)}


def measure(target: Target, control, family: str, depths: list[int], no_bn: bool) -> dict:
    """``compute`` for a preset family, or with the target's graph (loaded here, in the worker) as the template."""
    base = target.load_graph() if family == CURRENT else None
    return compute((base.name or "network") if base else family, base, depths, target.dataset, not no_bn, control)


def family_box() -> QComboBox:
    box = QComboBox(editable=True)
    box.addItems([CURRENT, *families()])
    box.setCurrentText("resnet" if "resnet" in families() else CURRENT)
    box.setToolTip("A preset family (name without the depth) or the current graph as the template")
    return box


class DepthSweepView(ToolView):
    def __init__(self):
        super().__init__()
        self.first = plots.plot("first layer's ‖∂L/∂y‖", "weight layers", "Gradient at the first layer", log_y=True)
        self.ratio = plots.plot("first / last", "weight layers", "First over last layer's gradient", log_y=True)
        self.row = plots.PlotRow([self.first, self.ratio])
        self.fill(self.row)
        self.curves = {(w, net): plots.curve(p, c, symbol="o")
                       for w, p in (("first_grad", self.first), ("first_over_last", self.ratio))
                       for net, c in (("residual", plots.RESIDUAL), ("plain", plots.PLAIN))}
        self.rows: list = []

    def show_result(self, result: dict) -> None:
        rows = items(result.get("depths"), "'depths'")
        depth = np.array(column(rows, "depth", "a depth"))
        for (what, net), c in self.curves.items():
            key = f"{net}_{what}"
            c.setData(depth, np.array(column(rows, key, "a depth")))
        self.rows = rows
        family = label(result, "label", "network")
        self.row.legend.set_entries([(run_color(plots.RESIDUAL), LINE, family),
                                     (run_color(plots.PLAIN), LINE, f"{family} (plain twin)")])

    def clear(self) -> None:
        self.rows = []
        for c in self.curves.values():
            c.setData([], [])
        self.row.legend.set_entries([])

    def table(self):
        keys = ["depth", "residual_first_grad", "plain_first_grad", "residual_first_over_last",
                "plain_first_over_last", "residual_spread_orders", "plain_spread_orders"]
        return keys, table_rows(self.rows, keys, "a depth")


class DepthSweepTool(Tool):
    name = "depth_sweep"
    title = "Depth sweep"
    summary = "First layer's gradient at initialisation against depth, network vs plain twin"
    fields = (Option("family", "Family", family_box),
              line("depths", "Depths", DEFAULT_DEPTHS, "Total weight layers, separated by commas"),
              check("no_bn", "Bypass normalisation"))
    compute = staticmethod(measure)
    view = DepthSweepView

    def arguments(self, target: Target) -> dict:
        values = super().arguments(target)
        values["family"] = values["family"].strip()
        if not values["family"]:
            raise ToolError("name a family (for example resnet) or choose the current graph")
        return values | {"depths": parse_depths(values["depths"])}
