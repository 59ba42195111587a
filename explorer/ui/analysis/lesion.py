"""Lesion study on a trained run (Veit et al. 2016): held-out accuracy with each block deleted in turn
(a downsampling block loses its branch and keeps its shortcut; its tick is marked ↓), and with k random
blocks deleted at once; the plain twin's run beside it when the comparison has one.

A click on a bar selects that block on the canvas; selecting a node on the canvas marks its bars."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import finite_column, items, label, names, obj
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import TWIN, Tool, ToolView, check, spin
from explorer.ui.training.plots.style import fit_axis_label, run_color

NETS = (("residual", plots.RESIDUAL), ("plain", plots.PLAIN))


def compute(target: Target, control, twin, random_k: bool, draws: int) -> dict:
    """``twin``: the plain twin's run folder to study beside the target's run (None: none)."""
    from explorer.analysis.lesion import lesion_study, lesion_verdict, split_name
    from explorer.ui.analysis import jobs

    dev = jobs.device()
    net, plain, ds = jobs.trained_runs(target.folder, twin, dev)
    x, y = ds.x_val.to(dev), ds.y_val.to(dev)
    kwargs = {"random_k": random_k, "draws": draws, "control": control}
    study = lesion_study(net.module, net.graph, x, y, label=net.label, **kwargs)
    twin_study = lesion_study(plain.module, plain.graph, x, y, label=plain.label, **kwargs) if plain else None
    return {"residual": study.to_json() | {"run": net.path},
            "plain": twin_study.to_json() | {"run": plain.path} if twin_study else None,
            "dataset": ds.name, "split": split_name(ds.name), "verdict": lesion_verdict(study, twin_study)}


class LesionView(ToolView):
    def __init__(self):
        super().__init__()
        self.block_plots = {net: plots.plot("held-out accuracy", "block deleted (↓ downsampling)", "")
                            for net, _ in NETS}
        self.k_plot = plots.plot("held-out accuracy", "blocks deleted at random (k)", "k random blocks")
        self.row = plots.PlotRow([*self.block_plots.values(), self.k_plot])
        self.fill(self.row)
        self.bars = {net: plots.Bars(self.block_plots[net], c, on_click=lambda i, n=net: self._clicked(n, i))
                     for net, c in NETS}
        self.ticks = {net: plots.CategoryTicks(w) for net, w in self.block_plots.items()}
        # Narrow side by side on a laptop: the title cut with "…" (whole in the tooltip), the axis label
        # the longest wording that fits.
        self.titles = {net: plots.FittedTitle(w) for net, w in self.block_plots.items()}
        self.bottom_labels = {net: fit_axis_label(w.getPlotItem(), "bottom", ["block deleted (↓ downsampling)"])
                              for net, w in self.block_plots.items()}
        self.baselines = {}
        for net, c in NETS:
            line = pg.InfiniteLine(angle=0, pen=plots.pen(c, width=1, dashed=True))
            self.block_plots[net].addItem(line)
            self.baselines[net] = line
        # A downsampling block's bar carries a ▼ above it: its branch was dropped, its shortcut kept.
        self.down_marks = {net: pg.ScatterPlotItem(symbol="t", size=9, brush=run_color(c), pen=pg.mkPen(None))
                           for net, c in NETS}
        for net, mark in self.down_marks.items():
            self.block_plots[net].addItem(mark)
        self.k_curves = {net: plots.curve(self.k_plot, c, symbol="o") for net, c in NETS}
        self.k_errors = {net: pg.ErrorBarItem(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0), beam=0.2,
                                              pen=plots.pen(c, width=1)) for net, c in NETS}
        for e in self.k_errors.values():
            self.k_plot.addItem(e)
        self.studies: dict[str, dict] = {}
        self.nodes: dict[str, list[str]] = {}
        self.keys: dict[str, list[str]] = {}
        self.selected = ""

    # -- drawing --------------------------------------------------------------------------------------
    def show_result(self, result: dict) -> None:
        studies = {"residual": obj(result.get("residual"), "'residual'")}
        if result.get("plain") is not None:
            studies["plain"] = obj(result["plain"], "'plain'")
        drawn = {net: self._read(s) for net, s in studies.items()}   # every field checked before drawing
        split = result.get("split") if result.get("split") in ("test", "validation") else "validation"
        self.clear()
        self.studies = studies
        notes, reasons, legend = [], [], []
        for net, c in NETS:
            w = self.block_plots[net]
            w.setVisible(net in drawn)
            if net not in drawn:
                continue
            name, base, keys, nodes, acc, ks, mean, std, skipped, down = drawn[net]
            self.keys[net], self.nodes[net] = keys, nodes
            self.bars[net].set(acc)
            self.baselines[net].setValue(base)
            self.ticks[net].set([f"{k} ↓" if d else k for k, d in zip(keys, down)])
            at = [i for i, d in enumerate(down) if d]
            self.down_marks[net].setData(x=at, y=[acc[i] + 0.06 for i in at])
            axis = f"block deleted (↓ downsampling), {split} split"
            self.titles[net].set(name, f"{name}: held-out accuracy by {axis}")
            self.bottom_labels[net].set_texts([axis, "block deleted (↓ downsampling)", "block deleted"])
            w.setYRange(0, 1.02)
            self.k_curves[net].setData(ks, mean)
            self.k_errors[net].setData(x=np.array(ks), y=np.array(mean), height=2 * np.array(std))
            legend += [(run_color(c), "■", name), (run_color(c), "╍╍", f"{name} baseline {base:.3f}")]
            if any(down):
                legend.append((run_color(c), "▼", "downsampling block: branch dropped, shortcut kept"))
            if skipped:
                notes.append(f"{name}: {', '.join(k for k, _ in skipped)}")
                reasons += [f"{name} {k}: {why}" for k, why in skipped]
        self.k_plot.setYRange(0, 1.02)
        self.k_plot.setVisible(any(len(d[5]) for d in drawn.values()))
        self.row.legend.set_entries(legend)
        # One line (the plots keep their height); the reasons, with the shapes, in its tooltip.
        self.row.set_note(f"Cannot be deleted, no shortcut to keep (hover for the shapes): {'; '.join(notes)}"
                          if notes else "")
        self.row.note.setToolTip("\n".join(reasons))
        self.highlight(self.selected)

    @staticmethod
    def _read(study: dict):
        blocks = items(study.get("blocks"), "'blocks'")
        random = items(study.get("random", []), "'random'")
        skipped = items(study.get("skipped", []), "'skipped'")
        acc = finite_column  # every mark needs a place
        return (label(study, "label", "network"), acc([study], "baseline_acc", "the study")[0],
                names(blocks, "unit", "a block"), names(blocks, "node", "a block"), acc(blocks, "acc", "a block"),
                acc(random, "k", "a k"), acc(random, "mean_acc", "a k"), acc(random, "std", "a k"),
                list(zip(names(skipped, "unit", "a skipped block"), names(skipped, "reason", "a skipped block"))),
                [obj(b, "a block").get("downsampling") is True for b in blocks])

    def clear(self) -> None:
        self.studies, self.nodes, self.keys = {}, {}, {}
        for net, _ in NETS:
            self.bars[net].set([])
            self.k_curves[net].setData([], [])
            self.down_marks[net].setData(x=[], y=[])
            self.k_errors[net].setData(x=np.zeros(0), y=np.zeros(0), height=np.zeros(0))
        self.row.legend.set_entries([])
        self.row.set_note("")

    # -- the canvas link ----------------------------------------------------------------------------
    def _clicked(self, net: str, index: int) -> None:
        nodes = self.nodes.get(net, [])
        if 0 <= index < len(nodes):
            self.nodeClicked.emit(nodes[index])

    def highlight(self, node_id: str) -> None:
        self.selected = node_id
        for net, bars in self.bars.items():
            bars.mark(i for i, n in enumerate(self.nodes.get(net, [])) if n == node_id)

    def table(self):
        out = []
        for net, study in self.studies.items():
            name, base, keys, nodes, acc, ks, mean, std, _, down = self._read(study)
            out.append([net, name, "baseline", "", "", base, ""])
            out += [[net, name, "downsampling block" if d else "block", k, n, a, ""]
                    for k, n, a, d in zip(keys, nodes, acc, down)]
            out += [[net, name, "random", int(k), "", m, s] for k, m, s in zip(ks, mean, std)]
        return ["network", "run", "lesion", "unit_or_k", "node", "accuracy", "std"], out


class LesionTool(Tool):
    name = "lesion"
    title = "Lesion study"
    summary = "Accuracy of a trained run with blocks deleted at test time (their shortcut kept)"
    needs_weights = True
    fields = (TWIN, check("random_k", "Also k random blocks at once",
                          "Delete k random blocks together, for k = 1…n, several draws each", on=True),
              spin("draws", "Draws per k", 1, 100, 5, "Random draws for each k"))
    compute = staticmethod(compute)
    view = LesionView
