"""Trace a module with ``torch.fx`` and run the trace once on an example batch to measure every value.

torch's own layers stay whole (they are what the mapping looks at). A submodule whose ``forward`` fx cannot
follow (data-dependent ``if``/``for``, calls into C) is kept whole too, so it becomes one opaque node
instead of failing the whole import; only a model whose top level cannot be traced is refused.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import fx, nn

from explorer.importer.errors import ImporterError

BATCH = 2  # more than one sample: BatchNorm and friends refuse a batch of one in some modes


@dataclass
class Traced:
    module: nn.Module
    graph: fx.Graph
    shapes: dict[str, tuple[int, ...] | None]  # fx node name -> full shape of a tensor result, None otherwise
    multi: set[str] = field(default_factory=set)  # nodes that returned a tuple or list of tensors
    kept_whole: list[str] = field(default_factory=list)  # submodules fx could not follow


class _Tracer(fx.Tracer):
    def __init__(self, leaves: set[int]):
        super().__init__()
        self.leaves = leaves

    def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
        return id(m) in self.leaves or super().is_leaf_module(m, qualname)


class _Measure(fx.Interpreter):
    def __init__(self, gm: fx.GraphModule, traced: Traced):
        super().__init__(gm)
        self.traced = traced

    def run_node(self, n: fx.Node):
        result = super().run_node(n)
        if isinstance(result, torch.Tensor):
            self.traced.shapes[n.name] = tuple(result.shape)
        else:
            self.traced.shapes[n.name] = None
            if isinstance(result, (tuple, list)) and result and all(isinstance(r, torch.Tensor) for r in result):
                self.traced.multi.add(n.name)
        return result


def trace(module: nn.Module, input_shape: tuple[int, ...]) -> Traced:
    """Trace ``module`` and measure it on a batch of ``input_shape`` samples (in eval mode, without
    gradients, so its weights and running statistics are left exactly as they were)."""
    leaves: set[int] = set()
    kept: list[str] = []
    try:
        graph = _Tracer(leaves).trace(module)
    except (Exception, SystemExit):  # the user's forward may call sys.exit(): a failure like any other
        _untraceable_children(module, leaves, kept)
        try:
            graph = _Tracer(leaves).trace(module)
        except (Exception, SystemExit) as e:
            raise ImporterError(f"torch.fx cannot trace {type(module).__name__}.forward ({_first_line(e)}); "
                                "the importer needs a forward without data-dependent control flow at the top "
                                "level") from None
    gm = fx.GraphModule(module, graph)
    traced = Traced(module, graph, {}, kept_whole=kept)
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    example = torch.randn(BATCH, *input_shape, device=device)
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            _Measure(gm, traced).run(example)
    except (Exception, SystemExit) as e:
        shape = "×".join(map(str, input_shape))
        raise ImporterError(f"{type(module).__name__} does not run on a {shape} input ({_first_line(e)}); "
                            "give the input shape it expects with --input-shape C,H,W") from None
    finally:
        module.train(was_training)
    return traced


def _untraceable_children(module: nn.Module, leaves: set[int], kept: list[str]) -> None:
    """Mark, innermost first, every submodule that fx cannot trace as a leaf."""
    for name, child in reversed(list(module.named_modules())):
        if not name or child.__module__.startswith("torch.nn"):
            continue
        try:
            _Tracer(leaves).trace(child)
        except (Exception, SystemExit):
            leaves.add(id(child))
            kept.append(name)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return f"{type(e).__name__}: {text[0]}" if text else type(e).__name__
