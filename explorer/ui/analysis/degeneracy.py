"""Degeneracy by depth (Orhan & Pitkow 2018): how many directions each layer's activations use on a fixed
validation batch, for the network and its plain twin side by side, and, for a trained run, how that
changed from initialisation to the best and last checkpoints (a heat map, layers × checkpoints).

Effective rank here is exp of the entropy of the normalised singular values of the layer's output minus its
batch mean; the help says so, the core (``explorer.analysis.degeneracy``) computes it. A click on a point
or a heat-map cell selects that layer's node on the canvas; selecting a node on the canvas marks its points.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyqtgraph as pg

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import column, items, label, names, obj
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import Tool, ToolView, check, offer_twin, spin, twin_of
from explorer.ui.training.plots.style import LINE, run_color
from explorer.util.untrusted import UntrustedInputError

NETS = (("residual", plots.RESIDUAL), ("plain", plots.PLAIN))
HELP = ("Effective rank = exp(entropy of the normalised singular values) of each layer's output minus its "
        "batch mean, on a fixed validation batch (BatchNorm on the batch's statistics): 1 when every sample "
        "moves along one direction. Dead: channels constant across the batch. Max correlation: the largest "
        "|correlation| between two live channels (near 1: duplicated units).")


def compute(target: Target, control, batch: int, twin) -> dict:
    """``twin``: for a run, its plain twin's run folder (or None); for the current graph, whether to build
    and measure its plain twin."""
    from explorer.analysis.degeneracy import graph_plan, run_plan, study
    from explorer.analysis.trained import comparison_paths, run_data
    from explorer.network.twins import plain_twin
    from explorer.ui.analysis import jobs

    dev = jobs.device()
    if target.folder is not None:
        first, plan = run_plan(comparison_paths(target.folder)[0], dev)
        twin_plan = run_plan(twin, dev)[1] if twin is not None else None
        ds, name = run_data(first), first.label
    else:
        ds = jobs.dataset(target.dataset)
        graph = jobs.fitted(target.load_graph(), ds)
        name = graph.name or "the network"
        plan = graph_plan(graph, 0, dev)
        twin_plan = graph_plan(plain_twin(graph)[0], 0, dev) if twin else None
    x = ds.x_val[:batch].to(dev)
    return study(name, plan, twin_plan, x, control).to_json() | {"dataset": ds.name}


class LayerClicks:
    """A click in ``widget``'s plot area at x ≈ i calls ``on_click(i)`` (the x axis is the layer index)."""

    def __init__(self, widget: pg.PlotWidget, on_click: Callable[[int], None]):
        self.widget, self.on_click = widget, on_click
        widget.scene().sigMouseClicked.connect(self._clicked)

    def _clicked(self, event) -> None:
        vb = self.widget.getPlotItem().getViewBox()
        if vb.sceneBoundingRect().contains(event.scenePos()):
            self.on_click(int(round(vb.mapSceneToView(event.scenePos()).x())))

    def position(self, x: float, y: float):
        """Where the data point (x, y) is, in the widget's viewport coordinates (tests click there)."""
        scene = self.widget.getPlotItem().getViewBox().mapViewToScene(pg.Point(x, y))
        return self.widget.mapFromScene(scene)


class DegeneracyView(ToolView):
    def __init__(self):
        super().__init__()
        self.rank_plot = plots.plot("effective rank", "layer (input side first)", "effective rank by depth")
        self.corr_plot = plots.plot("max |correlation|", "layer (input side first)", "duplicated units")
        self.maps = {net: plots.plot("checkpoint", "layer (input side first)", "") for net, _ in NETS}
        self.map_titles = {net: plots.FittedTitle(w) for net, w in self.maps.items()}  # cut to fit, whole on hover
        self.row = plots.PlotRow([self.rank_plot, self.corr_plot, *self.maps.values()])
        self.fill(self.row)
        self.setToolTip(HELP)
        self.corr_plot.setXLink(self.rank_plot)
        self.curves = {(net, kind): plots.curve(w, c, symbol="o", dashed=dashed)
                       for net, c in NETS for kind, w, dashed in (("rank", self.rank_plot, False),
                                                                  ("init", self.rank_plot, True),
                                                                  ("corr", self.corr_plot, False))}
        self.marks = pg.ScatterPlotItem(size=12, brush=pg.mkBrush("#f1c40f"), pen=None)
        self.rank_plot.addItem(self.marks)
        self.images = {net: plots.FixedImage(self.maps[net]) for net, _ in NETS}
        self.clicks = [LayerClicks(w, self._clicked) for w in (self.rank_plot, self.corr_plot, *self.maps.values())]
        self.parts: dict[str, dict] = {}
        self.nodes: list[str] = []
        self.selected = ""
        self.levels = (0.0, 1.0)

    # -- drawing --------------------------------------------------------------------------------------
    def show_result(self, result: dict) -> None:
        read = {"residual": self._read(result)}            # the network's part is the result itself
        if result.get("plain") is not None:
            read["plain"] = self._read(obj(result["plain"], "'plain'"))
        self.clear()
        self.parts = read
        self.nodes = read["residual"]["nodes"]
        several = all(len(p["checkpoints"]) > 1 for p in read.values())
        peak = max(float(np.nanmax(p["grid"])) if p["grid"].size and np.isfinite(p["grid"]).any() else 0.0
                   for p in read.values())
        self.levels = (0.0, peak if peak > 0 else 1.0)   # one colour scale for both maps
        legend = []
        for net, c in NETS:
            self.maps[net].setVisible(several and net in read)
            if net not in read:
                continue
            p = read[net]
            xs = np.arange(len(p["units"]))
            self.curves[(net, "rank")].setData(xs, p["grid"][:, -1])
            if len(p["checkpoints"]) > 1:
                self.curves[(net, "init")].setData(xs, p["grid"][:, 0])
            self.curves[(net, "corr")].setData(xs, p["corr"])
            legend.append((run_color(c), LINE, f"{p['label']} at {p['checkpoints'][-1]}"))
            if len(p["checkpoints"]) > 1:
                legend.append((run_color(c), "╍╍", f"{p['label']} at {p['checkpoints'][0]}"))
            if several:
                n_layers, n_ckpt = p["grid"].shape
                self.images[net].set(np.nan_to_num(p["grid"]), self.levels, (-0.5, -0.5, n_layers, n_ckpt))
                self.maps[net].getAxis("left").setTicks([list(enumerate(p["checkpoints"]))])
                plots.category_ticks(self.maps[net], p["units"])
                self.map_titles[net].set(f"{p['label']}: effective rank")
                self.maps[net].getPlotItem().autoRange()
        if several:
            legend.append(("#777777", "▦", f"colour: effective rank 0 to {self.levels[1]:.3g}, one scale for both"))
        for w in (self.rank_plot, self.corr_plot):
            plots.category_ticks(w, read["residual"]["units"])
            w.getPlotItem().enableAutoRange()
        self.row.legend.set_entries(legend)
        self.highlight(self.selected)

    @staticmethod
    def _read(part: dict) -> dict:
        snaps = items(part.get("checkpoints"), "'checkpoints'")
        if not snaps:
            raise UntrustedInputError("a degeneracy result has no checkpoint")
        layers = [items(obj(s, "a checkpoint").get("layers"), "a checkpoint's 'layers'") for s in snaps]
        last = layers[-1]
        if any(len(ls) != len(last) for ls in layers):
            raise UntrustedInputError("the checkpoints of a degeneracy result list different layers")
        grid = np.array([column(ls, "effective_rank", "a layer") for ls in layers], dtype=np.float64).T
        grid = grid.reshape(len(last), len(layers))
        return {"label": label(part, "label", "network"), "checkpoints": names(snaps, "checkpoint", "a checkpoint"),
                "units": names(last, "unit", "a layer"), "nodes": names(last, "node", "a layer"),
                "grid": grid, "corr": np.array(column(last, "max_corr", "a layer"), dtype=np.float64),
                "dead": column(last, "dead_fraction", "a layer")}

    def clear(self) -> None:
        self.parts, self.nodes = {}, []
        for c in self.curves.values():
            c.setData([], [])
        for image in self.images.values():
            image.clear()
        self.marks.setData([], [])
        self.row.legend.set_entries([])

    # -- the canvas link ----------------------------------------------------------------------------
    def _clicked(self, index: int) -> None:
        if 0 <= index < len(self.nodes):
            self.nodeClicked.emit(self.nodes[index])

    def highlight(self, node_id: str) -> None:
        self.selected = node_id
        spots = [(i, p["grid"][i, -1]) for p in self.parts.values() for i, n in enumerate(p["nodes"])
                 if n == node_id and np.isfinite(p["grid"][i, -1])]
        self.marks.setData([s[0] for s in spots], [s[1] for s in spots])

    def marked(self) -> list[int]:
        """The layer indices marked for the canvas's selection (tests read it)."""
        return sorted({int(x) for x in self.marks.getData()[0]})

    def table(self):
        out = []
        for net, p in self.parts.items():
            for ci, ckpt in enumerate(p["checkpoints"]):
                for li, (unit, node) in enumerate(zip(p["units"], p["nodes"])):
                    last = ci == len(p["checkpoints"]) - 1
                    out.append([net, p["label"], ckpt, unit, node, p["grid"][li, ci],
                                p["corr"][li] if last else "", p["dead"][li] if last else ""])
        return ["network", "label", "checkpoint", "unit", "node", "effective_rank", "max_corr", "dead_fraction"], out


class DegeneracyTool(Tool):
    name = "degeneracy"
    title = "Degeneracy"
    summary = ("Effective rank (exp of the entropy of the normalised singular values), dead and duplicated units "
               "by depth, network vs plain twin")
    fields = (spin("batch", "Batch", 2, 4096, 256, "Validation samples in the fixed batch (the effective rank is at "
                   "most one less)"), check("twin", "Also the plain twin"))
    compute = staticmethod(compute)
    view = DegeneracyView

    def build_options(self, form) -> None:
        super().build_options(form)
        self.options.setToolTip(HELP)

    def target_changed(self, target: Target | None) -> None:
        if target is not None and target.folder is None:   # the current graph: its twin is built from it
            self.twin.setEnabled(True)
            self.twin.setChecked(True)
            self.twin.setToolTip("The current graph's plain twin, initialised with the same seed")
        else:
            offer_twin(self.twin, target)

    def arguments(self, target: Target) -> dict:
        """For a run, its plain twin's run folder (or None); for the current graph, whether to build its twin."""
        values = super().arguments(target)
        return values if target.folder is None else values | {"twin": twin_of(self.twin, target)}
