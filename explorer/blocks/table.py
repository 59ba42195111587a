"""An open, name-keyed table of the choices a block parameter offers (activation kinds, as timm's
``create_act_layer`` keeps them): one ``add`` extends every reader at once.

The parameter's choices are a live view of the table's names (``Table.names``), so the inspector's list,
file checks and the compiler all see an entry added from outside the package. A second entry under a
taken name is an error, never a silent overwrite.
"""
from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Generic, Iterator, TypeVar

T = TypeVar("T")


class DuplicateEntryError(ValueError):
    """A second entry under a name that is taken."""


class UnknownEntryError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


class Names(Sequence):
    """The table's names in the order they were added, read at each use (a ``Param``'s choices)."""

    def __init__(self, table: "Table"):
        self._table = table

    def __getitem__(self, i):
        return self._table.name_list()[i]

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __repr__(self) -> str:
        return repr(tuple(self))


class Table(Generic[T]):
    """Entries (anything with a ``name``) by name, in the order they were added."""

    def __init__(self, what: str):
        self.what = what  # "activation", for messages
        self._entries: dict[str, T] = {}
        self.version = 0  # bumped on each change, so readers may cache what they derive from the entries
        self.names = Names(self)

    def add(self, entry: T) -> T:
        name = getattr(entry, "name", "")
        if not name or not isinstance(name, str):
            raise DuplicateEntryError(f"a {self.what} needs a name")
        if name in self._entries:
            raise DuplicateEntryError(f"{self.what} '{name}' is already defined")
        self._entries[name] = entry
        self.version += 1
        return entry

    def remove(self, name: str) -> None:
        if self._entries.pop(name, None) is not None:
            self.version += 1

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(name), list(self._entries), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UnknownEntryError(f"unknown {self.what} '{name}'{hint}") from None

    def name_list(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._entries

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._entries.values()))

    def __len__(self) -> int:
        return len(self._entries)
