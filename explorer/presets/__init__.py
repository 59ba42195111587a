"""Named architectures, built through the same graph API a person's edits use.

``build_preset(name)`` returns a fresh ``Graph``; ``input_shape`` and ``num_classes`` override the
data the architecture was published for (CIFAR: 3×32×32 and 10; ImageNet: 3×224×224 and 1000).
"""
from __future__ import annotations

from explorer.presets.catalog import PRESETS, PresetError, PresetInfo, build_preset, list_presets

__all__ = ["PRESETS", "PresetError", "PresetInfo", "build_preset", "list_presets"]
