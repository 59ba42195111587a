"""How much memory training a network needs, estimated from the cost model before anything is allocated.

Training holds four things: the parameters, their gradients, the optimiser's state (SGD momentum: one
buffer per parameter; Adam: two) and the activations that backward needs, which grow with the batch.
``analyze`` already knows every node's parameter count, output shape and number of weight layers, so the
estimate is a sum over nodes, exact for the first three and a reasoned approximation for the fourth
(float32 throughout; mixed precision only lowers it). ``check_fits`` turns it into the one sentence that
``validate`` warns with and ``train`` refuses with, before a 60 GB allocation can take the machine down.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass

from explorer.graph.model import Graph, GraphError
from explorer.graph.params import ParamError
from explorer.network.adapt import adapt_to_data
from explorer.network.inference import Analysis, analyze

BYTES_PER_VALUE = 4          # float32
DEFAULT_BATCH_SIZE = 64      # the train command's default (explorer.train.config), without importing torch
# Optimiser buffers per parameter. SGD without momentum keeps none, but momentum is the default.
OPTIMIZER_SLOTS = {"sgd": 1, "adam": 2, "adamw": 2}
# A node with several weight layers is a residual block: each conv keeps its own output, its batch norm's
# and its activation's for backward. A single layer or a weightless op keeps its output only.
TENSORS_PER_WEIGHT_LAYER = 3
# Backward frees activations as it goes but also allocates gradients of them; allow that on top.
WORKSPACE = 1.2


@dataclass(frozen=True)
class MemoryEstimate:
    batch_size: int
    optimizer: str
    parameters: int    # bytes, as are the rest
    gradients: int
    optimizer_state: int
    activations: int
    per_sample: int    # activation bytes of one sample

    @property
    def fixed(self) -> int:
        """What does not depend on the batch size."""
        return self.parameters + self.gradients + self.optimizer_state

    @property
    def total(self) -> int:
        return self.fixed + self.activations

    def describe(self) -> str:
        opt = {"sgd": "SGD momentum", "adam": "Adam state", "adamw": "AdamW state"}.get(self.optimizer, "optimiser")
        return (f"about {human_bytes(self.total)} at batch size {self.batch_size} (parameters "
                f"{human_bytes(self.parameters)}, gradients {human_bytes(self.gradients)}, {opt} "
                f"{human_bytes(self.optimizer_state)}, activations {human_bytes(self.activations)})")


def estimate(analysis: Analysis, batch_size: int = DEFAULT_BATCH_SIZE, optimizer: str = "sgd") -> MemoryEstimate:
    """Bytes to train the analysed network at ``batch_size`` with ``optimizer`` (sgd, adam, adamw)."""
    weights = analysis.total.params * BYTES_PER_VALUE
    per_sample = 0
    if analysis.input_shape is not None:
        per_sample += math.prod(analysis.input_shape)
    for info in analysis.nodes.values():
        if info.out_shape is None:
            continue
        layers = info.cost.weight_layers
        tensors = TENSORS_PER_WEIGHT_LAYER * layers if layers > 1 else 1
        per_sample += math.prod(info.out_shape) * tensors
    per_sample = int(per_sample * BYTES_PER_VALUE * WORKSPACE)
    return MemoryEstimate(batch_size, optimizer, weights, weights, weights * OPTIMIZER_SLOTS.get(optimizer, 2),
                          per_sample * batch_size, per_sample)


def check_fits(analysis: Analysis, batch_size: int, optimizer: str, device_bytes: int) -> str | None:
    """None when training fits in ``device_bytes``, else one sentence with the estimate and what to change."""
    est = estimate(analysis, batch_size, optimizer)
    if est.total <= device_bytes:
        return None
    text = f"training this network needs {est.describe()}, more than the {human_bytes(device_bytes)} available"
    room = device_bytes - est.fixed
    if room >= est.per_sample > 0:
        fits = room // est.per_sample
        text += f"; use --batch-size {fits} or less, or make the network smaller"
    else:
        text += ("; the weights alone do not fit at any batch size: make the network smaller "
                 "(fewer or narrower channels, fewer blocks or a smaller repeat count, a smaller input)")
        if optimizer != "sgd":
            text += ", or use --optimizer sgd (one buffer per parameter instead of two)"
    return text


def training_problem(graph: Graph, input_shape, num_classes: int, batch_size: int, optimizer: str,
                     device: str | None) -> str | None:
    """``check_fits`` for ``graph`` as training will build it: fitted to the data's input shape and classes
    first (a preset for 224×224 images trained on 8×8 digits is far smaller than its file says). None also
    when the graph is invalid: training reports that with its own message."""
    a = analyze(graph)
    if not a.valid:
        return None
    if tuple(a.input_shape) != tuple(input_shape) or tuple(a.output_shape) != (num_classes,):
        try:
            fitted = analyze(adapt_to_data(graph, input_shape, num_classes)[0])
        except (GraphError, ParamError, ValueError):
            fitted = a
        a = fitted if fitted.valid else a
    return check_fits(a, batch_size, optimizer, device_bytes(device))


def machine_bytes() -> int:
    """Total RAM of this machine (POSIX sysconf; where it cannot tell, assume 16 GiB)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return 16 * 2**30


def device_bytes(device: str | None) -> int:
    """Memory of the device a run will use: a CUDA device's own, otherwise (CPU, Apple's unified
    memory, no CUDA) the machine's RAM. Imports torch only when CUDA may be meant."""
    name = (device or "auto").lower()
    if name == "auto" or name.startswith("cuda"):
        import torch

        if torch.cuda.is_available():
            try:
                index = int(name.split(":", 1)[1]) if ":" in name else 0
                return int(torch.cuda.get_device_properties(index).total_memory)
            except (ValueError, RuntimeError, AssertionError):
                pass  # a bad index is the device check's to report, with its own message
    return machine_bytes()


def human_bytes(n: int) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:,.1f} {unit}"
    return f"{n} bytes"
