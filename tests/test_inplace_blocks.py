"""Composite blocks compiled with in-place ReLUs and sums compute exactly what they compute without."""
import pytest
import torch
from torch import nn

from explorer.blocks import ops
from explorer.blocks.builder import Builder
from explorer.blocks.registry import all_blocks
from explorer.compile import compile_graph, layer_units

CASES = [(b.name, {}) for b in sorted(all_blocks(), key=lambda b: b.name) if b.composite]
CASES.append(("basic", {"se_reduction": 4, "stride": 2, "channels": 12, "shortcut": "zero_pad"}))


def _net(block: str, **params):
    b = Builder(block)
    x = b.input([8, 6, 6])
    y = b.add(block, x, node_id="block", **params)
    y = b.add("global_avgpool", y, node_id="pool")
    b.output(b.add("linear", b.add("flatten", y, node_id="flatten"), node_id="classifier", out_features=3))
    return b.finish().graph


def _out_of_place(model):
    for m in model.modules():
        if isinstance(m, (nn.ReLU, ops.Add)):
            m.inplace = False
    return model


def _run(model, x, hooked):
    grads = {}

    def on_forward(module, inputs, out, key):
        out.register_hook(lambda g: grads.__setitem__(key, g.clone()))

    for u in layer_units(model):
        if u.key in hooked:
            u.module.register_forward_hook(lambda m, i, out, k=u.key: on_forward(m, i, out, k))
    torch.manual_seed(1)  # the same dropout masks on both sides
    out = model(x)
    out.square().sum().backward()
    return out.detach(), {n: p.grad.clone() for n, p in model.named_parameters()}, grads


@pytest.mark.parametrize("block, params", CASES)
def test_in_place_changes_no_value_nor_gradient(block, params):
    graph = _net(block, **params)
    torch.manual_seed(0)
    fast = compile_graph(graph).train()
    slow = _out_of_place(compile_graph(graph)).train()
    slow.load_state_dict(fast.state_dict())
    x = torch.randn(4, 8, 6, 6)
    x_copy = x.clone()
    a, b = _run(fast, x, {"block"}), _run(slow, x, {"block"})
    assert torch.equal(x, x_copy)  # the block's input is never overwritten
    assert torch.allclose(a[0], b[0], atol=1e-6)
    for name in b[1]:
        assert torch.allclose(a[1][name], b[1][name], atol=1e-5), name
    assert torch.allclose(a[2]["block"], b[2]["block"], atol=1e-6)  # the statistics' output hook


def test_the_basic_block_works_in_place_like_torchvision_and_the_top_level_does_not():
    model = compile_graph(_net("basic"))
    body = model.nodes["block"].nodes
    assert body["relu1"].inplace and body["relu_out"].inplace and body["add"].inplace
    assert not any(getattr(m, "inplace", False) for m in model.nodes.values())


def test_a_tensor_read_twice_or_kept_for_backward_is_not_overwritten():
    relu_a, relu_b, add, add_x = nn.ReLU(), nn.ReLU(), ops.Add(), ops.Add()
    # slot 1 = conv(x) is read by relu_a and add; relu_b would overwrite relu_a's output, which relu_a's
    # backward needs; add_x's first input is the block's input.
    ops.inplace_where_safe([nn.Conv2d(1, 1, 1), relu_a, relu_b, add, add_x],
                           [(0,), (1,), (2,), (1, 3), (0, 4)], 5)
    assert not (relu_a.inplace or relu_b.inplace or add.inplace or add_x.inplace)
