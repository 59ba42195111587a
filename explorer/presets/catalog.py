"""The preset registry: name -> (family, description, default data shape, build function)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from explorer.blocks.builder import Builder
from explorer.graph.model import Graph

CIFAR = ((3, 32, 32), 10)
IMAGENET = ((3, 224, 224), 1000)


class PresetError(KeyError):
    def __init__(self, name: str):
        super().__init__(name)
        self.name = name

    def __str__(self) -> str:
        import difflib
        close = difflib.get_close_matches(self.name, PRESETS, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else "; `python main.py presets` lists them"
        return f"unknown preset '{self.name}'{hint}"


@dataclass(frozen=True)
class PresetInfo:
    name: str
    family: str
    description: str
    input_shape: tuple[int, int, int]
    num_classes: int
    build: Callable[[Builder, str, int], str]  # (builder, input handle, classes) -> last handle before Output

    @property
    def icon_block(self) -> str:
        """The block type whose icon stands for this preset's family."""
        return FAMILY_ICON_BLOCK.get(self.family, "basic")


FAMILY_ICON_BLOCK = {
    "ResNet": "basic", "Plain": "plain", "Highway": "highway", "Weighted residual": "weighted",
    "Squeeze-excitation": "basic", "Pre-activation": "preact", "Wide ResNet": "wide", "ResNeXt": "resnext",
    "DenseNet": "dense", "Dual path": "dual_path", "Fixup": "basic",
}

PRESETS: dict[str, PresetInfo] = {}


def preset(name: str, family: str, description: str, data=CIFAR):
    def deco(fn):
        if name in PRESETS:
            raise ValueError(f"preset '{name}' defined twice")
        PRESETS[name] = PresetInfo(name, family, description, data[0], data[1], fn)
        return fn
    return deco


def list_presets() -> list[PresetInfo]:
    _load()
    return list(PRESETS.values())


def build_preset(name: str, num_classes: int | None = None, input_shape: tuple[int, ...] | None = None) -> Graph:
    _load()
    info = PRESETS.get(name)
    if info is None:
        raise PresetError(name)
    b = Builder(name=name)
    x = b.input(list(input_shape or info.input_shape))
    b.output(info.build(b, x, num_classes or info.num_classes))
    return b.finish().graph


def _load() -> None:
    from explorer.presets import cifar, digits, imagenet  # noqa: F401  (registers on import)
