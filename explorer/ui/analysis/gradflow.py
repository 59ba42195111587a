"""Gradient flow at initialisation: the gradient reaching each layer, the network against its plain twin,
with BatchNorm and with normalisation bypassed, side by side. A plain net's gradient explodes with BN and
vanishes without; a residual net's stays level with BN but explodes without, unless its branches start
small (the Branch start option: zero-γ, SkipInit, Fixup)."""
from __future__ import annotations

import numpy as np

from explorer.ui.analysis import plots
from explorer.ui.analysis.results_file import column, items, label, names, obj
from explorer.ui.analysis.targets import Target
from explorer.ui.analysis.tool import Tool, ToolView, choice, spin
from explorer.ui.training.plots.style import LINE, run_color

REGIMES = (("with_bn", "with BatchNorm"), ("without_bn", "normalisation bypassed"))
NETS = (("residual", "network", plots.RESIDUAL), ("plain", "plain twin", plots.PLAIN))
INITS = (("default", "default (He)"), ("zero_gamma", "zero-γ (Goyal et al.)"), ("skipinit", "SkipInit (α = 0)"),
         ("fixup", "Fixup (Zhang et al.)"))


def compute(graph, dataset: str, batch: int, seed: int, control, init: str = "default") -> dict:
    from explorer.analysis.gradient_flow import compare_verdict, own_twin_verdict
    from explorer.network.twins import plain_twin
    from explorer.ui.analysis import jobs

    dev = jobs.device()
    ds = jobs.dataset(dataset, seed)
    graph = jobs.fitted(graph, ds)
    twin, changes = plain_twin(graph)  # of the default start: a plain block whose branch starts at 0 passes nothing
    if init != "default":
        from explorer.network.init_options import with_init
        graph = with_init(graph, init, zero_classifier=False)[0]
    x, y = ds.x_train[:batch].to(dev), ds.y_train[:batch].to(dev)
    name = graph.name or "the network"
    out = {"label": name, "dataset": ds.name, "batch": len(x), "init": init}
    verdicts = []
    for i, (key, _) in enumerate(REGIMES):
        bn = key == "with_bn"
        control.step("gradient flow networks", 2 * i, 4)
        res = profile(graph, x, y, seed, bn, control)
        control.step("gradient flow networks", 2 * i + 1, 4)
        plain = profile(twin, x, y, seed, bn, control) if changes else res
        verdict = compare_verdict(name, res, "the plain twin", plain, bn) if changes else own_twin_verdict(name)
        verdicts.append(verdict)
        out[key] = {"residual": res.rows(), "plain": plain.rows(), "verdict": verdict}
    control.step("gradient flow networks", 4, 4)
    out["verdict"] = "\n".join(verdicts)
    return out


def profile(graph, x, y, seed: int, bn: bool, control):
    """``gradient_flow.profile_graph``, with Cancel checked before every layer of the forward pass."""
    import torch

    from explorer.analysis.gradient_flow import bypass_normalisation, gradient_by_depth
    from explorer.compile import compile_graph
    from explorer.ui.analysis.jobs import checked_forward

    torch.manual_seed(seed)
    module = compile_graph(graph)
    if not bn:
        bypass_normalisation(module)
    with checked_forward(module.to(x.device), control):
        return gradient_by_depth(module, x, y)


def measure(target: Target, control, batch: int, init: str) -> dict:
    """``compute`` on the target's graph (loaded here, in the worker) with its data set, seed 0."""
    return compute(target.load_graph(), target.dataset, batch, 0, control, init)


class GradFlowView(ToolView):
    def __init__(self):
        super().__init__()
        self.plot_widgets = [plots.plot("‖∂L/∂y‖", "layer (input side first)", title, log_y=True)
                             for _, title in REGIMES]
        self.row = plots.PlotRow(self.plot_widgets)
        self.fill(self.row)
        self.curves = {(r, n): plots.curve(w, color, symbol="o")
                       for (r, _), w in zip(REGIMES, self.plot_widgets) for n, _, color in NETS}
        self.ticks = {r: plots.CategoryTicks(w) for (r, _), w in zip(REGIMES, self.plot_widgets)}
        self.rows: dict[tuple[str, str], list] = {}

    def show_result(self, result: dict) -> None:
        rows = {}
        for r, _ in REGIMES:
            regime = obj(result.get(r), f"'{r}'")
            for n, _, _ in NETS:
                rows[(r, n)] = items(regime.get(n), f"'{r}.{n}'")
        self.rows = rows
        for key, rs in rows.items():
            names(rs, "unit", "a layer")
            grad = np.array(column(rs, "grad_norm", "a layer"))
            ok = np.isfinite(grad) & (grad > 0)   # a log axis has no place for 0
            self.curves[key].setData(np.arange(len(grad))[ok], grad[ok])
        for (r, _), w in zip(REGIMES, self.plot_widgets):
            self.ticks[r].set(names(rows[(r, "residual")], "unit", "a layer"))
            w.getPlotItem().enableAutoRange()
        name = label(result, "label", "network")
        self.row.legend.set_entries([(run_color(c), LINE, name if n == "residual" else f"{name} ({text})")
                                     for n, text, c in NETS])

    def clear(self) -> None:
        self.rows = {}
        for c in self.curves.values():
            c.setData([], [])
        self.row.legend.set_entries([])

    def table(self):
        header = ["regime", "network", "unit", "node", "depth", "grad_norm", "weight_grad_norm"]
        out = []
        for (r, n), rs in self.rows.items():
            units, nodes = names(rs, "unit", "a layer"), names(rs, "node", "a layer")
            for u, nd, d, g, w in zip(units, nodes, column(rs, "depth", "a layer"), column(rs, "grad_norm", "a layer"),
                                      column(rs, "weight_grad_norm", "a layer")):
                out.append([r, n, u, nd, int(d), g, w])
        return header, out


class GradFlowTool(Tool):
    name = "gradflow"
    title = "Gradient flow"
    summary = "Gradient reaching each layer at initialisation, network vs plain twin, with and without BN"
    fields = (spin("batch", "Batch", 2, 4096, 128, "Samples in the one batch measured"),
              choice("init", "Branch start", INITS,
                     "How the network's residual branches start (the plain twin keeps the default). Without BN a "
                     "residual net's gradient explodes toward the input at the default start; these three keep it "
                     "level: zero-γ = the branch's last BN γ = 0; SkipInit = a branch scale α = 0; Fixup = no BN in "
                     "the blocks, scalar biases, last conv at 0 (its classifier keeps its default start)"))
    compute = staticmethod(measure)
    view = GradFlowView
