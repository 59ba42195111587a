"""Each block type: inferred shape and cost equal the built module's, and the module runs."""
import pytest
import torch

from explorer.blocks import all_blocks, get_block
from explorer.blocks.builder import Builder
from explorer.compile import compile_graph
from explorer.network.inference import analyze

# One small configuration per block type (input shape, params) that exercises its interesting path.
CASES = {
    "input": None, "output": None, "opaque": None,
    "conv2d": ((4, 9, 9), dict(out_channels=6, kernel_size=3, stride=2, groups=2, bias=True)),
    "batchnorm": ((4, 5, 5), {}),
    "activation": ((4, 5, 5), dict(kind="gelu")),
    "maxpool": ((4, 8, 8), dict(kernel_size=3, stride=2, padding=1)),
    "avgpool": ((4, 8, 8), {}),
    "global_avgpool": ((4, 8, 8), {}),
    "flatten": ((4, 3, 3), {}),
    "linear": ((12,), dict(out_features=5)),
    "dropout": ((4, 5, 5), dict(p=0.5)),
    "zeropad_shortcut": ((4, 8, 8), dict(out_channels=8, stride=2)),
    "channel_slice": ((8, 4, 4), dict(start=2, stop=5)),
    "scale": ((4, 5, 5), dict(init=0.5)),
    "bias": ((4, 5, 5), dict()),
    "plain": ((8, 8, 8), dict(channels=16, stride=2)),
    "basic": ((8, 8, 8), dict(channels=16, stride=2, shortcut="projection", se_reduction=4)),
    "bottleneck": ((16, 8, 8), dict(width=8, out_channels=32, stride=2, groups=2)),
    "resnext": ((16, 8, 8), dict(cardinality=4, group_width=2, out_channels=16)),
    "preact": ((16, 8, 8), dict(out_channels=32, stride=2, variant="bottleneck")),
    "wide": ((16, 8, 8), dict(channels=8, widen_factor=2, dropout=0.3)),
    "dense": ((8, 8, 8), dict(growth_rate=4, layers=3)),
    "transition": ((10, 8, 8), dict(compression=0.5)),
    "dual_path": ((8, 8, 8), dict(residual_channels=16, increment=4, width=8, groups=4, stride=2)),
    "weighted": ((8, 8, 8), dict(channels=16, stride=2, shortcut="zero_pad")),
    "highway": ((8, 8, 8), dict(channels=8)),
}
MERGES = {"add": 2, "subtract": 2, "multiply": 2, "concat": 3}


def single_block_graph(type_name, in_shape, params, fan_in=1, repeat=1):
    b = Builder(type_name)
    x = b.input(list(in_shape))
    y = b.add(type_name, *([x] * 1), repeat=repeat, **params) if fan_in == 1 else None
    if fan_in > 1:
        srcs = [b.add("activation", x, kind="identity") for _ in range(fan_in)]
        y = b.add(type_name, *srcs, **params)
    b.output(y)
    return b.graph


def check(graph):
    a = analyze(graph)
    assert a.valid, [p.text for p in a.problems]
    m = compile_graph(graph).eval()
    assert sum(p.numel() for p in m.parameters()) == a.total.params
    with torch.no_grad():
        out = m(torch.randn(2, *a.input_shape))
    assert tuple(out.shape[1:]) == a.output_shape
    return a, m


def test_every_block_type_has_a_case():
    names = {b.name for b in all_blocks()}
    assert names == set(CASES) | set(MERGES)


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c])
def test_block_shape_cost_and_forward(name):
    in_shape, params = CASES[name]
    check(single_block_graph(name, in_shape, params))


@pytest.mark.parametrize("name", list(MERGES))
def test_merge_blocks(name):
    check(single_block_graph(name, (4, 5, 5), {}, fan_in=MERGES[name]))


@pytest.mark.parametrize("name", [n for n in CASES if CASES[n] and get_block(n).repeatable])
def test_repeated_stage_matches_its_expansion(name):
    in_shape, params = CASES[name]
    a, m = check(single_block_graph(name, in_shape, params, repeat=3))
    block = get_block(name)
    # The inside of each repetition, opened as a graph of primitives, has the same cost and shape.
    p = dict(get_block(name).params.defaults(), **params)
    exp = block.expansion(p, in_shape)
    inner = analyze(exp.graph)
    assert inner.valid and inner.total == exp.cost and inner.output_shape == exp.out_shape
    assert all(get_block(n.type).category == "Primitives" for n in exp.graph.nodes.values())


def test_highway_gate_starts_mostly_closed():
    g = single_block_graph("highway", (8, 6, 6), dict(channels=8, gate_bias=-3.0))
    m = compile_graph(g)
    gate_bias = dict(m.named_parameters())["nodes.highway_1.nodes.gate_conv.bias"]
    assert torch.allclose(gate_bias, torch.full_like(gate_bias, -3.0))


def test_zero_pad_shortcut_keeps_input_and_pads_zeros():
    g = single_block_graph("zeropad_shortcut", (2, 4, 4), dict(out_channels=4, stride=2))
    m = compile_graph(g)
    x = torch.randn(1, 2, 4, 4)
    y = m(x)
    assert torch.equal(y[:, :2], x[:, :, ::2, ::2]) and not y[:, 2:].any()


def test_parameter_names_map_to_node_ids():
    from explorer.compile import layer_units, node_of_param
    from explorer.presets import build_preset
    g = build_preset("resnet20")
    m = compile_graph(g)
    assert {node_of_param(n) for n, _ in m.named_parameters()} <= set(g.nodes)
    keys = [u.key for u in layer_units(m)]
    assert keys[:3] == ["stem_conv", "stem_bn", "stage1[0]"] and "stage3[2]" in keys and keys[-1] == "classifier"
