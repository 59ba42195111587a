"""Import a PyTorch model as a graph: trace, map, collapse, and the weights to go with it."""
from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from explorer.graph.layout import layered_layout
from explorer.graph.model import Graph
from explorer.importer.assemble import assemble
from explorer.importer.collapse import collapse
from explorer.importer.errors import ImporterError
from explorer.importer.source import build_model
from explorer.importer.trace import trace
from explorer.importer.weights import copy_weights

DEFAULT_SIDE = 32  # the app's CIFAR-sized default when nothing says how large the images are


@dataclass
class ImportedModel:
    graph: Graph
    module: nn.Module                 # the model as its code built it
    sources: dict[str, str]           # compiled submodule path -> the module's submodule path
    opaque: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    def compiled(self):
        """The graph compiled with the model's weights copied in (raises CompileError if opaque nodes
        remain)."""
        from explorer.compile import compile_graph

        target = compile_graph(self.graph)
        copy_weights(self.module, target, self.sources)
        return target


def guess_input_shape(module: nn.Module) -> tuple[int, ...]:
    """C×32×32 with C from the first convolution; the features of the first Linear for a vector model."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            return (m.in_channels, DEFAULT_SIDE, DEFAULT_SIDE)
        if isinstance(m, nn.Linear):
            return (m.in_features,)
    raise ImporterError(f"cannot tell what input {type(module).__name__} takes; give it with --input-shape C,H,W")


def import_module(module: nn.Module, input_shape: tuple[int, ...] | None = None, name: str | None = None,
                  blocks: bool = True) -> ImportedModel:
    """The graph of ``module`` (already built; nothing here runs code beyond its ``forward``)."""
    shape = tuple(input_shape) if input_shape else guess_input_shape(module)
    traced = trace(module, shape)
    asm = assemble(traced, shape, name or type(module).__name__)
    if blocks:
        n_blocks, n_stages = collapse(asm)
        if n_blocks:
            asm.notices.insert(0, f"recognised {n_blocks} residual block(s)"
                               + (f" in {n_stages} stage(s)" if n_stages else ""))
    layered_layout(asm.graph)
    opaque = [n for n in asm.opaque if n in asm.graph]
    return ImportedModel(asm.graph, module, asm.sources, opaque, asm.notices)


def import_spec(spec: str, input_shape: tuple[int, ...] | None = None, blocks: bool = True) -> ImportedModel:
    """Run the code ``spec`` names (FILE.py:CALLABLE or module:CALLABLE), then import the module it builds."""
    module = build_model(spec)
    name = spec.rpartition(":")[2].split(".")[-1]
    return import_module(module, input_shape, name, blocks)
