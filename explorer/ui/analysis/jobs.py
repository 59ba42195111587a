"""What the tools' jobs share on the worker side: the device, the data, a graph fitted to the data, and
trained runs (the network's and its plain twin's). The same steps as ``python main.py analyze``."""
from __future__ import annotations

from pathlib import Path

from explorer.graph.model import Graph


def device():
    from explorer.train.device import resolve_device

    return resolve_device("auto")


def dataset(spec: str, seed: int = 0):
    from explorer.data.cache import cached_dataset

    return cached_dataset(spec or "digits", seed=seed)


def fitted(graph: Graph, ds) -> Graph:
    """``graph`` with its input and classifier fitted to the data set; refused when it is not valid."""
    from explorer.network.adapt import adapt_to_data
    from explorer.network.inference import analyze

    g, _notices = adapt_to_data(graph, ds.input_shape, ds.num_classes)
    result = analyze(g)
    if not result.valid:
        raise ValueError(f"the network is not valid: {result.errors[0].text}")
    return g


def trained_runs(folder: Path, twin: Path | None, dev):
    """(the network's run, its plain twin's run or None, the validation data they were trained with); ``twin``
    is the plain twin's run folder (``Target.twin_folder()``) or None for the network alone."""
    from explorer.analysis.trained import comparison_paths, load_run, run_data

    net = load_run(comparison_paths(folder)[0], dev)
    return net, load_run(twin, dev) if twin is not None else None, run_data(net)


class checked_forward:
    """While active, every layer unit of ``module`` checks ``control`` before it runs, so Cancel stops a
    long single-batch measurement (gradient flow on a 1,000-layer network) mid-forward instead of after
    it. For throwaway modules only: the forward is abandoned where it stands."""

    def __init__(self, module, control):
        self.module, self.control, self.handles = module, control, []

    def __enter__(self):
        from explorer.compile import layer_units

        self.handles = [u.module.register_forward_pre_hook(lambda _m, _i: self.control.check())
                        for u in layer_units(self.module)]
        return self.module

    def __exit__(self, *exc):
        for h in self.handles:
            h.remove()
        return False
