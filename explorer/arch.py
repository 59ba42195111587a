"""Resolve what a user names as an architecture: a preset name or a graph file (.json).

Shared by the command line and the window so that ``ARCH`` means the same thing everywhere.
"""
from __future__ import annotations

from pathlib import Path

from explorer.graph.fileio import FileFormatError, load_graph
from explorer.graph.model import Graph
from explorer.graph.shapes import ShapeError
from explorer.presets import PresetError, build_preset

# The network the window opens on; `train`, `compare` and `bench` use it too when ARCH is left out.
DEFAULT_ARCH = "resnet20_digits"


class ArchError(ValueError):
    """The name is neither a preset nor a readable graph file."""


def parse_shape(text: str) -> tuple[int, ...]:
    """``"3,32,32"`` -> ``(3, 32, 32)``; also accepts ``x`` or ``×`` as separators."""
    parts = text.replace("×", ",").replace("x", ",").split(",")
    try:
        shape = tuple(int(p) for p in parts if p.strip())
    except ValueError:
        raise ArchError(f"input shape '{text}' must be whole numbers like 3,32,32") from None
    if not 1 <= len(shape) <= 3 or any(s < 1 for s in shape):
        raise ArchError(f"input shape '{text}' must be 1 to 3 positive numbers like 3,32,32")
    return shape


def load_arch(arch: str, num_classes: int | None = None, input_shape: tuple[int, ...] | None = None) -> Graph:
    if num_classes is not None and num_classes < 1:
        raise ArchError("--num-classes must be at least 1")
    looks_like_file = arch.endswith(".json") or "/" in arch or Path(arch).is_file()
    if not looks_like_file:
        try:
            return build_preset(arch, num_classes=num_classes, input_shape=input_shape)
        except PresetError as e:
            if Path(arch).is_dir():  # a run folder (`train --out`) is no preset: its network is its graph.json
                hint = f"name its graph, {Path(arch) / 'graph.json'}" if (Path(arch) / "graph.json").is_file() \
                    else "name a preset or a graph .json file"
                raise ArchError(f"{arch} is a folder, not a preset or graph file; {hint}") from None
            raise ArchError(str(e)) from None
        except ShapeError:
            # The preset cannot be built for this input. Adapt the published one as a file would be, so
            # the caller's validation names the node that refuses the shape, with its fix.
            graph = build_preset(arch)
    else:
        try:
            graph = load_graph(arch)
        except FileFormatError as e:
            raise ArchError(str(e)) from None
    if num_classes is not None or input_shape is not None:
        from explorer.network.adapt import adapt_to_data
        from explorer.network.inference import analyze

        a = analyze(graph)
        graph, _ = adapt_to_data(graph, input_shape or a.input_shape, num_classes or (a.output_shape or (0,))[0])
    return graph
