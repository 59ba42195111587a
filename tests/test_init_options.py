"""Residual branches that start small (zero-γ, SkipInit, Fixup): the blocks' ``init`` option, the
``with_init`` transform, gradient flow without normalisation, and a short training without it."""
import json
import math

import pytest
import torch

from explorer.analysis.gradient_flow import ChannelAffine, bypass_normalisation, profile_graph
from explorer.blocks.builder import Builder
from explorer.cli import main
from explorer.compile import compile_graph
from explorer.data import load_dataset
from explorer.network.init_options import InitError, with_init
from explorer.presets import build_preset
from equivalence import exported_output, randomise


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits", seed=0)
    return ds, ds.x_train[:64], ds.y_train[:64]


def tiny(block: str, init: str, **params):
    b = Builder("tiny")
    x = b.input([4, 8, 8])
    x = b.add(block, x, node_id="stage", repeat=2, init=init, **params)
    x = b.add("flatten", b.add("global_avgpool", x, node_id="pool"), node_id="flatten")
    b.output(b.add("linear", x, node_id="classifier", out_features=3))
    return b.finish().graph


@pytest.mark.parametrize("block, params", [("basic", {"channels": 8, "stride": 2, "shortcut": "zero_pad"}),
                                           ("bottleneck", {"width": 2, "out_channels": 8, "stride": 2}),
                                           ("resnext", {"cardinality": 2, "group_width": 2, "out_channels": 8})])
@pytest.mark.parametrize("init", ["zero_gamma", "skipinit", "fixup"])
def test_a_branch_that_starts_small_leaves_only_the_shortcut(block, params, init):
    torch.manual_seed(0)
    g = tiny(block, init, **params)
    m = compile_graph(g).double().eval()
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64)
    first = m.nodes["stage"][0]
    # The block's output is relu(shortcut(x)) (Fixup's shortcut sees x + bias1a, which starts at 0).
    with torch.no_grad():
        assert torch.equal(first(x), torch.relu(_shortcut(first, x)))


def _shortcut(block, x):
    nodes = block.nodes
    if "shortcut" in nodes:
        return nodes["shortcut"](x)
    y = nodes["shortcut_conv"](x)
    return nodes["shortcut_bn"](y) if "shortcut_bn" in nodes else y


def test_fixup_blocks_have_no_batchnorm_and_learn_their_depth_from_the_network():
    g, notes = with_init(build_preset("resnet20"), "fixup")
    stages = [n for n in g.nodes.values() if n.type == "basic"]
    assert {n.params["init"] for n in stages} == {"fixup"} and {n.params["fixup_blocks"] for n in stages} == {9}
    assert g.node("classifier").params["zero_init"] and any("classifier" in n for n in notes)
    torch.manual_seed(0)
    m = compile_graph(g)
    block = m.nodes["stage1"][0]
    assert not any(isinstance(mod, torch.nn.BatchNorm2d) for mod in block.modules())
    assert float(block.nodes["conv2"].weight.detach().abs().max()) == 0.0
    ref = compile_graph(build_preset("resnet20"))  # same seed stream is not needed: compare the scale of conv1
    ratio = float(block.nodes["conv1"].weight.detach().std() / ref.nodes["stage1"][0].nodes["conv1"].weight.detach().std())
    assert ratio == pytest.approx(9 ** -0.5, rel=0.15)
    assert float(m.nodes["classifier"].weight.detach().abs().max()) == 0.0


def test_an_init_no_block_offers_is_refused_with_what_they_offer():
    with pytest.raises(InitError, match="no residual block"):
        with_init(build_preset("plain20"), "fixup")
    with pytest.raises(InitError, match="offer default, zero_gamma, skipinit"):
        with_init(build_preset("preact_resnet110"), "fixup")


def test_zero_gamma_keeps_its_zero_scale_when_normalisation_is_bypassed():
    torch.manual_seed(0)
    m = compile_graph(with_init(build_preset("resnet20"), "zero_gamma")[0])
    bypass_normalisation(m)
    block = m.nodes["stage1"][0]
    assert isinstance(block.nodes["bn2"], ChannelAffine) and not isinstance(block.nodes["bn1"], ChannelAffine)


def test_without_bn_a_residual_net_explodes_at_the_default_start_and_is_level_with_fixup(digits, capsys):
    assert main(["analyze", "gradflow", "resnet110", "--no-bn", "--init", "fixup", "--batch-size", "32",
                 "--json"]) == 0
    fixup = json.loads(capsys.readouterr().out)
    assert 0.1 < fixup["residual_first_over_last"] < 10 and fixup["init"] == "fixup"
    assert fixup["plain_first_over_last"] < 1e-6   # the plain twin keeps the default start: it vanishes
    ds, x, y = digits
    default = profile_graph(build_preset("resnet110", input_shape=ds.input_shape), x[:32], y[:32], 0, False)
    assert default.ratio_first_last() > 1e3       # the same net at the default start explodes


def test_a_fixup_network_without_normalisation_trains(digits):
    ds, _, _ = digits
    b = Builder("small")
    x = b.act(b.conv(b.input(list(ds.input_shape)), 8, node_id="stem_conv"), node_id="stem_relu")  # no BN at all
    for i, c in enumerate((8, 16, 32)):
        x = b.add("basic", x, node_id=f"stage{i + 1}", channels=c, stride=1 if i == 0 else 2, shortcut="zero_pad")
    x = b.add("flatten", b.add("global_avgpool", x, node_id="pool"), node_id="flatten")
    b.output(b.add("linear", x, node_id="classifier", out_features=10))
    g, _ = with_init(b.finish().graph, "fixup")
    torch.manual_seed(0)
    m = compile_graph(g)
    assert bypass_normalisation(m) == 0  # Fixup's blocks have no BN
    opt = torch.optim.SGD(m.parameters(), lr=0.1, momentum=0.9)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(80):
        idx = torch.randint(0, len(ds.x_train), (32,), generator=gen)
        loss = torch.nn.functional.cross_entropy(m(ds.x_train[idx]), ds.y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    assert all(math.isfinite(v) for v in losses)
    assert sum(losses[-10:]) / 10 < 0.5 * math.log(10)  # from chance (ln 10) to well below


@pytest.mark.parametrize("block, init, params", [
    ("basic", "fixup", {"channels": 8, "stride": 2, "shortcut": "zero_pad", "se_reduction": 2}),
    ("bottleneck", "fixup", {"width": 2, "out_channels": 8, "stride": 2, "shortcut": "projection"}),
    ("basic", "skipinit", {"channels": 8, "stride": 2}),
    ("preact", "zero_gamma", {"out_channels": 8, "stride": 2, "variant": "bottleneck"}),
    ("wide", "skipinit", {"channels": 4, "widen_factor": 2})])
def test_a_block_with_an_init_option_exports_to_the_same_network(block, init, params, tmp_path):
    g = tiny(block, init, **params)
    with_init(g, init)  # the transform accepts what the block offers
    m = randomise(compile_graph(g))
    x = torch.randn(2, 4, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want = m(x)
    assert torch.allclose(exported_output(g, m, x, tmp_path), want, rtol=0, atol=1e-12)


def test_a_network_whose_classifier_starts_at_zero_is_said_to_pass_no_gradient(capsys):
    assert main(["analyze", "gradflow", "fixup_resnet20", "--batch-size", "8", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["residual_first_over_last"] is None and "classifier that starts at 0" in out["verdict"]
