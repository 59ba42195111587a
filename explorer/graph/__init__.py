"""The architecture as data: graph model, typed parameters, block descriptions, the file format, layout.

Imports neither Qt nor torch nor the block registry. The names below are loaded on first use, so that
``import explorer.graph.shapes`` stays a pure-Python import without networkx.
"""
from __future__ import annotations

import importlib

_EXPORTS = {
    "CycleError": "model", "DuplicateLinkError": "model", "Edge": "model", "Graph": "model",
    "GraphError": "model", "GraphEvent": "model", "Node": "model", "NodeIdError": "model", "PortError": "model",
    "ParamError": "params", "ShapeError": "shapes", "fmt_shape": "shapes",
    "BlockSpec": "catalog", "UnknownBlockError": "catalog",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"explorer.graph.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'explorer.graph' has no attribute {name!r}")
