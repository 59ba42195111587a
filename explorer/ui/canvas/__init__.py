"""The node-graph canvas: a scene mirroring the graph model, its items, gestures and the view."""
from explorer.ui.canvas.scene import CanvasStyle, GraphScene
from explorer.ui.canvas.view import CanvasView

__all__ = ["CanvasStyle", "CanvasView", "GraphScene"]
