"""Graph -> torch module. Importing this package imports torch."""
from explorer.compile.graph_module import CompileError, GraphModule, compile_graph, node_of_param
from explorer.compile.units import LayerUnit, layer_units

__all__ = ["CompileError", "GraphModule", "compile_graph", "node_of_param", "LayerUnit", "layer_units"]
