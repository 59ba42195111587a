"""The drag-and-drop contract between the palette and the canvas: one mime type, one encoding.

Both sides call these functions, so a test that builds the drop from ``palette_mime`` exercises the
exact bytes a real drag carries.
"""
from __future__ import annotations

import json

from PySide6.QtCore import QMimeData

BLOCK_MIME = "application/x-residual-explorer-block"
GRAPH_MIME = "application/x-residual-explorer-graph"  # the clipboard: a graph file's JSON


def palette_mime(kind: str, name: str) -> QMimeData:
    """``kind`` is "block" (a block type to add) or "preset" (an architecture to open)."""
    data = QMimeData()
    data.setData(BLOCK_MIME, json.dumps({"kind": kind, "name": name}).encode("utf-8"))
    data.setText(name)
    return data


def read_palette_mime(data: QMimeData) -> tuple[str, str] | None:
    """(kind, name) from a drop, or None when it is not ours or is damaged."""
    if data is None or not data.hasFormat(BLOCK_MIME):
        return None
    try:
        obj = json.loads(bytes(data.data(BLOCK_MIME)).decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict) or obj.get("kind") not in ("block", "preset") or not isinstance(obj.get("name"), str):
        return None
    return obj["kind"], obj["name"]


def graph_file_urls(data: QMimeData) -> list[str]:
    """Local ``.json`` files in a drop (a graph file dragged from the file manager)."""
    if data is None or not data.hasUrls():
        return []
    return [u.toLocalFile() for u in data.urls() if u.isLocalFile() and u.toLocalFile().lower().endswith(".json")]
