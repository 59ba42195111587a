"""Which of our primitives one traced operation is, with its parameters: the whole vocabulary of the importer.

``map_node`` answers a list of steps (usually one; ``x.mean((2, 3))`` is a global pool then a flatten), an
empty list for an operation that passes its input through unchanged (``nn.Identity``, ``.contiguous()``),
or None when nothing here expresses it exactly; the caller then makes an opaque node. A mapping only has to
be right for the layer's settings it accepts: anything unusual (a ceil-mode pool, a non-zero padding mode,
a BatchNorm without running statistics) is left unmapped rather than approximated, and the assembler checks
every mapped node's inferred shape against the traced one. Activations are read from their open table
(``ACTIVATIONS``): each kind names its module, functions and methods, so a new kind needs no edit here.
"""
from __future__ import annotations

import importlib
import math
import operator
from dataclasses import dataclass
from typing import Any, Callable

import torch
from torch import fx, nn
from torch.nn import functional as F

from explorer.blocks.primitives.activation import ACTIVATIONS, ActivationKind
from explorer.importer.errors import ImporterError


@dataclass(frozen=True)
class Step:
    type: str
    params: dict
    takes_weights: bool = False  # the block's module loads the traced submodule's state_dict


class Context:
    """What a mapping may look at: the traced modules and the measured shapes (batch first)."""

    def __init__(self, modules: dict[str, nn.Module], shapes: dict[str, tuple | None]):
        self.modules, self.shapes = modules, shapes

    def shape(self, value: Any) -> tuple | None:
        return self.shapes.get(value.name) if isinstance(value, fx.Node) else None


def tensor_inputs(n: fx.Node, ctx: Context) -> list[fx.Node]:
    """The node's tensor-valued inputs, in argument order (sizes, shapes and constants are not edges)."""
    found: list[fx.Node] = []
    fx.node.map_arg((n.args, n.kwargs), lambda a: found.append(a) if ctx.shape(a) is not None else None)
    return found


def map_node(n: fx.Node, ctx: Context) -> list[Step] | None:
    try:
        if n.op == "call_module":
            return _module(ctx.modules[n.target], n, ctx)
        if n.op == "call_function":
            return _function(n, ctx)
        if n.op == "call_method":
            return _method(n, ctx)
    except (TypeError, ValueError, IndexError, KeyError):  # arguments of a form no rule expects
        return None
    return None


# -- modules --------------------------------------------------------------------------------------------
def _square(v) -> int | None:
    v = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    return int(v[0]) if len(v) == 2 and v[0] == v[1] and isinstance(v[0], int) else None


def _conv(m: nn.Conv2d) -> list[Step] | None:
    k, s, d = _square(m.kernel_size), _square(m.stride), _square(m.dilation)
    if None in (k, s, d) or m.padding_mode != "zeros":
        return None
    if m.padding == "same":
        pad = d * (k - 1) // 2 if (d * (k - 1)) % 2 == 0 and s == 1 else None
    elif m.padding == "valid":
        pad = 0
    else:
        pad = _square(m.padding)
    if pad is None:
        return None
    return [Step("conv2d", dict(out_channels=m.out_channels, kernel_size=k, stride=s,
                                padding=-1 if pad == d * (k - 1) // 2 else pad, dilation=d, groups=m.groups,
                                bias=m.bias is not None), takes_weights=True)]


def _bn(m) -> list[Step] | None:
    if not (m.affine and m.track_running_stats and m.momentum is not None):
        return None
    return [Step("batchnorm", dict(momentum=float(m.momentum), eps=float(m.eps)), takes_weights=True)]


def _pool(kind: str, k, s, pad, ceil=False, dilation=1, count_include_pad=True, divisor=None) -> list[Step] | None:
    k, s, pad = _square(k), _square(s if s is not None and s != [] else k), _square(pad)
    if None in (k, s, pad) or ceil or _square(dilation) != 1 or not count_include_pad or divisor is not None:
        return None
    return [Step(kind, dict(kernel_size=k, stride=s, padding=pad))]


def _is_one(size) -> bool:
    return size == 1 or (isinstance(size, (tuple, list)) and tuple(size) == (1, 1))


def _activation(kind: str) -> list[Step]:
    return [Step("activation", dict(kind=kind))]


_SIMPLE_MODULES: dict[type, Callable[[Any], list[Step] | None]] = {
    nn.Identity: lambda m: [],  # before the activations' rules: a pass-through, not an identity activation
    nn.Conv2d: _conv,
    nn.BatchNorm2d: _bn,
    nn.BatchNorm1d: _bn,
    nn.MaxPool2d: lambda m: None if m.return_indices else _pool("maxpool", m.kernel_size, m.stride, m.padding,
                                                               m.ceil_mode, m.dilation),
    nn.AvgPool2d: lambda m: _pool("avgpool", m.kernel_size, m.stride, m.padding, m.ceil_mode, 1,
                                  m.count_include_pad, m.divisor_override),
    nn.AdaptiveAvgPool2d: lambda m: [Step("global_avgpool", {})] if _is_one(m.output_size) else None,
    nn.Flatten: lambda m: [Step("flatten", {})] if (m.start_dim, m.end_dim) == (1, -1) else None,
    nn.Linear: lambda m: [Step("linear", dict(out_features=m.out_features, bias=m.bias is not None),
                               takes_weights=True)],
    nn.Dropout: lambda m: [Step("dropout", dict(p=float(m.p)))],
}


def _module(m: nn.Module, n: fx.Node, ctx: Context) -> list[Step] | None:
    rule = _SIMPLE_MODULES.get(type(m)) or activation_rules()[0].get(type(m))  # exact type: a subclass may
    # change forward
    if rule is None or len(tensor_inputs(n, ctx)) != 1 or len(n.args) + len(n.kwargs) != 1:
        return None
    steps = rule(m)
    if steps and steps[0].type == "batchnorm" and isinstance(m, nn.BatchNorm1d) != (len(ctx.shape(n.args[0])) != 4):
        return None  # our BatchNorm picks 1-D or 2-D from the input's rank
    return steps


# -- functions and methods ------------------------------------------------------------------------------
def _arg(n: fx.Node, i: int, name: str, default=None):
    if len(n.args) > i:
        return n.args[i]
    return n.kwargs.get(name, default)


def _only(n: fx.Node, allowed: set[str], count: int) -> bool:
    """No arguments beyond the first ``count`` positional ones and the named ``allowed`` ones."""
    return len(n.args) <= count and set(n.kwargs) <= allowed


def _merge(kind: str):
    def rule(n: fx.Node, ctx: Context):
        if len(n.args) == 2 and not n.kwargs and all(ctx.shape(a) is not None for a in n.args):
            return [Step(kind, {})]
        return None
    return rule


def _flatten_fn(n: fx.Node, ctx: Context):
    start, end = _arg(n, 1, "start_dim", 0), _arg(n, 2, "end_dim", -1)
    return [Step("flatten", {})] if (start, end) == (1, -1) and len(ctx.shape(n.args[0])) > 2 else None


def _cat(n: fx.Node, ctx: Context):
    tensors, dim = _arg(n, 0, "tensors"), _arg(n, 1, "dim", 0)
    if not isinstance(tensors, (list, tuple)) or len(tensors) < 2 or not all(ctx.shape(t) for t in tensors):
        return None
    rank = len(ctx.shape(tensors[0]))
    return [Step("concat", {})] if dim in (1, 1 - rank) and rank >= 2 else None


def _mean(n: fx.Node, ctx: Context):
    dims, keep = _arg(n, 1, "dim"), _arg(n, 2, "keepdim", False)
    shape = ctx.shape(n.args[0])
    if shape is None or len(shape) != 4 or not isinstance(dims, (list, tuple)):
        return None
    if sorted(d % 4 for d in dims) != [2, 3] or set(n.kwargs) - {"dim", "keepdim"}:
        return None
    return [Step("global_avgpool", {})] + ([] if keep else [Step("flatten", {})])


def _pad(n: fx.Node, ctx: Context):
    pad, mode, value = _arg(n, 1, "pad"), _arg(n, 2, "mode", "constant"), _arg(n, 3, "value", None)
    shape = ctx.shape(n.args[0])
    if (shape is None or len(shape) != 4 or mode != "constant" or value not in (None, 0, 0.0)
            or not isinstance(pad, (list, tuple)) or len(pad) != 6 or tuple(pad[:5]) != (0, 0, 0, 0, 0)
            or not isinstance(pad[5], int) or pad[5] < 0):
        return None
    return [Step("zeropad_shortcut", dict(out_channels=shape[1] + pad[5], stride=1))]


def _full(s) -> bool:
    return isinstance(s, slice) and s == slice(None)


def _getitem(n: fx.Node, ctx: Context):
    """``x[:, :, ::s, ::s]`` (option A's subsampling) and ``x[:, a:b]`` (a channel slice)."""
    shape, index = ctx.shape(n.args[0]), n.args[1]
    if shape is None or len(shape) != 4 or not isinstance(index, tuple) or len(index) < 2:
        return None
    index = index + (slice(None),) * (4 - len(index))
    if len(index) != 4 or not all(isinstance(i, slice) for i in index) or not _full(index[0]):
        return None
    _, ch, h, w = index
    if _full(ch) and h.start is None and h.stop is None and h == w and isinstance(h.step, int) and h.step >= 1:
        return [Step("zeropad_shortcut", dict(out_channels=shape[1], stride=h.step))]
    if _full(h) and _full(w) and ch.step in (None, 1):
        start, stop = ch.start or 0, shape[1] if ch.stop is None else ch.stop
        if isinstance(start, int) and isinstance(stop, int) and 0 <= start < stop <= shape[1]:
            return [Step("channel_slice", dict(start=start, stop=0 if stop == shape[1] else stop))]
    return None


def _view(n: fx.Node, ctx: Context):
    """``x.view(x.size(0), -1)`` and friends: a flatten when the result is one vector per sample."""
    before, after = ctx.shape(n.args[0]), ctx.shape(n)
    if before is None or after is None or len(after) != 2 or after[0] != before[0]:
        return None
    if after[1] != math.prod(before[1:]):
        return None
    return [] if len(before) == 2 else [Step("flatten", {})]


def _adaptive(n: fx.Node, ctx: Context):
    return [Step("global_avgpool", {})] if _only(n, {"output_size"}, 2) and _is_one(_arg(n, 1, "output_size")) else None


def _pool_fn(kind: str):
    def rule(n: fx.Node, ctx: Context):
        k = _arg(n, 1, "kernel_size")
        s = _arg(n, 2, "stride", None)
        pad = _arg(n, 3, "padding", 0)
        if kind == "maxpool":
            if _arg(n, 6, "return_indices", False):
                return None
            return _pool(kind, k, s, pad, _arg(n, 5, "ceil_mode", False), _arg(n, 4, "dilation", 1))
        return _pool(kind, k, s, pad, _arg(n, 4, "ceil_mode", False), 1, _arg(n, 5, "count_include_pad", True),
                     _arg(n, 6, "divisor_override", None))
    return rule


def _dropout_fn(n: fx.Node, ctx: Context):
    p = _arg(n, 1, "p", 0.5)
    return [Step("dropout", dict(p=float(p)))] if isinstance(p, (int, float)) and not _arg(n, 3, "inplace", False) else None


_FUNCTIONS: dict[Any, Callable] = {
    operator.add: _merge("add"), torch.add: _merge("add"), operator.iadd: _merge("add"),
    operator.mul: _merge("multiply"), torch.mul: _merge("multiply"), operator.imul: _merge("multiply"),
    operator.sub: _merge("subtract"), torch.sub: _merge("subtract"),
    torch.cat: _cat, torch.concat: _cat,
    torch.flatten: _flatten_fn,
    F.adaptive_avg_pool2d: _adaptive,
    F.max_pool2d: _pool_fn("maxpool"), F.avg_pool2d: _pool_fn("avgpool"),
    F.dropout: _dropout_fn,
    F.pad: _pad,
    operator.getitem: _getitem,
    torch.mean: _mean,
}

_METHODS: dict[str, Callable] = {
    "add": _merge("add"), "add_": _merge("add"), "mul": _merge("multiply"), "sub": _merge("subtract"),
    "flatten": _flatten_fn, "view": _view, "reshape": _view, "mean": _mean,
    "contiguous": lambda n, ctx: [] if len(n.args) == 1 and not n.kwargs else None,
}


def _function(n: fx.Node, ctx: Context) -> list[Step] | None:
    try:
        rule = _FUNCTIONS.get(n.target) or activation_rules()[1].get(n.target)
    except TypeError:  # an unhashable target
        return None
    return rule(n, ctx) if rule is not None else None


def _method(n: fx.Node, ctx: Context) -> list[Step] | None:
    rule = _METHODS.get(n.target) or activation_rules()[2].get(n.target)
    if rule is None or ctx.shape(n.args[0]) is None:
        return None
    return rule(n, ctx)


# -- activations: rules derived from the open table, once per change of it ------------------------------
_derived: dict[str, Any] = {"version": None}


def activation_rules() -> tuple[dict, dict, dict]:
    """(rules by module class, by function, by method name) for every kind in ``ACTIVATIONS``."""
    if _derived["version"] != ACTIVATIONS.version:
        modules, functions, methods = {}, {}, {}
        for kind in ACTIVATIONS:
            cls = _resolve(kind, f"torch.nn.{kind.module}")
            modules[cls] = lambda m, kind=kind: _activation(kind.name) if _has_settings(m, kind) else None
            functions.update((_resolve(kind, path), _act_call(kind, cls)) for path in kind.functions)
            methods.update((name, _act_call(kind, cls)) for name in kind.methods)
        _derived.update(version=ACTIVATIONS.version, rules=(modules, functions, methods))
    return _derived["rules"]


def _resolve(kind: ActivationKind, path: str):
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError):
        raise ImporterError(f"activation '{kind.name}' names {path}, which this torch does not have; "
                            "fix its entry in the activation table") from None


def _has_settings(m: nn.Module, kind: ActivationKind) -> bool:
    return all(getattr(m, key, _MISSING) == value for key, value in kind.settings.items())


_MISSING = object()


def _act_call(kind: ActivationKind, cls: type):
    """A call ``f(x, *settings, inplace)`` with the kind's settings (one left out takes ``cls``'s default)."""
    names = (*kind.settings, "inplace")

    def rule(n: fx.Node, ctx: Context):
        given = dict(zip(names, n.args[1:]))
        if len(n.args) > 1 + len(names) or not set(n.kwargs) <= set(names) - set(given):
            return None
        given.update(n.kwargs)
        missing = [key for key in kind.settings if key not in given]
        if missing:
            defaults = cls()
            given.update((key, getattr(defaults, key, _MISSING)) for key in missing)
        return _activation(kind.name) if all(given[k] == v for k, v in kind.settings.items()) else None
    return rule
