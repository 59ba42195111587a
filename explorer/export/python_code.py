"""A graph as one readable, standalone PyTorch module (``export --format py``).

The file holds the helpers and block classes the graph's block types declare (``BlockType.code``), one
network class whose ``__init__`` builds each node's layer (a repeated stage as an ``nn.Sequential``) and
whose ``forward`` is straight-line code in graph order, a ``build(num_classes=...)``, and the mapping from
the compiled network's parameter names. A composite block type that declares no code is written as a
class of its own from its expansion, so any graph exports. Only assembly happens here.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

from explorer.blocks.base import freeze, repeats
from explorer.blocks.code import Expr, LayerCode, Snippet
from explorer.blocks.registry import get_block
from explorer.export import key_map
from explorer.export.names import attribute_name, class_name, variable_name
from explorer.graph.model import Graph
from explorer.graph.shapes import fmt_shape
from explorer.network.adapt import find_classifier
from explorer.network.inference import analyze

NUM_CLASSES = Expr("num_classes")


class ExportError(ValueError):
    """The graph cannot be exported; the message names the node and the fix."""


@dataclass
class PythonModule:
    source: str
    class_name: str
    renamed: dict[str, str] = field(default_factory=dict)  # node id -> attribute, where they differ

    def module_key(self, compiled_key: str) -> str:
        """The exported module's name of a compiled parameter."""
        return key_map.module_key(compiled_key, self.renamed)


NO_WEIGHTS = "none (build() draws them at random)"


@dataclass(frozen=True)
class Naming:
    """Names other than the node ids for the network's own layers (``attributes``: node id -> attribute), with
    lines for its ``__init__`` and code for the module that go with them (e.g. torchvision_names)."""
    attributes: dict = field(default_factory=dict)
    init_lines: tuple = ()
    source: str = ""


def python_module(graph: Graph, analysis=None, weights: str = NO_WEIGHTS, naming: Naming = Naming()) -> PythonModule:
    """The standalone module of a valid graph; raises ExportError (invalid graph, a type without code).
    ``weights`` says which weights go with it (the file's ``WEIGHTS``)."""
    analysis = analysis or analyze(graph)
    errors = [p for p in analysis.problems if p.severity == "error"]
    if errors:
        raise ExportError(f"the graph is not valid: {errors[0].text}")
    return _Assembler(naming).module(graph, analysis, weights)


class _Assembler:
    def __init__(self, naming: Naming = Naming()) -> None:
        self.naming = naming
        self.network: Graph | None = None   # the graph whose class is the exported network
        self.snippets: dict[str, Snippet] = {}       # in definition order, what a snippet uses first
        self.expansions: dict[tuple, str] = {}       # composite written from its expansion -> its class
        self.renamed: dict[str, str] = {}

    # -- what each node becomes ------------------------------------------------------------------
    def need(self, snippet: Snippet) -> None:
        if snippet.name in self.snippets:
            return
        for dep in snippet.needs:
            self.need(dep)
        self.snippets[snippet.name] = snippet

    def layer_code(self, block, p: dict, in_shapes: list, where: str) -> LayerCode:
        code = block.code(p, in_shapes)
        if code is None and block.composite:
            code = LayerCode(f"{self.expanded_class(block, p, in_shapes[0])}()")
        if code is None:
            raise ExportError(f"node '{where}': block type '{block.name}' declares no code to export "
                              f"(add a code() method to its module, or replace the node)")
        for snippet in code.needs:
            self.need(snippet)
        return code

    def expanded_class(self, block, p: dict, in_shape) -> str:
        key = (block.name, freeze(p), tuple(in_shape))
        if key not in self.expansions:
            taken = set(self.snippets) | set(self.expansions.values())
            name = class_name(block.title or block.name, taken)
            expansion = block.expansion(p, tuple(in_shape))
            doc = (f"{block.title or block.name} ({_params_text(p)}) on {fmt_shape(in_shape)}, written out from its "
                   f"expansion: the block type declares no code of its own.")
            source = self.graph_class(name, expansion.graph, analyze(expansion.graph), doc)
            self.expansions[key] = name
            self.need(Snippet(name, source))
        return self.expansions[key]

    # -- a graph as a class ------------------------------------------------------------------------
    def graph_class(self, name: str, graph: Graph, analysis, doc: str, classifier: str | None = None,
                    after_classifier: frozenset = frozenset()) -> str:
        init, forward, var = [], [], {}
        taken = set(self.snippets) | {name}
        last = None
        for nid in graph.topological_order():
            block = get_block(graph.node(nid).type)
            srcs = graph.inputs_of(nid)
            if block.role == "input":
                var[nid] = "x"
                continue
            if block.role == "output":
                last = var[srcs[0]]
                continue
            node = graph.node(nid)
            in_shapes = [tuple(s) for s in analysis.nodes[nid].in_shapes]
            params = dict(node.params)
            if nid == classifier:
                params[block.classifier_param] = NUM_CLASSES
            if nid in after_classifier:
                in_shapes = [(NUM_CLASSES,) + s[1:] for s in in_shapes]
            if node.repeat == 1:
                codes = [self.layer_code(block, params, in_shapes, nid)]
            else:
                codes = [self.layer_code(block, pi, shapes, nid) for pi, shapes, _ in
                         repeats(block, params, node.repeat, in_shapes)]
            own = self.naming.attributes if graph is self.network else {}
            attr = own.get(nid) or attribute_name(nid)
            if attr != nid:
                self.renamed[nid] = attr
            if len(codes) == 1 and codes[0].init is not None:
                init.append(f"        self.{attr} = {codes[0].init}")
                call = codes[0].call
            elif len(codes) > 1:
                if any(c.init is None for c in codes):
                    raise ExportError(f"node '{nid}': a repeated '{block.name}' must build a layer per repetition")
                init.append(f"        self.{attr} = {_sequential([c.init for c in codes])}")
                call = "{m}({0})"
            else:
                call = codes[0].call
            args = [var[s] for s in srcs]
            if len(srcs) == 1 and len(graph.outputs_of(srcs[0])) == 1:
                var[nid] = var[srcs[0]]  # the input is dead after this: reuse its name, as a person would
            else:
                var[nid] = variable_name(nid, taken)
                taken.add(var[nid])
            forward.append((var[nid], call.format(*args, m=f"self.{attr}")))
        lines = [f"class {name}(nn.Module):", f'    """{doc}"""', ""]
        signature = f"self, num_classes={analysis.output_shape[0]}" if classifier else "self"
        if graph is self.network:
            init += self.naming.init_lines
        lines += [f"    def __init__({signature}):", "        super().__init__()", *init, ""]
        lines.append("    def forward(self, x):")
        if forward and forward[-1][0] == last:
            *forward, (_, final) = forward
        else:
            final = last or "x"
        lines += [f"        {v} = {expr}" for v, expr in forward]
        lines.append(f"        return {final}")
        return "\n".join(lines) + "\n"

    # -- the file ----------------------------------------------------------------------------------
    def module(self, graph: Graph, analysis, weights: str = NO_WEIGHTS) -> PythonModule:
        self.network = graph
        cid = find_classifier(graph)
        after: frozenset = frozenset()
        if cid is not None:
            block = get_block(graph.node(cid).type)
            p = dict(graph.node(cid).params)
            if block.as_classifier(p, p[block.classifier_param]) != p:
                cid = None  # e.g. a grouped conv: its width is not a free choice, so build() keeps the count
            else:
                after = frozenset(_between(graph, cid))
        name = class_name(graph.name or "network", set())
        body = self.graph_class(name, graph, analysis, _network_doc(graph, analysis), cid, after)
        if name in self.snippets:  # a graph named like one of its block classes
            name = class_name(name, set(self.snippets))
            body = self.graph_class(name, graph, analysis, _network_doc(graph, analysis), cid, after)
        classes = analysis.output_shape[0] if analysis.output_shape else None
        parts = [_header(graph, analysis), _IMPORTS,
                 f"INPUT_SHAPE = {tuple(analysis.input_shape)!r}  # channels, height, width of one sample\n"
                 f"WEIGHTS = {weights!r}  # which weights go with this file (the .pt beside it)\n"]
        parts += [s.source.strip("\n") + "\n" for s in self.snippets.values()]
        parts.append(body)
        parts.append(_build(name, classes, cid is not None))
        parts.append(_mapping(self.renamed))
        if self.naming.source:
            parts.append(self.naming.source)
        parts.append(_MAIN)
        return PythonModule("\n\n".join(p.rstrip("\n") + "\n" for p in parts).rstrip("\n") + "\n", name,
                            dict(self.renamed))


def _between(graph: Graph, classifier: str) -> list[str]:
    """The nodes after the classifier on its single path to the Output."""
    out = graph.nodes_with_role("output")[0]
    chain, nid = [], graph.inputs_of(out)[0]
    while nid != classifier:
        chain.append(nid)
        nid = graph.inputs_of(nid)[0]
    return chain


def _sequential(inits: list[str]) -> str:
    """``nn.Sequential`` of the repetitions, runs of identical ones written as one loop."""
    runs: list[tuple[str, int]] = []
    for text in inits:
        if runs and runs[-1][0] == text:
            runs[-1] = (text, runs[-1][1] + 1)
        else:
            runs.append((text, 1))
    items = [text if n == 1 else f"*({text} for _ in range({n}))" for text, n in runs]
    if len(items) == 1:
        return f"nn.Sequential({items[0]})"
    inner = "".join(f"            {item},\n" for item in items)
    return f"nn.Sequential(\n{inner}        )"


def _params_text(p: dict) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in sorted(p.items()))


def _network_doc(graph: Graph, analysis) -> str:
    return (f"{graph.name or 'The network'}: input {fmt_shape(analysis.input_shape)}, output "
            f"{fmt_shape(analysis.output_shape)}, {analysis.total.params:,} parameters.")


def _header(graph: Graph, analysis) -> str:
    return f'''"""{graph.name or "network"}, exported from Residual Explorer as a standalone PyTorch module.

It needs torch and nothing else. ``build()`` rebuilds the network exactly: input {fmt_shape(analysis.input_shape)},
{analysis.total.params:,} parameters, {analysis.total.weight_layers} weight layers.

Weights: a ``state_dict`` of this module (e.g. the ``.pt`` written beside it) loads with
``model.load_state_dict(state_dict)``. The weights Residual Explorer saves (a checkpoint's ``"model"``) name
each layer inside the compiled network's ``nodes`` containers; ``load_compiled(model, state_dict)`` renames
them first (``from_compiled``) and loads them strictly.
"""
'''


_IMPORTS = """import torch
from torch import nn
from torch.nn import functional as F
"""


def _build(name: str, classes, parametrized: bool) -> str:
    if parametrized:
        return f'''def build(num_classes={classes}):
    """The exported network; another ``num_classes`` changes only its classifier."""
    return {name}(num_classes=num_classes)
'''
    return f'''def build(num_classes={classes}):
    """The exported network (its classifier's width is fixed by the graph)."""
    if num_classes != {classes}:
        raise ValueError("this network was exported with {classes} outputs; change its classifier in Residual Explorer")
    return {name}()
'''


def _mapping(renamed: dict[str, str]) -> str:
    note = "node ids whose attribute here has another name (a clash with Python or nn.Module names; --names)"
    return f'''RENAMED = {renamed!r}  # {note}


def from_compiled(state_dict):
    """Weights saved by Residual Explorer, under this module's names."""
    return {{module_key(key, RENAMED): value for key, value in state_dict.items()}}


def load_compiled(model, state_dict):
    """Load weights saved by Residual Explorer into ``model`` (strict: every tensor must fit)."""
    model.load_state_dict(from_compiled(state_dict))
    return model


{inspect.getsource(key_map.module_key)}'''


_MAIN = """if __name__ == "__main__":
    model = build().eval()
    with torch.no_grad():
        print(model(torch.randn(2, *INPUT_SHAPE)).shape)
"""
