"""A read-only look inside a composite block: the primitives it stands for, with their shapes.

The picture is the block's own expansion (the same graph the numbers and the trained module come
from), for the node's actual input shape. For a stage, a spin box steps through the repetitions
(the first has the stride, the rest do not).
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout

from explorer.blocks.base import repeats
from explorer.blocks.registry import get_block
from explorer.graph import Graph, fmt_shape
from explorer.graph.layout import layered_layout, suggest_wrap
from explorer.ui.canvas import CanvasView, GraphScene
from explorer.ui.canvas.scene import READABLE_ZOOM, layers_fit
from explorer.ui.canvas.node_item import human
from explorer.ui.live_analysis import LiveAnalysis


def inside_graph(graph: Graph, node_id: str, in_shape, index: int = 0) -> tuple[Graph, tuple]:
    """Repetition ``index`` of the node's inside, and the input shape it sees."""
    node = graph.node(node_id)
    block = get_block(node.type)
    for i, (params, shapes, _out) in enumerate(repeats(block, dict(node.params), node.repeat, [tuple(in_shape)])):
        if i == index:
            return block.expansion(params, shapes[0]).graph.copy(), tuple(shapes[0])
    raise IndexError(index)


def _default_size(widget) -> tuple[int, int]:
    """Wide enough for a basic block's ten layers on one row at a readable zoom, where the screen allows."""
    screen = widget.screen().availableGeometry() if widget.screen() is not None else None
    if screen is None or screen.width() < 200:
        return 1100, 560
    return min(1560, int(screen.width() * 0.9)), min(640, int(screen.height() * 0.8))


class InsideDialog(QDialog):
    def __init__(self, graph: Graph, node_id: str, in_shape, theme, expand_action=None, parent=None):
        super().__init__(parent)
        self.graph, self.node_id, self.in_shape, self.theme = graph, node_id, tuple(in_shape), theme
        node = graph.node(node_id)
        block = get_block(node.type)
        self.setWindowTitle(f"Inside {node_id} — {block.title}")
        self.resize(*_default_size(self))
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.rep = QSpinBox()
        self.rep.setRange(1, node.repeat)
        self.rep.setPrefix("repetition ")
        self.rep.setSuffix(f" of {node.repeat}")
        self.rep.setVisible(node.repeat > 1)
        self.rep.valueChanged.connect(lambda v: self.show_repetition(v - 1))
        top = QHBoxLayout()
        top.addWidget(self.caption, 1)
        top.addWidget(self.rep)
        self.scene = None
        self.view = None
        self.inner: Graph | None = None
        self._arranged: tuple | None = None  # (direction, wrap) the inside is laid out with
        self._lay = QVBoxLayout(self)
        self._lay.addLayout(top)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        if expand_action is not None:
            b = buttons.addButton("Expand in Place", QDialogButtonBox.ActionRole)
            b.setToolTip("replace the block on the canvas by these primitives (undoable)")
            b.clicked.connect(lambda: (self.accept(), expand_action.trigger()))
        buttons.rejected.connect(self.reject)
        self._buttons = buttons
        self.show_repetition(0)
        self._lay.addWidget(buttons)

    def _view_size(self) -> tuple[int, int]:
        if self.view is not None and self.view.viewport().width() > 50:
            return self.view.viewport().width(), self.view.viewport().height()
        return self.width() - 40, self.height() - 130  # before the view exists: the dialog less its frame

    def arrange(self) -> None:
        """Lay the inside out in bands that fit the view; the picture is the model's, only moved."""
        direction = self.graph.direction
        w, h = self._view_size()
        length, aspect = (w, w / max(h, 1)) if direction == "LR" else (h, h / max(w, 1))
        wrap = suggest_wrap(self.inner, aspect, fits=layers_fit(length, direction))
        if (direction, wrap) != self._arranged:
            self._arranged = (direction, wrap)
            layered_layout(self.inner, direction, wrap)
            if self.view is not None:
                self.show_all()

    def show_all(self) -> None:
        """Fit; when that is too far out to read (many bands), fit the bands' width and start at the top."""
        self.view.fit()
        if self.view.scale_factor >= READABLE_ZOOM:
            return
        rect = self.scene.content_rect()
        w = self.view.viewport().width()
        self.view.set_zoom(min(1.0, max(READABLE_ZOOM, w / max(rect.width() + 80, 1))))
        self.view.centerOn(rect.center().x(), rect.top() + self.view.viewport().height() / 2 / self.view.scale_factor)

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self.scene is not None:
            self.arrange()

    def show_repetition(self, index: int) -> None:
        inner, shape = inside_graph(self.graph, self.node_id, self.in_shape, index)
        self.inner = inner
        self._arranged = None
        self.arrange()
        if self.scene is not None:
            self.scene.detach()
            self._analysis.detach()
        self._analysis = LiveAnalysis(inner, self)
        scene = GraphScene(inner, None, self._analysis, self.theme, self)
        if self.view is None:
            self.view = CanvasView(scene, self)
            self._lay.insertWidget(1, self.view, 1)
        else:
            self.view.set_graph_scene(scene)
        self.scene = scene
        if self.isVisible():
            self.show_all()
        a = self._analysis.result
        node = self.graph.node(self.node_id)
        self.caption.setText(
            f"<b>{get_block(node.type).title}</b> <i>{self.node_id}</i>: {len(inner) - 2} primitives, "
            f"{human(a.total.params)} parameters, {a.total.weight_layers} weight layers; "
            f"{fmt_shape(shape)} → {fmt_shape(a.output_shape)}. Read-only: use Expand in Place to edit them.")
        self.caption.setTextFormat(Qt.RichText)

    def showEvent(self, event):
        super().showEvent(event)
        self.arrange()
        self.show_all()
