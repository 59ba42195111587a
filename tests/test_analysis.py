"""Analyses that explain residual networks: gradient flow by depth, lesion study, loss landscape."""
import numpy as np
import pytest
import torch

from explorer.analysis.gradient_flow import gradient_by_depth, profile_graph
from explorer.analysis.landscape import loss_landscape
from explorer.analysis.evaluate import accuracy
from explorer.analysis.lesion import Lesion, deleted, lesion_study
from explorer.compile import compile_graph, layer_units
from explorer.data import load_dataset
from explorer.presets import build_preset


@pytest.fixture(scope="module")
def digits():
    ds = load_dataset("digits", seed=0)
    return ds, ds.x_train[:64], ds.y_train[:64]


def test_gradient_statistics_match_a_slow_reference(digits):
    ds, x, y = digits
    torch.manual_seed(0)
    m = compile_graph(build_preset("resnet20", input_shape=ds.input_shape))
    prof = gradient_by_depth(m, x, y)
    # Reference: parameter by parameter, no batching.
    params = dict(m.named_parameters())
    for key, got in zip(prof.keys, prof.param_grad):
        unit = next(u for u in layer_units(m) if u.key == key)
        ref = torch.sqrt(sum(torch.linalg.vector_norm(params[n].grad) ** 2 for n in unit.param_names))
        assert got == pytest.approx(float(ref), rel=1e-4)
    # Gradient at a unit output, recomputed with autograd.grad on a fresh forward.
    unit = layer_units(m)[5]
    captured = {}
    h = unit.module.register_forward_hook(lambda mod, i, o: captured.setdefault("out", o))
    m.train()
    m.zero_grad()
    loss = torch.nn.functional.cross_entropy(m(x), y)
    h.remove()
    (g,) = torch.autograd.grad(loss, captured["out"])
    assert prof.output_grad[5] == pytest.approx(float(torch.linalg.vector_norm(g)), rel=1e-4)


def test_deep_plain_net_gradients_are_uneven_while_residual_stay_level(digits):
    ds, x, y = digits
    plain = profile_graph(build_preset("plain56", input_shape=ds.input_shape), x, y)
    res = profile_graph(build_preset("resnet56", input_shape=ds.input_shape), x, y)
    assert plain.ratio_first_last() > 20 * res.ratio_first_last()


def test_lesion_restores_the_network_and_skips_shape_changes(digits):
    ds, x, y = digits
    torch.manual_seed(0)
    g = build_preset("resnet20", input_shape=ds.input_shape)
    m = compile_graph(g)
    m.eval()
    with torch.no_grad():
        before = m(x).clone()
    study = lesion_study(m, g, x, y, random_k=False)
    with torch.no_grad():
        assert torch.equal(m(x), before)
    assert study.baseline_acc == accuracy(m, x, y)
    assert [b.key for b in study.blocks] == [f"stage{s}[{i}]" for s in (1, 2, 3) for i in range(3)]
    assert [b.key for b in study.blocks if b.downsampling] == ["stage2[0]", "stage3[0]"]
    assert study.skipped == []
    rows = study.to_json()["blocks"]
    assert [r["downsampling"] for r in rows] == [b.downsampling for b in study.blocks]


def test_a_downsampling_block_is_lesioned_by_keeping_only_its_shortcut(digits):
    """Veit et al.: the residual branch goes, the (zero-pad) shortcut stays; the ReLU after the add stays too."""
    ds, x, y = digits
    torch.manual_seed(0)
    g = build_preset("resnet20", input_shape=ds.input_shape)
    m = compile_graph(g).eval()
    block = m.nodes["stage2"][0]
    seen = {}
    handle = block.register_forward_hook(lambda mod, inp, out: seen.update(x=inp[0], out=out))
    unit = next(u for u in layer_units(m) if u.key == "stage2[0]")
    with torch.no_grad(), deleted(m, [Lesion(unit, downsampling=True)], g):
        m(x)
    handle.remove()
    shortcut = block.nodes["shortcut"](seen["x"])
    assert torch.equal(seen["out"], torch.relu(shortcut))


def test_a_plain_net_skips_its_shape_changing_blocks_for_want_of_a_shortcut(digits):
    ds, x, y = digits
    torch.manual_seed(0)
    g = build_preset("plain20", input_shape=ds.input_shape)
    study = lesion_study(compile_graph(g), g, x, y, random_k=False)
    assert [b.key for b in study.skipped] == ["stage2[0]", "stage3[0]"]
    assert all("no shortcut to keep" in b.reason for b in study.skipped)
    assert not any(b.downsampling for b in study.blocks)


def test_landscape_centre_is_the_loss_and_weights_are_restored(digits):
    ds, x, y = digits
    torch.manual_seed(0)
    m = compile_graph(build_preset("resnet20", input_shape=ds.input_shape))
    m.eval()
    state = {k: v.clone() for k, v in m.state_dict().items()}
    land = loss_landscape(m, x, y, steps=5, span=0.5)
    with torch.no_grad():
        centre = float(torch.nn.functional.cross_entropy(m(x), y))
    assert land.loss[2] == pytest.approx(centre, rel=1e-5)
    assert all(torch.equal(state[k], v) for k, v in m.state_dict().items())
    land2 = loss_landscape(m, x, y, steps=3, span=0.5, two_d=True)
    assert land2.loss.shape == (3, 3) and np.isfinite(land2.loss).all()
