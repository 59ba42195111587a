"""The one registry of block types. Modules under ``primitives/`` and ``family/`` register themselves.

Discovery is lazy (first lookup) so that importing the graph model stays cheap and free of torch.
A second registration under a taken name is an error, never a silent overwrite.
"""
from __future__ import annotations

import importlib
import pkgutil

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from explorer.blocks.base import BlockType

_BLOCKS: dict[str, "BlockType"] = {}
_discovered = False
_PACKAGES = ("explorer.blocks.primitives", "explorer.blocks.family")


class UnknownBlockError(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        return f"unknown block type '{self.name}'"


class DuplicateBlockError(ValueError):
    pass


def register(cls):
    """Class decorator: add a block type under ``cls.name``."""
    if not cls.name:
        raise DuplicateBlockError(f"{cls.__name__} has no name")
    if cls.name in _BLOCKS and type(_BLOCKS[cls.name]) is not cls:
        raise DuplicateBlockError(f"block type '{cls.name}' is registered twice "
                                  f"({type(_BLOCKS[cls.name]).__module__} and {cls.__module__})")
    _BLOCKS[cls.name] = cls()
    return cls


def _discover() -> None:
    global _discovered
    if _discovered:
        return
    _discovered = True
    for pkg_name in _PACKAGES:
        pkg = importlib.import_module(pkg_name)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda m: m.name):
            importlib.import_module(f"{pkg_name}.{info.name}")


def get_block(name: str) -> "BlockType":
    _discover()
    try:
        return _BLOCKS[name]
    except KeyError:
        raise UnknownBlockError(name) from None


def all_blocks() -> list:
    """Every block type, primitives first, in a stable order."""
    _discover()
    order = {"Primitives": 0, "Residual blocks": 1}
    return sorted(_BLOCKS.values(), key=lambda b: (order.get(b.category, 2), b.name))
