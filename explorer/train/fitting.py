"""Set-up checks that need no device: which graph and settings a run uses (its own or a checkpoint's),
and fitting the graph to the data set (the Input's shape, the classifier's outputs). Problems raise a
SetupFailure whose report names what is wrong and how to fix it."""
from __future__ import annotations

from explorer.graph.model import Graph
from explorer.graph.shapes import fmt_shape
from explorer.network.adapt import adapt_to_data
from explorer.network.inference import analyze
from explorer.train.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from explorer.train.config import TrainConfig
from explorer.train.failures import SetupFailure
from explorer.train.reports import FailedReport


def resolve_inputs(graph: Graph | None, config: TrainConfig | None, resume):
    """(graph, config, checkpoint or None): a resumed run takes the checkpoint's graph and settings where
    none are given."""
    if resume is None:
        if graph is None:
            raise SetupFailure(FailedReport("graph", "no network given", "build or open an architecture first"))
        return graph, config or TrainConfig(), None
    ckpt = resume
    if not isinstance(ckpt, Checkpoint):
        try:
            ckpt = load_checkpoint(ckpt)
        except CheckpointError as e:
            raise SetupFailure(FailedReport("checkpoint", str(e), "pick a last.pt or best.pt of a run")) from None
    return graph or ckpt.graph, config or ckpt.config, ckpt


def fit_graph(graph: Graph, dataset, adapt: bool, notices: list[str]):
    """(graph, analysis) for ``dataset``: the graph itself when it fits, else an adapted copy (noted in
    ``notices``) when ``adapt`` allows it."""
    a = analyze(graph)
    if not a.valid:
        raise SetupFailure(FailedReport("graph", a.errors[0].text))
    ds = dataset
    want_in, want_out = tuple(ds.input_shape), (ds.num_classes,)
    if tuple(a.input_shape) == want_in and tuple(a.output_shape) == want_out:
        return graph, a
    if not adapt:
        raise SetupFailure(FailedReport(
            "data", f"the network takes {fmt_shape(a.input_shape)} and gives {fmt_shape(a.output_shape)} "
                    f"but {ds.name} has {fmt_shape(want_in)} images in {ds.num_classes} classes",
            "set the Input's shape and the classifier's outputs, or allow adapting"))
    graph, changes = adapt_to_data(graph, want_in, ds.num_classes)
    a = analyze(graph)
    if changes:
        notices.append(f"adapted '{graph.name}' to {ds.name}: " + "; ".join(changes))
    if not a.valid:
        raise SetupFailure(FailedReport("graph", f"after fitting to {ds.name} ({fmt_shape(want_in)}): "
                                                 f"{a.errors[0].text}"))
    if tuple(a.output_shape) != want_out:
        raise SetupFailure(FailedReport(
            "data", f"the network outputs {fmt_shape(a.output_shape)} but {ds.name} has {ds.num_classes} "
                    "classes", f"end it with Global avg pool → Flatten → Linear({ds.num_classes})"))
    return graph, a
