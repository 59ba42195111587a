"""Compiled parameter names -> the exported module's names. The function's source is also written into
every exported ``.py``, so the file and the exporter map weights by the same rule."""
from __future__ import annotations


def module_key(key, renamed):
    """``nodes.stage1.0.nodes.conv1.weight`` -> ``stage1.0.conv1.weight``: the compiled network keeps each
    graph's layers in a ``nodes`` dict (a stage's repetitions numbered); ``renamed`` maps node ids that
    had to change."""
    parts, out, i = key.split("."), [], 0
    while i + 1 < len(parts) and parts[i] == "nodes":
        out.append(renamed.get(parts[i + 1], parts[i + 1]))
        i += 2
        if i < len(parts) and parts[i].isdigit():
            out.append(parts[i])
            i += 1
    return ".".join(out + parts[i:])
