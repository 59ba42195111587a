"""The palette: every block type and preset, grouped, searchable, draggable onto the canvas.

Dragging carries ``mime.palette_mime(kind, name)``; double-click asks for the block at the view's
centre (or the preset to be opened) through ``activated(kind, name)``.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QDrag
from PySide6.QtWidgets import QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from explorer.blocks.registry import all_blocks
from explorer.ui.icons import block_icon
from explorer.ui.mime import palette_mime

KIND, NAME, SEARCH = Qt.UserRole, Qt.UserRole + 1, Qt.UserRole + 2
GROUPS = ("Primitives", "Residual blocks", "Presets")


class PaletteTree(QTreeWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setHeaderHidden(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QTreeWidget.DragOnly)
        self.setIconSize(QSize(22, 22))
        self.setIndentation(12)
        self.setUniformRowHeights(True)
        self.setRootIsDecorated(True)

    def entry(self, item: QTreeWidgetItem) -> tuple[str, str] | None:
        kind = item.data(0, KIND)
        return (kind, item.data(0, NAME)) if kind else None

    def mimeTypes(self):
        from explorer.ui.mime import BLOCK_MIME
        return [BLOCK_MIME]

    def mimeData(self, items):
        entries = [self.entry(i) for i in items if self.entry(i)]
        return palette_mime(*entries[0]) if entries else None

    def startDrag(self, actions):
        item = self.currentItem()
        if item is None or self.entry(item) is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        drag.setPixmap(item.icon(0).pixmap(QSize(32, 32), self.devicePixelRatioF()))
        drag.exec(Qt.CopyAction)


class Palette(QWidget):
    activated = Signal(str, str)  # kind ("block" | "preset"), name

    def __init__(self, dark: bool = False, parent=None):
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search blocks and presets…")
        self.search.setClearButtonEnabled(True)
        self.tree = PaletteTree()
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(self.search)
        lay.addWidget(self.tree)
        self._groups: dict[str, QTreeWidgetItem] = {}
        self._dark = dark
        self.populate()
        self.search.textChanged.connect(self.filter)
        self.tree.itemDoubleClicked.connect(self._double_clicked)

    def populate(self) -> None:
        self.tree.clear()
        for g in GROUPS:
            item = QTreeWidgetItem(self.tree, [g])
            item.setFlags(Qt.ItemIsEnabled)
            f = item.font(0)
            f.setBold(True)
            item.setFont(0, f)
            self._groups[g] = item
        for block in (b for b in all_blocks() if b.placeable):
            group = self._groups.get(block.category, self._groups["Primitives"])
            self._add(group, "block", block.name, block.title, block.help, block.name)
        try:
            from explorer.presets import list_presets
            presets = list_presets()
        except Exception:  # the palette must open even if a preset module is broken
            presets = []
        for info in presets:
            shape = "×".join(map(str, info.input_shape))
            self._add(self._groups["Presets"], "preset", info.name, info.name,
                      f"{info.description}\n{info.family} · input {shape}", info.icon_block,
                      extra=info.family)
        for g in ("Primitives", "Residual blocks"):
            self._groups[g].setExpanded(True)

    def _add(self, group, kind, name, title, help_text, icon_type, extra=""):
        item = QTreeWidgetItem(group, [title])
        item.setIcon(0, block_icon(icon_type, self._dark))
        item.setToolTip(0, f"<b>{title}</b><br>{help_text}".replace("\n", "<br>")
                        + ("<br><i>Drag onto the canvas, or double-click to open</i>" if kind == "preset" else
                           "<br><i>Drag onto the canvas, or double-click to add</i>"))
        item.setData(0, KIND, kind)
        item.setData(0, NAME, name)
        item.setData(0, SEARCH, " ".join((name, title, help_text, extra)).lower())
        item.setFlags(Qt.ItemIsEnabled | Qt.ItemIsSelectable | Qt.ItemIsDragEnabled)
        return item

    def items(self) -> list[QTreeWidgetItem]:
        return [g.child(i) for g in self._groups.values() for i in range(g.childCount())]

    def find(self, kind: str, name: str) -> QTreeWidgetItem | None:
        return next((i for i in self.items() if self.tree.entry(i) == (kind, name)), None)

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for group in self._groups.values():
            shown = 0
            for i in range(group.childCount()):
                child = group.child(i)
                hit = all(w in child.data(0, SEARCH) for w in words)
                child.setHidden(not hit)
                shown += hit
            group.setHidden(shown == 0)
            if words:
                group.setExpanded(True)

    def _double_clicked(self, item, _column) -> None:
        entry = self.tree.entry(item)
        if entry:
            self.activated.emit(*entry)
