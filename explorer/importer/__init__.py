"""Bring networks in from PyTorch code and weights from elsewhere.

``import_spec("model.py:build")`` runs that code (only when a person asks: see ``RUNS_CODE_NOTICE``), traces
the module it builds with torch.fx and returns a graph of our blocks, opaque nodes where nothing maps.
``import_weights(preset, "resnet18.pth", out_dir)`` loads a torchvision or timm state_dict into the preset of
the same structure and writes a run folder. Sits above train and compile; nothing here imports Qt.

Importing this package does not import torch (the window's menu needs only the notice and the error type);
the functions load it on first use.
"""
from importlib import import_module as _load

from explorer.importer.errors import ImporterError
from explorer.importer.source import RUNS_CODE_NOTICE

_LAZY = {"ImportedModel": "model", "guess_input_shape": "model", "import_module": "model", "import_spec": "model",
         "import_weights": "preset_weights", "weights_for_preset": "preset_weights"}

__all__ = ["RUNS_CODE_NOTICE", "ImporterError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(_load(f"explorer.importer.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'explorer.importer' has no attribute {name!r}")
