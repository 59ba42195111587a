"""Helpers for fp64 equivalence tests: random weights and BN statistics, and the exported module's output."""
from __future__ import annotations

import importlib.util
import zlib

import torch


def randomise(module: torch.nn.Module) -> torch.nn.Module:
    """Every float tensor of the state set from its name (so two modules that name tensors alike agree),
    BN running variances positive; in fp64, eval mode."""
    module.double().eval()
    with torch.no_grad():
        for key, t in module.state_dict().items():
            if not t.is_floating_point():
                continue
            r = torch.randn(t.shape, generator=torch.Generator().manual_seed(zlib.crc32(key.encode())),
                            dtype=t.dtype)
            if key.endswith("running_var"):
                t.copy_(1 + 0.2 * r.abs())
            elif t.dim() >= 2:
                t.copy_(r * (2.0 / max(1, t[0].numel())) ** 0.5)
            else:
                t.copy_(0.2 * r + (1.0 if key.endswith("weight") else 0.0))
    return module


def exported_output(graph, compiled: torch.nn.Module, x: torch.Tensor, folder) -> torch.Tensor:
    """The output on ``x`` of ``graph`` exported as Python (``export --format py``) holding ``compiled``'s
    weights under the exported names."""
    from explorer.export import python_module

    module = python_module(graph)
    path = folder / f"exported_{zlib.crc32(module.source.encode())}.py"
    path.write_text(module.source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    model = mod.build().double().eval()
    model.load_state_dict({module.module_key(k): v for k, v in compiled.state_dict().items()})
    with torch.no_grad():
        return model(x)
