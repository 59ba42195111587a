"""Fit an architecture to a data set: the Input's shape and the classifier's number of outputs.

A preset is published for CIFAR (3×32×32, 10 classes) but a person may train it on 8×8 grey digits;
rather than refuse, the trainer rewrites the two ends of a copy of the graph and says what it changed.
A graph transform above the block registry: no torch, no Qt.
"""
from __future__ import annotations

from explorer.blocks.registry import get_block
from explorer.graph.model import Graph
from explorer.graph.shapes import fmt_shape
from explorer.network.inference import analyze


def find_classifier(graph: Graph) -> str | None:
    """The node whose output count is the number of classes: the last Linear before the Output, or a conv
    (a 1×1 conv classifier followed by global pooling). None when there is no such node on a single path."""
    outputs = graph.nodes_with_role("output")
    if len(outputs) != 1:
        return None
    srcs = graph.inputs_of(outputs[0])
    seen = set()
    while len(srcs) == 1 and srcs[0] not in seen:
        nid = srcs[0]
        seen.add(nid)
        spec = graph.spec(nid)
        if spec.classifier_param:
            return nid
        if not spec.keeps_features:
            return None  # an Add, a residual block, ...: its width is not a free classifier choice
        srcs = graph.inputs_of(nid)
    return None


def adapt_to_data(graph: Graph, input_shape, num_classes: int) -> tuple[Graph, list[str]]:
    """A copy of ``graph`` whose Input takes ``input_shape`` (C,H,W) and whose classifier has
    ``num_classes`` outputs, with one notice per change (empty when nothing needed changing).

    The copy may still be invalid (say a 7×7 stride-2 stem on a 4×4 image); the caller validates it and
    reports that problem, which then names the node and the fix.
    """
    g = graph.copy()
    notices: list[str] = []
    inputs = g.nodes_with_role("input")
    if len(inputs) == 1 and input_shape is not None:
        nid = inputs[0]
        old = tuple(g.node(nid).params.get("shape") or ())
        new = tuple(int(s) for s in input_shape)
        if old != new:
            g.set_param(nid, "shape", list(new))
            notices.append(f"input {fmt_shape(old)} → {fmt_shape(new)}")
    if num_classes is not None:
        a = analyze(g)
        current = a.output_shape[0] if a.output_shape else None
        if current != num_classes:
            cid = find_classifier(g)
            if cid is None:
                notices.append(f"could not find a classifier to give {num_classes} outputs "
                               f"(the network produces {fmt_shape(a.output_shape)})")
            else:
                node = g.node(cid)
                block = get_block(node.type)
                old = node.params[block.classifier_param]
                for name, value in block.as_classifier(dict(node.params), num_classes).items():
                    g.set_param(cid, name, value)
                notices.append(f"classifier '{cid}' {old} → {num_classes} outputs")
    return g, notices
