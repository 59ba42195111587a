"""The analysis tools' result views, each built the first time it is needed.

A window holds seven tools but shows one view at a time; a view is several pyqtgraph plots, so building
all of them up front was most of the cost of opening a window. The shelf builds a view when the panel
first shows its tool (or asks for it by name), puts it in the panel's stack, connects its node clicks and
gives it the node highlighted so far, so a late view looks as if it had been there from the start.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator

from PySide6.QtWidgets import QStackedWidget


class ViewShelf:
    def __init__(self, tools, stack: QStackedWidget, on_node_clicked: Callable[[str], None]) -> None:
        self._tools = {t.name: t for t in tools}
        self._stack = stack
        self._on_node_clicked = on_node_clicked
        self._built: dict[str, object] = {}
        self._highlighted: str | None = None

    def __getitem__(self, name: str):
        view = self._built.get(name)
        if view is None:
            view = self._tools[name].make_view()   # KeyError for a tool the panel does not have
            self._stack.addWidget(view)
            view.nodeClicked.connect(self._on_node_clicked)
            if self._highlighted is not None:
                view.highlight(self._highlighted)
            self._built[name] = view
        return view

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def built(self) -> Iterator:
        """The views built so far (the others have nothing to update)."""
        return iter(list(self._built.values()))

    def highlight(self, node_id: str) -> None:
        self._highlighted = node_id
        for view in self.built():
            view.highlight(node_id)
