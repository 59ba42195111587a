"""The one registry of block types. Modules under ``primitives/`` and ``family/`` register themselves.

Registering puts the block type into the graph's catalog of descriptions, so the graph model sees every
type without importing this package; ``get_block`` returns the same object with its behaviour. A
second registration under a taken name is an error, never a silent overwrite.
"""
from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

from explorer.graph.catalog import CATALOG, DuplicateBlockError, UnknownBlockError

if TYPE_CHECKING:
    from explorer.blocks.base import BlockType

__all__ = ["DuplicateBlockError", "UnknownBlockError", "all_blocks", "discover", "get_block", "register",
           "unregister"]

_discovered = False
_PACKAGES = ("explorer.blocks.primitives", "explorer.blocks.family")
_CATEGORY_ORDER = {"Primitives": 0, "Residual blocks": 1}


def register(cls):
    """Class decorator: add a block type under ``cls.name``."""
    CATALOG.add(cls())
    return cls


def unregister(name: str) -> None:
    """Remove a block type (tests and plug-ins that add a type for a while)."""
    CATALOG.remove(name)


def discover() -> None:
    """Import every block module once, so that each registers itself."""
    global _discovered
    if _discovered:
        return
    _discovered = True
    for pkg_name in _PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            importlib.import_module(f"{pkg_name}.{info.name}")


def get_block(name: str) -> "BlockType":
    discover()
    return CATALOG.get(name)  # type: ignore[return-value]


def all_blocks() -> list:
    """Every block type, primitives first, in a stable order."""
    discover()
    return sorted(CATALOG, key=lambda b: (_CATEGORY_ORDER.get(b.category, 2), b.name))
