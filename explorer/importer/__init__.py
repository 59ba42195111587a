"""Bring networks in from PyTorch code and weights from elsewhere.

``import_spec("model.py:build")`` runs that code (only when a person asks: see ``RUNS_CODE_NOTICE``), traces
the module it builds with torch.fx and returns a graph of our blocks, opaque nodes where nothing maps.
``import_weights(preset, "resnet18.pth", out_dir)`` loads a torchvision or timm state_dict into the preset of
the same structure and writes a run folder. Sits above train and compile; nothing here imports Qt.
"""
from explorer.importer.errors import ImporterError
from explorer.importer.model import ImportedModel, guess_input_shape, import_module, import_spec
from explorer.importer.preset_weights import import_weights, weights_for_preset
from explorer.importer.source import RUNS_CODE_NOTICE

__all__ = ["RUNS_CODE_NOTICE", "ImportedModel", "ImporterError", "guess_input_shape", "import_module",
           "import_spec", "import_weights", "weights_for_preset"]
