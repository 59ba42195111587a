"""The architecture as data: graph model, validation, shape inference and the file format.

Imports neither Qt nor torch (block shape rules are plain Python; torch is only touched when a
block builds its module).
"""
from explorer.graph.model import (CycleError, DuplicateLinkError, Edge, Graph, GraphError, GraphEvent, Node,
                                  NodeIdError, PortError)
from explorer.graph.params import ParamError
from explorer.graph.shapes import ShapeError, fmt_shape

__all__ = ["CycleError", "DuplicateLinkError", "Edge", "Graph", "GraphError", "GraphEvent", "Node", "NodeIdError",
           "ParamError", "PortError", "ShapeError", "fmt_shape"]
