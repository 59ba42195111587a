"""Plain descriptions of block types, and the catalog the graph model reads them from.

The graph model needs to know of a block type only what a file or an edit can get wrong: its typed
parameters, how many inputs it takes, whether it has an output, whether it may repeat, and its role
(the network's Input or Output). ``BlockSpec`` holds exactly those declarations and a few more that
views and rewrites read (colour, glyph, plain-twin and classifier rules); the behaviour (shape rule,
cost, torch module) is added by ``explorer.blocks``, which registers every type here. The graph thus
depends on descriptions only, never on the registry's code, torch or the compiler.
"""
from __future__ import annotations

import difflib
from typing import ClassVar, Iterator

from explorer.graph.params import ParamSet


class UnknownBlockError(KeyError):
    """A type name nobody registered; the message suggests the closest known one."""

    def __init__(self, name: str, suggestion: str | None = None, empty: bool = False):
        super().__init__(name)
        self.name = name
        self.suggestion = suggestion
        self.empty = empty

    def __str__(self) -> str:
        text = f"unknown block type '{self.name}'"
        if self.suggestion:
            text += f"; did you mean '{self.suggestion}'?"
        if self.empty:
            text += " (no block types are loaded: import explorer.blocks first)"
        return text


class DuplicateBlockError(ValueError):
    """A second block type under a name that is taken: refused, never a silent overwrite."""


class BlockSpec:
    """What a block type declares. Subclasses set the class attributes; nothing here runs torch."""

    name: ClassVar[str] = ""          # the type id stored in graph files
    title: ClassVar[str] = ""         # what the palette shows
    category: ClassVar[str] = "Primitives"
    help: ClassVar[str] = ""
    params: ClassVar[ParamSet] = ParamSet()
    min_inputs: ClassVar[int] = 1     # 0: a source (Input)
    max_inputs: ClassVar[int] = 1     # >1: Add, Concat, ...; edges keep their order
    has_output: ClassVar[bool] = True
    composite: ClassVar[bool] = False
    repeatable: ClassVar[bool] = False
    face: ClassVar[tuple[str, ...]] = ()  # parameters shown on the canvas node
    role: ClassVar[str] = ""          # "input" or "output": the network's two ends
    color: ClassVar[str] = "#78909c"  # the block's hue everywhere (palette, node header, overview)
    glyph: ClassVar[tuple] = ()       # its icon: shapes in a unit square (explorer.blocks.glyph); (): the default box
    # Plain twin: an Add-like merge fed by a skip edge loses that edge; a block with a ``shortcut``
    # parameter gets "none"; ``twin_note`` says why a block is left as it is.
    skip_merge: ClassVar[bool] = False
    twin_note: ClassVar[str] = ""
    # Adapting to a data set: the parameter that sets a classifier's outputs (None: not a classifier),
    # and whether the block may sit between the classifier and the Output without changing the count.
    classifier_param: ClassVar[str | None] = None
    keeps_features: ClassVar[bool] = False
    # Why nodes of this type can never become a torch module (an imported placeholder), and the fix;
    # inference reports it as an error on each such node. Empty: the type compiles.
    unbuildable: ClassVar[str] = ""
    placeable: ClassVar[bool] = True  # False: made by a tool (an import), never offered in the palette
    unbuildable_fix: ClassVar[str] = ""


class Catalog:
    """Block descriptions by type name, in registration order."""

    def __init__(self) -> None:
        self._specs: dict[str, BlockSpec] = {}

    def add(self, spec: BlockSpec) -> None:
        if not spec.name:
            raise DuplicateBlockError(f"{type(spec).__name__} has no name")
        old = self._specs.get(spec.name)
        if old is not None and type(old) is not type(spec):
            raise DuplicateBlockError(f"block type '{spec.name}' is registered twice "
                                      f"({type(old).__module__} and {type(spec).__module__})")
        self._specs[spec.name] = spec

    def remove(self, name: str) -> None:
        self._specs.pop(name, None)

    def get(self, name: str) -> BlockSpec:
        try:
            return self._specs[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._specs), n=1, cutoff=0.6)
            raise UnknownBlockError(name, close[0] if close else None, empty=not self._specs) from None

    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[BlockSpec]:
        return iter(list(self._specs.values()))

    def __len__(self) -> int:
        return len(self._specs)


CATALOG = Catalog()
