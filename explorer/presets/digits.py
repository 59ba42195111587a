"""Presets for the built-in digits data (1×8×8, 10 classes): what the window opens on, under a name a
person can find again in the palette and in File ▸ Open Preset."""
from __future__ import annotations

from explorer.presets import cifar  # noqa: F401  (registers resnet20, whose build this shares)
from explorer.presets.catalog import PRESETS, preset

DIGITS = ((1, 8, 8), 10)

preset("resnet20_digits", "ResNet", "ResNet-20 on the built-in digits (1×8×8, 10 classes): the startup network; "
       "3 basic blocks per stage, zero-pad shortcuts", data=DIGITS)(PRESETS["resnet20"].build)
