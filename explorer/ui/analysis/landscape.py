"""Loss landscape around a trained run's weights (Li et al. 2018): the loss along one or two
filter-normalised random directions, the centre being exactly the run's weights; the plain twin's run
beside it, the two heat maps on one colour scale."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import items, label, number, numbers, obj
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import TWIN, Option, Tool, ToolView, check, spin
from explorer.ui.training.plots.style import LINE, run_color
from explorer.util.untrusted import UntrustedInputError

NETS = (("residual", plots.RESIDUAL), ("plain", plots.PLAIN))
SUBSET = 256


def compute(target: Target, control, grid: int, span: float, two_d: bool, twin) -> dict:
    """``twin``: the plain twin's run folder to measure beside the target's run (None: none)."""
    from explorer.analysis.evaluate import evaluate
    from explorer.analysis.landscape import landscape_verdict, loss_landscape
    from explorer.ui.analysis import jobs

    dev = jobs.device()
    net, plain, ds = jobs.trained_runs(target.folder, twin, dev)
    x, y = ds.x_train[:SUBSET].to(dev), ds.y_train[:SUBSET].to(dev)
    out, lands = {"two_d": two_d, "dataset": ds.name, "subset": len(x)}, {}
    for role, r in (("residual", net), ("plain", plain)):
        if r is None:
            out[role] = None
            continue
        trained = evaluate(r.module, x, y, control)[0]
        land = loss_landscape(r.module, x, y, steps=grid, span=span, two_d=two_d, control=control)
        lands[role] = (r.label, land)
        out[role] = land.to_json() | {"trained_loss": trained, "label": r.label, "run": r.path}
    out["verdict"] = landscape_verdict(*lands["residual"], *lands.get("plain", (None, None)))
    return out


class LandscapeView(ToolView):
    def __init__(self):
        super().__init__()
        self.lines = {net: plots.plot("loss", "α (step along the direction)", "", log_y=True) for net, _ in NETS}
        self.maps = {net: plots.plot("β", "α", "") for net, _ in NETS}
        self.row = plots.PlotRow([*self.lines.values(), *self.maps.values()])
        self.fill(self.row)
        self.lines["plain"].setYLink(self.lines["residual"])   # one loss axis for both lines
        self.curves = {net: plots.curve(self.lines[net], c, symbol="o") for net, c in NETS}
        self.images = {net: plots.FixedImage(self.maps[net]) for net, _ in NETS}
        for w in [*self.lines.values(), *self.maps.values()]:
            w.addItem(pg.InfiniteLine(0, angle=90, pen=plots.pen(6, width=1, dashed=True)))  # the run's weights
        self.results: dict[str, dict] = {}
        self.levels = (0.0, 1.0)
        self.two_d = False
        self._show_mode(False, set())

    def _show_mode(self, two_d: bool, nets: set[str]) -> None:
        for net, _ in NETS:
            self.lines[net].setVisible(not two_d and net in nets)
            self.maps[net].setVisible(two_d and net in nets)

    def show_result(self, result: dict) -> None:
        two_d = bool(result.get("two_d"))
        read = {}
        for net, _ in NETS:
            if result.get(net) is not None:
                read[net] = self._read(obj(result[net], f"'{net}'"), two_d)
        if "residual" not in read:
            raise UntrustedInputError("the landscape result has no 'residual' part")
        self.clear()
        self.results, self.two_d = read, two_d
        legend = []
        if two_d:
            logs = [np.log10(np.maximum(r["grid"], 1e-12)) for r in read.values()]
            finite = np.concatenate([v[np.isfinite(v)] for v in logs])
            lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
            self.levels = (lo, hi if hi > lo else lo + 1e-6)   # one colour scale for both maps
        for net, c in NETS:
            if net not in read:
                continue
            r = read[net]
            a = r["alphas"]
            title = f"{r['label']}: centre {r['centre']:.4g} (trained {r['trained']:.4g})"
            if two_d:
                b = r["betas"]
                da, db = (a[1] - a[0] if len(a) > 1 else 1.0), (b[1] - b[0] if len(b) > 1 else 1.0)
                self.images[net].set(np.log10(np.maximum(r["grid"], 1e-12)), self.levels,
                                     (a[0] - da / 2, b[0] - db / 2, da * len(a), db * len(b)))
                plots.set_title(self.maps[net].getPlotItem(), title)
                self.maps[net].getPlotItem().autoRange()
            else:
                self.curves[net].setData(a, r["grid"])
                plots.set_title(self.lines[net].getPlotItem(), title)
            if not two_d:   # the maps' titles name their runs; a line mark would mean nothing there
                legend.append((run_color(c), LINE, r["label"]))
        if two_d:
            legend.append(("#777777", "▦", f"colour: log10 loss from {self.levels[0]:.2f} to {self.levels[1]:.2f}, "
                                           "the same scale for both"))
        self._show_mode(two_d, set(read))
        self.row.legend.set_entries(legend)

    @staticmethod
    def _read(part: dict, two_d: bool) -> dict:
        alphas = np.array(numbers(part, "alphas"))
        grid = part.get("grid")
        if two_d:
            rows = items(grid, "'grid'")
            values = np.array([numbers({"r": r}, "r", "a grid") for r in rows], dtype=np.float64)
            betas = np.array(numbers(part, "betas"))
            if values.shape != (len(alphas), len(betas)):
                raise UntrustedInputError(f"the grid is {values.shape}, not {len(alphas)} × {len(betas)}")
        else:
            values, betas = np.array(numbers(part, "grid")), None
            if values.shape != alphas.shape:
                raise UntrustedInputError(f"{len(values)} losses for {len(alphas)} steps")
        return {"alphas": alphas, "betas": betas, "grid": values, "label": label(part, "label", "network"),
                "centre": number(part.get("centre_loss"), "'centre_loss'"),
                "trained": number(part.get("trained_loss"), "'trained_loss'")}

    def clear(self) -> None:
        self.results = {}
        for net, _ in NETS:
            self.curves[net].setData([], [])
            self.images[net].clear()
        self.row.legend.set_entries([])

    def table(self):
        out = []
        for net, r in self.results.items():
            if r["betas"] is None:
                out += [[net, r["label"], a, "", loss] for a, loss in zip(r["alphas"], r["grid"])]
            else:
                out += [[net, r["label"], a, b, r["grid"][i, j]] for i, a in enumerate(r["alphas"])
                        for j, b in enumerate(r["betas"])]
        return ["network", "run", "alpha", "beta", "loss"], out


def grid_box():
    """Points per axis, odd: made with the tool, since the core's limits come with torch."""
    from explorer.analysis.landscape import GRID_MAX, GRID_MIN

    return spin("grid", "Grid", GRID_MIN, GRID_MAX, 11, "Points per axis: odd, so the centre is exactly the run's "
                "weights", step=2).make()


class LandscapeTool(Tool):
    name = "landscape"
    title = "Loss landscape"
    summary = "Loss around a trained run's weights along filter-normalised random directions"
    needs_weights = True
    fields = (Option("grid", "Grid", grid_box),
              spin("span", "Span", 0.05, 100.0, 1.0, "Largest step along a direction", step=0.25, decimals=2),
              check("two_d", "Two directions (heat map)"), TWIN)
    compute = staticmethod(compute)
    view = LandscapeView

    def build_options(self, form) -> None:
        super().build_options(form)
        self.grid.editingFinished.connect(self._odd)

    def _odd(self) -> None:
        if self.grid.value() % 2 == 0:   # typed: an even grid has no centre point
            self.grid.setValue(self.grid.value() + 1)

    def arguments(self, target: Target) -> dict:
        from explorer.analysis.landscape import check_grid

        self._odd()
        return super().arguments(target) | {"grid": check_grid(self.grid.value())}
