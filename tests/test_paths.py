"""The path-length measurement (Veit et al. 2016, Fig. 6b) on a case with a known answer, its BatchNorm
statistics, and a verdict that follows the numbers.

Known answer: in a linear residual network whose every branch is c·I (a 1×1 conv holding c times the
identity), the gradient along a path through k branches is exactly c^k times the all-shortcut path's."""
import math

import numpy as np
import pytest
import torch

from explorer.analysis.bn_statistics import never_updated
from explorer.analysis.paths import PathProfile, path_counts, path_gradients, paths_verdict
from explorer.blocks.base import CompositeBlock
from explorer.blocks.builder import Builder
from explorer.blocks.registry import register, unregister
from explorer.compile import compile_graph
from explorer.graph.params import Int, ParamSet
from explorer.presets import build_preset


class LinearResidual(CompositeBlock):
    """y = x + W x with W a 1×1 conv: no activation, no normalisation."""

    name = "test_linear_residual"
    params = ParamSet((Int("channels", 3, 1, 64, "channels"),))

    def expand(self, p, b, x):
        return b.add("add", b.conv(x, p["channels"], 1, node_id="branch"), x, node_id="add")


@pytest.fixture(scope="module")
def linear_block():
    register(LinearResidual)
    yield
    unregister(LinearResidual.name)


def linear_net(n: int, c: float):
    b = Builder("linear")
    x = b.add("test_linear_residual", b.input([3, 4, 4]), node_id="stage", repeat=n)
    x = b.add("flatten", b.add("global_avgpool", x, node_id="pool"), node_id="flatten")
    b.output(b.add("linear", x, node_id="classifier", out_features=4))
    g = b.finish().graph
    torch.manual_seed(0)
    m = compile_graph(g).double()
    with torch.no_grad():
        for block in m.nodes["stage"]:
            block.nodes["branch"].weight.copy_(c * torch.eye(3, dtype=torch.float64).view(3, 3, 1, 1))
    return g, m


@pytest.mark.parametrize("c", [0.5, 2.0])
def test_a_path_of_k_branches_scaled_by_c_carries_c_to_the_k(linear_block, c):
    g, m = linear_net(5, c)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, 4, 4, dtype=torch.float64, generator=gen)
    y = torch.randint(0, 4, (40,), generator=gen)
    prof = path_gradients(m, g, x, y, samples=3, batch_size=64, measure=8)
    assert prof.blocks == 5 and prof.counts == path_counts(5) and prof.measured == 8
    ratio = prof.grad_per_path / prof.grad_per_path[0]
    assert np.allclose(ratio, c ** np.arange(6), rtol=1e-9)
    assert np.allclose(prof.grad_spread, 0, atol=1e-12 * prof.grad_per_path.max())  # same batch, same answer
    slope, se = prof.slope()
    assert slope == pytest.approx(math.log10(c), abs=1e-9) and se < 1e-9
    verdict = paths_verdict(prof, "linear")
    assert ("falls with its length" in verdict) == (c < 1) and ("rises with its length" in verdict) == (c > 1)
    assert ("mainly from paths shorter" in verdict) == (c < 1)
    assert "short paths do not dominate" in verdict if c > 1 else "short paths do not dominate" not in verdict


def test_a_fresh_network_is_measured_with_statistics_estimated_first_and_gets_its_own_back():
    torch.manual_seed(0)
    g = build_preset("resnet20", input_shape=(1, 8, 8))
    m = compile_graph(g)
    before = {k: v.clone() for k, v in m.state_dict().items()}
    assert never_updated(m)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(64, 1, 8, 8, generator=gen), torch.randint(0, 10, (64,), generator=gen)
    prof = path_gradients(m, g, x, y, samples=2, measure=4)
    assert prof.bn == "running statistics estimated on 64 training samples first"
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items()) and m.training
    assert np.isfinite(prof.grad_per_path).all()
    out = prof.to_json()
    assert out["bn_statistics"] == prof.bn and out["measured_batch"] == 4
    assert {"grad_spread", "grad_per_path"} <= set(out["lengths"][0]) and out["slope_stderr"] is not None


def test_the_verdict_claims_short_paths_only_when_the_numbers_show_them():
    def profile(per_path):
        per_path = np.array(per_path, dtype=np.float64)
        raw = np.repeat(per_path[:, None], 2, axis=1) * np.array([0.99, 1.01])
        return PathProfile(4, [f"b{i}" for i in range(4)], [], path_counts(4), raw.mean(1), 2, raw.std(1), raw, 8,
                           "the run's running statistics")
    steep = paths_verdict(profile([1, 0.1, 0.01, 1e-3, 1e-4]))
    flat = paths_verdict(profile([1, 1, 1, 1, 1]))
    slow = paths_verdict(profile([1, 0.97, 0.94, 0.91, 0.88]))
    assert "falls" in steep and "mainly from paths shorter" in steep
    assert "no clear trend" in flat and "do not dominate" in flat and "Veit et al. found" not in flat
    assert "falls" in slow and "too slow for short paths to dominate" in slow
