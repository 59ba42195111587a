"""Path-length ensemble view (Veit et al. 2016, Fig. 6): how many of the 2ⁿ paths have each length (a
binomial), and, measured by sampling, how much gradient the paths of each length carry. Beside a trained
run, its plain twin's run: one path only, through every block's branch (length n), its gradient a mark on
the per-path plot."""
from __future__ import annotations

import numpy as np

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import column, items, label, number, obj, table_rows
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import TWIN, Tool, ToolView, spin
from explorer.ui.training.plots.style import LINE, run_color

BATCH = 256


def compute(target: Target, control, samples: int, twin) -> dict:
    """``twin``: the plain twin's run folder to measure beside a trained run (None: none)."""
    import torch

    from explorer.analysis.paths import path_gradients, paths_verdict
    from explorer.compile import compile_graph
    from explorer.ui.analysis import jobs

    dev = jobs.device()
    if target.folder is not None:
        net, plain, ds = jobs.trained_runs(target.folder, twin, dev)
        module, graph, name = net.module, net.graph, net.label
    else:
        ds = jobs.dataset(target.dataset)
        graph = jobs.fitted(target.load_graph(), ds)
        torch.manual_seed(0)
        module, name = compile_graph(graph).to(dev), f"{graph.name or 'the network'} (at initialisation)"
        plain = None
    x, y = ds.x_train[:BATCH].to(dev), ds.y_train[:BATCH].to(dev)
    prof = path_gradients(module, graph, x, y, samples=samples, control=control)
    out = prof.to_json() | {"label": name, "verdict": paths_verdict(prof, name)}
    if plain is not None:   # one path, through every branch: the longest path of the network, alone
        one = path_gradients(plain.module, plain.graph, x, y, samples=1, control=control).grad_per_path[0]
        longest = prof.grad_per_path[-1]
        out["plain"] = {"label": plain.label, "length": prof.blocks, "grad_per_path": float(one)}
        out["verdict"] += (f"; {plain.label} has one path only, of length {prof.blocks}, and its gradient is "
                           f"{one:.3g} against {longest:.3g} for the network's path of that length")
    return out


class PathsView(ToolView):
    def __init__(self):
        super().__init__()
        self.shares = plots.plot("share", "path length (residual branches taken)", "Paths and gradient by length")
        self.per_path = plots.plot("‖∂L/∂x‖ of one path", "path length", "Gradient of one path", log_y=True)
        self.row = plots.PlotRow([self.shares, self.per_path])
        self.fill(self.row)
        self.path_bars = plots.Bars(self.shares, plots.RESIDUAL, width=0.8)
        self.grad_share = plots.curve(self.shares, 1, symbol="o")
        self.grad_curve = plots.curve(self.per_path, 1, symbol="o")
        # mean ± spread over the sampled paths of each length, and the fitted exponential (a line on log y)
        self.spread = [plots.curve(self.per_path, 1) for _ in range(2)]
        for c in self.spread:
            c.setPen(plots.pen(1, width=1))
        self.fit_line = plots.curve(self.per_path, 1, dashed=True)
        self.twin_mark = plots.curve(self.per_path, plots.PLAIN, symbol="s")
        self.rows: list = []

    def show_result(self, result: dict) -> None:
        rows = items(result.get("lengths"), "'lengths'")
        share, grad = column(rows, "share_of_paths", "a length"), column(rows, "share_of_gradient", "a length")
        per = np.array(column(rows, "grad_per_path", "a length"))
        lengths = np.array(column(rows, "length", "a length"))
        self.rows = rows
        self.path_bars.set(share)
        self.grad_share.setData(lengths, grad)
        ok = np.isfinite(per) & (per > 0)
        self.grad_curve.setData(lengths[ok], per[ok])
        name = label(result, "label", "network")
        entries = [(run_color(plots.RESIDUAL), "■", f"share of the paths ({name})"),
                   (run_color(1), LINE, "share of the gradient they carry")]
        spread = np.array(column(rows, "grad_spread", "a length")) if all("grad_spread" in r for r in rows) \
            else np.full(len(rows), np.nan)
        for curve, sign in zip(self.spread, (1, -1)):
            band = per + sign * spread
            keep = ok & np.isfinite(band) & (band > 0)   # a log axis has no place for 0
            curve.setData(lengths[keep], band[keep])
        slope, at0 = number(result.get("slope_log10_per_length"), "the slope"), \
            number(result.get("fit_log10_at_length_0"), "the fit")
        if np.isfinite(slope) and np.isfinite(at0) and len(lengths):
            self.fit_line.setData(lengths, 10.0 ** (at0 + slope * lengths))
            entries.append((run_color(1), "╍╍", f"fit: ×{10 ** slope:.3g} per extra branch"))
        else:
            self.fit_line.setData([], [])
        plain = obj(result["plain"], "'plain'") if result.get("plain") is not None else None
        if plain is not None:
            at, g = number(plain.get("length"), "the plain path's length"), number(plain.get("grad_per_path"),
                                                                                  "the plain path's gradient")
            self.twin_mark.setData(*(([at], [g]) if g > 0 else ([], [])))   # a log axis: a zero has no place
            entries.append((run_color(plots.PLAIN), "■", f"{label(plain, 'label', 'plain twin')}: its one path"))
        else:
            self.twin_mark.setData([], [])
        self.row.legend.set_entries(entries)

    def clear(self) -> None:
        self.rows = []
        self.path_bars.set([])
        self.grad_share.setData([], [])
        self.grad_curve.setData([], [])
        for c in (*self.spread, self.fit_line):
            c.setData([], [])
        self.twin_mark.setData([], [])
        self.row.legend.set_entries([])

    def table(self):
        keys = ["length", "paths", "share_of_paths", "grad_per_path", "grad_spread", "grad_total", "share_of_gradient"]
        return keys, table_rows(self.rows, keys, "a length")


class PathsTool(Tool):
    name = "paths"
    title = "Path lengths"
    summary = "The 2ⁿ paths of n residual blocks by length, and the gradient each length carries"
    fields = (spin("samples", "Samples", 1, 1000, 16, "Paths sampled for each length"), TWIN)
    compute = staticmethod(compute)
    view = PathsView
