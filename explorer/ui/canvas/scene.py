"""The canvas scene: a mirror of the graph model, kept in step by the model's events.

It holds a node→item and an (src, dst)→item map and never edits the model itself; gestures on it
become undo commands (``interactions``). Each event touches only its own items, so an edit of a few
nodes (also an expand or collapse, and their undo) leaves every other item the same object; only a
``reset`` (open a file, expand everything) rebuilds them all. Analysis results (shapes, costs,
problems) arrive from ``LiveAnalysis`` and are pushed to the items, which repaint only what changed.

``nodeSelected(str)`` names the current node (the inspector, and later the training plots, follow it);
``select_node(id)`` is the way in.
"""
from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QTransform
from PySide6.QtWidgets import QGraphicsScene

from explorer.graph import Edge, Graph, fmt_shape
from explorer.graph.layout import COLUMN, TB_ALONG
from explorer.ui.canvas.edge_item import EdgeItem
from explorer.ui.canvas.interactions import DropInteraction, MoveInteraction, NewLinkInteraction
from explorer.ui.canvas.node_item import FULL_DETAIL, NODE_H, NODE_W, NodeItem
from explorer.ui.mime import graph_file_urls, read_palette_mime
from explorer.ui.theme import LIGHT, Theme

MARGIN = 3000.0  # room to pan past the content; keeps the scene larger than the view
READABLE_ZOOM = FULL_DETAIL  # nodes still show their parameter line; further out auto-layout wraps into bands


def layers_fit(length: float, direction: str = "LR", zoom: float = READABLE_ZOOM) -> int:
    """How many layers a view ``length`` pixels long (wide for LR, tall for TB) shows at ``zoom``,
    with the margins ``content_rect`` and a fit add around the nodes."""
    step, ends = (COLUMN, NODE_W + 160) if direction == "LR" else (COLUMN * TB_ALONG, NODE_H + 360)
    return max(1, int((length / zoom - ends) // step) + 1)


@dataclass
class CanvasStyle:
    """What every item draws with; shared by reference so a theme switch reaches all items at once."""
    theme: Theme
    direction: str = "LR"


class GraphScene(QGraphicsScene):
    nodeSelected = Signal(str)          # current node id, "" when nothing is selected
    selectionIdsChanged = Signal(list)  # all selected node ids
    message = Signal(str)               # why a gesture did nothing, or what it did
    openInsideRequested = Signal(str)   # double-click on a composite block
    presetDropped = Signal(str)
    fileDropped = Signal(str)
    contentChanged = Signal()           # items added/removed/moved: the overview redraws

    def __init__(self, graph: Graph, stack=None, analysis=None, theme: Theme | None = None, parent=None):
        super().__init__(parent)
        self.graph = graph
        self.stack = stack                  # None: a read-only picture (the inside of a block)
        self.analysis = analysis
        self.style = CanvasStyle(theme or LIGHT)
        self.nodes: dict[str, NodeItem] = {}
        self.edges: dict[tuple[str, str], EdgeItem] = {}
        self.overview = False               # items transparent; the view paints a cheap overview
        self._interaction = None
        self._move: MoveInteraction | None = None
        self._current = ""
        self._selected: list[str] = []
        self._frozen: set[str] = set()      # nodes drawn with a lock (the training settings' frozen set)
        self.node_menu_entries: list = []   # callables (node_id, parent) -> QAction | None: other panels'
                                            # entries in a node's context menu (freeze for training)
        self._rect_timer = QTimer(self)
        self._rect_timer.setSingleShot(True)
        self._rect_timer.setInterval(0)
        self._rect_timer.timeout.connect(self.update_scene_rect)
        self.setItemIndexMethod(QGraphicsScene.BspTreeIndex)
        self.selectionChanged.connect(self._selection_changed)
        graph.subscribe(self._on_event)
        if analysis is not None:
            analysis.updated.connect(self.apply_analysis)
        self.rebuild()

    @property
    def editable(self) -> bool:
        return self.stack is not None

    def detach(self) -> None:
        self.graph.unsubscribe(self._on_event)
        if self.analysis is not None:
            try:
                self.analysis.updated.disconnect(self.apply_analysis)
            except (RuntimeError, TypeError):
                pass

    # -- model -> items -------------------------------------------------------------------------
    def rebuild(self) -> None:
        self.style.direction = self.graph.direction  # before the items: they place their ports by it
        self.blockSignals(True)  # one selection signal for the whole rebuild, not one per item
        try:
            # (The BSP index stays on: switching it off to add faster leaves Qt querying every item
            # on every frame afterwards, measured at 4000 bounding-rect calls per frame.)
            for item in self.edges.values():
                self.removeItem(item)
            for item in self.nodes.values():
                self._drop_node_item(item)
            self.nodes.clear()
            self.edges.clear()
            for node in self.graph.nodes.values():
                self._add_node(node.id)
            for edge in self.graph.edges:
                self._add_edge(edge)
        finally:
            self.blockSignals(False)
        if self.analysis is not None:
            # one pass: refresh() emits ``updated``, which lands in apply_analysis
            self.analysis.refresh()
        self.update_scene_rect(fresh=True)
        self.selectionChanged.emit()
        self.contentChanged.emit()

    def _add_node(self, nid: str) -> NodeItem:
        item = NodeItem(self.graph.node(nid), self.style, editable=self.editable)
        item.set_frozen(nid in self._frozen)
        if self.overview:
            item.setOpacity(0.0)
        self.addItem(item)
        self.nodes[nid] = item
        return item

    def _drop_node_item(self, item: NodeItem) -> None:
        self.removeItem(item)
        item.edges = []  # break node <-> edge/port cycles: freed now, not by gc
        item.in_port = item.out_port = None

    def _add_edge(self, edge: Edge) -> None:
        src, dst = self.nodes[edge.src], self.nodes[edge.dst]
        item = EdgeItem(edge, src, dst, self.style)
        if self.overview:
            item.setOpacity(0.0)
        self.addItem(item)
        src.edges.append(item)
        dst.edges.append(item)
        if src.isSelected() or dst.isSelected():
            item.set_highlight(True)
        self.edges[(edge.src, edge.dst)] = item
        last = self.analysis.last if self.analysis is not None else None
        if last is not None:
            info = last.nodes.get(edge.src)
            item.set_label(fmt_shape(info.out_shape) if info is not None and info.out_shape is not None else "")

    def _on_event(self, ev) -> None:
        k = ev.kind
        if k == "reset":
            self.rebuild()
            return
        if k == "node_added":
            self._add_node(ev.node_id)
        elif k == "node_removed":
            item = self.nodes.pop(ev.node_id, None)
            if item is not None:  # its edges went first, each with an event of its own
                self._drop_node_item(item)
        elif k == "edge_added":
            self._add_edge(ev.edge)
        elif k == "edge_removed":
            item = self.edges.pop((ev.edge.src, ev.edge.dst), None)
            if item is not None:
                for end in (item.src_item, item.dst_item):
                    if item in end.edges:
                        end.edges.remove(item)
                self.removeItem(item)
        elif k == "direction_changed":
            self.set_direction(ev.new)
            return
        elif k in ("param_changed", "repeat_changed"):
            self.nodes[ev.node_id].set_node(self.graph.node(ev.node_id))
            self.contentChanged.emit()
            return
        elif k == "node_moved":
            item = self.nodes[ev.node_id]
            if (item.pos().x(), item.pos().y()) != tuple(ev.new):  # the drag already put it there
                item.setPos(QPointF(*ev.new))
                for e in item.edges:
                    e.update_path()
            # Edges of other nodes that run where it now stands go over it (or back, once it moved away).
            for e in self._edges_near(item.sceneBoundingRect(), ev.old):
                e.update_path(moved=(item,))
        self._rect_timer.start()
        self.contentChanged.emit()

    def _edges_near(self, rect: QRectF, old) -> set:
        near = set(self.items(rect))
        if old is not None:   # an edge that arced over it there (its bounds, since the arc itself is above)
            near |= set(self.items(rect.translated(QPointF(*old) - rect.center()),
                                   Qt.ItemSelectionMode.IntersectsItemBoundingRect))
        return {e for e in near if isinstance(e, EdgeItem)}

    def apply_analysis(self, analysis) -> None:
        infos = analysis.nodes
        for nid, item in self.nodes.items():
            item.set_info(infos.get(nid))
        for (src, _), item in self.edges.items():
            info = infos.get(src)
            item.set_label(fmt_shape(info.out_shape) if info is not None and info.out_shape is not None else "")
        self.contentChanged.emit()

    def node_geometry_changed(self) -> None:
        self.contentChanged.emit()

    def update_scene_rect(self, fresh: bool = False) -> None:
        """Content plus a margin to pan into. Between rebuilds it only grows: a scene rect that changes
        under the view makes the picture jump; and views keep their centre when it does change."""
        r = self.content_rect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
        if not fresh:
            r = r.united(self.sceneRect())
        views = [(v, v.mapToScene(v.viewport().rect().center())) for v in self.views()]
        if r == self.sceneRect():
            return
        self.setSceneRect(r)
        for view, centre in views:
            view.centerOn(centre)

    def content_rect(self) -> QRectF:
        """The nodes' extent (without the panning margin), from their positions: asking 10k items for
        their bounds is a Python call each."""
        if not self.nodes:
            return QRectF(-200, -100, 400, 200)
        xs = [p.x() for p in (i.pos() for i in self.nodes.values())]
        ys = [p.y() for p in (i.pos() for i in self.nodes.values())]
        # half a node each side, and room above the top row for skip arcs and their labels
        return QRectF(min(xs) - NODE_W / 2 - 60, min(ys) - NODE_H / 2 - 190,
                      max(xs) - min(xs) + NODE_W + 80, max(ys) - min(ys) + NODE_H + 200)

    # -- style ----------------------------------------------------------------------------------
    def set_theme(self, theme: Theme) -> None:
        self.style.theme = theme
        for item in self.nodes.values():
            item.update()
        for e in self.edges.values():
            e.apply_theme()
        self.setBackgroundBrush(theme.canvas)
        self.contentChanged.emit()

    def set_direction(self, direction: str) -> None:
        if direction == self.style.direction:
            return
        self.style.direction = direction
        for item in self.nodes.values():
            item.place_ports()
        for e in self.edges.values():
            e.update_path()
        self.contentChanged.emit()

    def set_overview(self, overview: bool) -> None:
        """Far out, items turn transparent and the view paints one cheap overview instead.
        Transparent rather than hidden: hidden items would lose their selection."""
        if overview != self.overview:
            self.overview = overview
            alpha = 0.0 if overview else 1.0
            for item in self.nodes.values():
                item.setOpacity(alpha)
            for e in self.edges.values():
                e.setOpacity(alpha)

    # -- selection ------------------------------------------------------------------------------
    def set_frozen(self, node_ids) -> None:
        """Draw these nodes with a lock (kept fixed while training); the others without."""
        self._frozen = set(node_ids)
        for nid, item in self.nodes.items():
            item.set_frozen(nid in self._frozen)

    def node_menu_actions(self, node_id: str, parent) -> list:
        """The actions other panels add to ``node_id``'s context menu."""
        return [a for a in (entry(node_id, parent) for entry in self.node_menu_entries) if a is not None]

    def selected_node_ids(self) -> list[str]:
        return [i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, EdgeItem)]

    def select_node(self, node_id: str, add: bool = False) -> None:
        item = self.nodes.get(node_id)
        if item is None:
            return
        if not add:
            self.clearSelection()
        item.setSelected(True)

    def select_nodes(self, node_ids) -> None:
        self.blockSignals(True)
        try:
            self.clearSelection()
            for nid in node_ids:
                if nid in self.nodes:
                    self.nodes[nid].setSelected(True)
        finally:
            self.blockSignals(False)
        self.selectionChanged.emit()  # once, for everyone listening

    def _selection_changed(self) -> None:
        ids = self.selected_node_ids()
        if ids != self._selected:
            touched = set(ids).symmetric_difference(self._selected)
            for nid in touched:  # edges of newly (de)selected nodes light up / go back
                item = self.nodes.get(nid)
                for e in item.edges if item is not None else ():
                    e.set_highlight(e.src_item.isSelected() or e.dst_item.isSelected())
            self._selected = ids
            self.selectionIdsChanged.emit(ids)
            self.contentChanged.emit()
        current = self._current if self._current in ids else (ids[0] if ids else "")
        if current != self._current:
            self._current = current
            self.nodeSelected.emit(current)

    @property
    def current_node(self) -> str:
        return self._current

    # -- gestures -------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if self.editable and event.button() == Qt.LeftButton:
            port = next((i.port_at(event.scenePos()) for i in self.items(event.scenePos())
                         if isinstance(i, NodeItem) and i.port_at(event.scenePos()) is not None), None)
            if port is not None:
                self._interaction = NewLinkInteraction(self, port)
                event.accept()
                return
        super().mousePressEvent(event)
        if self.editable and event.button() == Qt.LeftButton:
            if isinstance(self.itemAt(event.scenePos(), QTransform()), NodeItem):
                self._move = MoveInteraction(self)

    def mouseMoveEvent(self, event):
        if self._interaction is not None:
            self._interaction.move(event.scenePos())
            event.accept()
            return
        super().mouseMoveEvent(event)
        if self._move is not None:  # Qt moved the selected nodes: their edges follow
            for nid in self._move.before:
                item = self.nodes.get(nid)
                if item is not None:
                    for e in item.edges:
                        e.update_path()
            self.contentChanged.emit()

    def mouseReleaseEvent(self, event):
        if self._interaction is not None:
            interaction, self._interaction = self._interaction, None
            interaction.release(event.scenePos())
            event.accept()
            return
        super().mouseReleaseEvent(event)
        if self._move is not None:
            move, self._move = self._move, None
            move.finish()

    def mouseDoubleClickEvent(self, event):
        item = self.itemAt(event.scenePos(), QTransform())
        if isinstance(item, NodeItem) and item.node_id in self.graph and getattr(item, "_composite", False):
            self.openInsideRequested.emit(item.node_id)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    # -- drops ------------------------------------------------------------------------------------
    def _accepts(self, mime) -> bool:
        return self.editable and (read_palette_mime(mime) is not None or bool(graph_file_urls(mime)))

    def dragEnterEvent(self, event):
        event.setAccepted(self._accepts(event.mimeData()))
        if event.isAccepted():
            event.acceptProposedAction()

    def dragMoveEvent(self, event):
        self.dragEnterEvent(event)

    def dropEvent(self, event):
        mime = event.mimeData()
        what = read_palette_mime(mime)
        if what is not None and self.editable:
            event.acceptProposedAction()
            DropInteraction.drop(self, what[0], what[1], event.scenePos())
            return
        files = graph_file_urls(mime)
        if files and self.editable:
            event.acceptProposedAction()
            self.fileDropped.emit(files[0])
            return
        event.ignore()
