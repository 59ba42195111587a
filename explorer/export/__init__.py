"""Take a network elsewhere: a standalone PyTorch module, TorchScript or ONNX (``python main.py export``)."""
from explorer.export.python_code import ExportError, PythonModule, python_module

__all__ = ["ExportError", "PythonModule", "python_module"]
