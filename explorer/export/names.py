"""Python names for what a graph names: layer attributes, forward variables and the network's class.

Node ids are already identifiers (the graph refuses others), but a few would break the module they land
in: ``forward`` or ``training`` as an attribute, ``torch`` or ``x`` as a variable. Those get a trailing
``_``; the exported file records every such rename so the compiled weights still map onto it.
"""
from __future__ import annotations

import builtins
import keyword
import re

# nn.Module's own attributes: a layer stored under one of these names would replace a method or a flag.
_MODULE_ATTRIBUTES = frozenset({
    "training", "forward", "state_dict", "load_state_dict", "parameters", "named_parameters", "buffers",
    "named_buffers", "children", "named_children", "modules", "named_modules", "train", "eval", "to", "cuda", "cpu",
    "type", "float", "double", "half", "bfloat16", "apply", "zero_grad", "register_buffer", "register_parameter",
    "add_module", "register_module", "get_submodule", "get_parameter", "get_buffer", "extra_repr", "requires_grad_",
    "share_memory", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook",
    "register_backward_hook", "dump_patches", "call_super_init", "compile", "ipu", "xpu", "mtia", "to_empty",
    "set_extra_state", "get_extra_state", "T_destination",
})
# Names the generated forward reads besides its own variables.
_FORWARD_GLOBALS = frozenset({"self", "x", "torch", "nn", "F"})


def attribute_name(node_id: str) -> str:
    """The attribute a node's layer is stored under (the node id, unless that would clash)."""
    if keyword.iskeyword(node_id) or node_id.startswith("_") or node_id in _MODULE_ATTRIBUTES:
        return node_id + "_"
    return node_id


def variable_name(node_id: str, taken: set[str]) -> str:
    """A forward variable for a node's value, unique among ``taken`` and clear of globals and builtins."""
    name = node_id
    while (keyword.iskeyword(name) or name in _FORWARD_GLOBALS or name in taken or hasattr(builtins, name)):
        name += "_"
    return name


def class_name(text: str, taken: set[str]) -> str:
    """``resnet20`` -> ``Resnet20``, ``my net`` -> ``MyNet``; ``Network`` when nothing usable is left."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Network"
    if name[0].isdigit():
        name = "Net" + name
    while name in taken or keyword.iskeyword(name) or hasattr(builtins, name):
        name += "Net"
    return name
