"""``export --format py --names torchvision``: a torchvision ResNet preset written under torchvision's names, so
torchvision's own ``state_dict`` loads into the exported module with ``load_state_dict`` (strict).

The network's layers take torchvision's attribute names (``conv1``, ``bn1``, ``layer1`` … ``layer4``, ``fc``).
Inside a block our projection shortcut is two layers (``shortcut_conv``, ``shortcut_bn``) where torchvision has
one ``downsample`` Sequential; the exported module renames those keys as they are loaded (a documented
load_state_dict pre-hook), and the weights written beside it use torchvision's names throughout.
"""
from __future__ import annotations

from explorer.export.python_code import ExportError
from explorer.graph.model import Graph

# node id of a torchvision-style preset -> torchvision's attribute
NETWORK = {"stem_conv": "conv1", "stem_bn": "bn1", "stem_relu": "relu", "stem_pool": "maxpool", "stage1": "layer1",
           "stage2": "layer2", "stage3": "layer3", "stage4": "layer4", "pool": "avgpool", "classifier": "fc"}
# torchvision's name inside a block -> the exported block's attribute
INSIDE = {"downsample.0": "shortcut_conv", "downsample.1": "shortcut_bn"}


# what torchvision's ResNet, Bottleneck and BasicBlock hold inside a block
BLOCK_LAYERS = frozenset({"conv1", "bn1", "conv2", "bn2", "conv3", "bn3", "downsample.0", "downsample.1"})
TORCHVISION_PRESETS = "resnet18 … resnet152, resnext50_32x4d, wide_resnet50_2"


def fits(graph: Graph) -> bool:
    """Whether the graph is torchvision's ResNet, layer for layer (see ``check``)."""
    try:
        check(graph)
    except ExportError:
        return False
    return True


def check(graph: Graph) -> None:
    """Refuse a graph that is not torchvision's ResNet layer for layer: its network nodes, and in each block only
    the layers torchvision's blocks have (an SE block or a DPN path has no torchvision name)."""
    missing = [nid for nid in NETWORK if nid not in graph]
    if missing:
        raise ExportError(f"--names torchvision needs a network laid out as torchvision's ResNet (nodes "
                          f"{', '.join(NETWORK)}); {graph.name or 'this network'} has no {', '.join(missing)}: "
                          f"use one of torchvision's networks ({TORCHVISION_PRESETS})")
    for key in _exported_keys(graph):
        top, _, rest = key.partition(".")
        inner = rest.split(".", 1)[1].rsplit(".", 1)[0] if top.startswith("layer") and "." in rest else None
        if top not in NETWORK.values() or (inner is not None and inner not in BLOCK_LAYERS):
            name = graph.name or "this network"
            raise ExportError(f"--names torchvision: torchvision's ResNet has no '{key}' ({name} is not one of "
                              f"torchvision's networks: {TORCHVISION_PRESETS})")


def _exported_keys(graph: Graph) -> list[str]:
    """The state_dict keys of the exported module under torchvision's names (built on the meta device: no memory)."""
    import torch

    from explorer.compile import CompileError, compile_graph
    from explorer.export.python_code import Naming, python_module

    module = python_module(graph, naming=Naming(NETWORK))
    try:
        with torch.device("meta"):
            compiled = compile_graph(graph)
    except CompileError as e:
        raise ExportError(f"the graph is not valid: {e}") from None
    return [torchvision_key(module.module_key(k)) for k in compiled.state_dict()]


def torchvision_key(module_key: str) -> str:
    """An exported module's key (its network attributes already torchvision's) as torchvision names it."""
    for theirs, ours in INSIDE.items():
        module_key = module_key.replace(f".{ours}.", f".{theirs}.")
    return module_key


HOOK_INIT = "        self.register_load_state_dict_pre_hook(accept_torchvision_keys)  # torchvision's state_dict loads"


def hook_source() -> str:
    """The code the exported file carries: the key map and the pre-hook that applies it."""
    return f'''# torchvision's names inside a block -> this module's; the network's own attributes are torchvision's already
TORCHVISION_INSIDE = {INSIDE!r}


def from_torchvision_key(key):
    """A torchvision ResNet's state_dict key as this module names it."""
    for theirs, ours in TORCHVISION_INSIDE.items():
        key = key.replace(f".{{theirs}}.", f".{{ours}}.")
    return key


def accept_torchvision_keys(module, state_dict, prefix, *args):
    """load_state_dict pre-hook: torchvision's own state_dict (``downsample.0`` …) loads as it is, strictly."""
    for key in [k for k in state_dict if k.startswith(prefix)]:
        ours = from_torchvision_key(key)
        if ours != key:
            state_dict[ours] = state_dict.pop(key)
'''
