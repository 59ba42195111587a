"""The analysis workbench on small networks: trained runs from `compare --out`, lesion (per block, k
random, plain twin), gradient flow at initialisation with and without BatchNorm, landscape centre,
path-length counts, depth sweep, anatomy, cancellation and the command line's answers to bad input.

One pair of trained runs (ResNet-20's layout at half width, 8/16/32 channels, and its plain twin, 3 epochs
on the digits) is shared by the module; everything runs on one thread."""
import json
import math
import shutil

import numpy as np
import pytest
import torch

from explorer.analysis.anatomy import anatomy
from explorer.analysis.control import Cancelled, Control
from explorer.analysis.depth_sweep import DepthError, family_graph
from explorer.analysis.evaluate import evaluate
from explorer.analysis.gradient_flow import compare_verdict, profile_graph
from explorer.analysis.landscape import GridError, check_grid, loss_landscape
from explorer.analysis.lesion import lesion_study, lesion_verdict
from explorer.analysis.paths import path_counts, path_gradients
from explorer.analysis.trained import RunError, comparison_paths, load_run, run_data
from explorer.cli import main
from explorer.network.inference import analyze
from explorer.presets import build_preset

from conftest import three_stage_resnet


def half_resnet20():
    """ResNet-20's layout (3 stages × 3 basic blocks, zero-pad shortcuts) at half width, on 1×8×8."""
    return three_stage_resnet("half_resnet20", width=8, blocks=3)


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def runs(train_comparison):
    """A compare-style folder: DIR/residual and DIR/plain, each a `train --out` run folder."""
    return train_comparison(half_resnet20(), epochs=3, stats_every=0)


@pytest.fixture(scope="module")
def loaded(runs):
    net_path, twin_path = comparison_paths(runs)
    net, twin = load_run(net_path), load_run(twin_path)
    ds = run_data(net)
    return net, twin, ds


# -- trained runs -----------------------------------------------------------------------------------------
def test_a_run_folder_loads_with_its_trained_weights_and_its_twin_beside_it(runs, loaded):
    net, twin, ds = loaded
    assert comparison_paths(runs / "residual") == (runs / "residual", runs / "plain")
    assert net.label == "half_resnet20" and twin.label == "half_resnet20 (plain twin)"
    metrics = (runs / "residual" / "metrics.csv").read_text().splitlines()
    header, last = metrics[0].split(","), metrics[-1].split(",")
    recorded = float(last[header.index("val_acc")])
    assert evaluate(net.module, ds.x_val, ds.y_val)[1] == pytest.approx(recorded, abs=1e-6)


def test_a_folder_without_weights_and_a_mismatched_checkpoint_are_refused(runs, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    shutil.copy(runs / "residual" / "graph.json", empty / "graph.json")
    with pytest.raises(RunError, match="graph.json but no weights"):
        load_run(empty)
    mixed = tmp_path / "mixed"
    shutil.copytree(runs / "residual", mixed)
    shutil.copy(runs / "plain" / "last.pt", mixed / "last.pt")
    with pytest.raises(RunError, match="does not match"):
        load_run(mixed)


@pytest.mark.parametrize("make, expected", [
    (lambda runs, tmp: tmp, "holds no run"),
    (lambda runs, tmp: runs / "residual" / "graph.json", "not a run"),
    (lambda runs, tmp: tmp / "missing", "no such run"),
])
def test_the_command_line_meets_a_bad_run_with_one_error_line(runs, tmp_path, capsys, make, expected):
    assert main(["analyze", "lesion", str(make(runs, tmp_path))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0]


# -- lesion -------------------------------------------------------------------------------------------
def test_deleting_a_residual_block_costs_far_less_than_a_plain_block(loaded):
    net, twin, ds = loaded
    res = lesion_study(net.module, net.graph, ds.x_val, ds.y_val, random_k=False, label=net.label)
    plain = lesion_study(twin.module, twin.graph, ds.x_val, ds.y_val, random_k=False, label=twin.label)
    assert res.baseline_acc > 0.8 and plain.baseline_acc > 0.7
    assert [b.key for b in res.blocks] == [f"stage{s}[{i}]" for s in (1, 2, 3) for i in range(3)]
    assert [b.key for b in res.blocks if b.downsampling] == ["stage2[0]", "stage3[0]"] and res.skipped == []
    assert [b.key for b in plain.skipped] == ["stage2[0]", "stage3[0]"]
    assert "changes the shape (8×8×8 → 16×4×4) and has no shortcut to keep" in plain.skipped[0].reason
    assert plain.drops.mean() > 0.4 and plain.drops.mean() > 3 * res.drops.mean()
    verdict = lesion_verdict(res, plain)
    assert f"{plain.drops.mean():.3f}" in verdict and f"{res.drops.mean():.3f}" in verdict


def test_random_k_lesions_give_mean_and_spread_and_restore_the_network(loaded):
    net, _, ds = loaded
    x, y = ds.x_val[:128], ds.y_val[:128]
    with torch.no_grad():
        before = net.module(x).clone()
    study = lesion_study(net.module, net.graph, x, y, draws=3)
    with torch.no_grad():
        assert torch.equal(net.module(x), before)
    assert [r.k for r in study.random] == list(range(1, 10))
    assert [r.draws for r in study.random] == [3] * 8 + [1] and study.random[-1].std == 0
    assert all(r.min_acc <= r.mean_acc <= r.max_acc for r in study.random)


def test_lesion_json_has_the_documented_shape(runs, capsys):
    assert main(["analyze", "lesion", str(runs / "residual"), "--random-k", "--draws", "2", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert isinstance(out["baseline_acc"], float)
    assert [set(b) >= {"node", "acc", "downsampling"} for b in out["blocks"]] == [True] * 9
    assert [b["unit"] for b in out["blocks"] if b["downsampling"]] == ["stage2[0]", "stage3[0]"]
    assert out["skipped"] == [] and out["split"] == "validation" and out["dataset"] == "digits"
    assert [b["node"] for b in out["plain"]["skipped"]] == ["stage2", "stage3"]
    assert [r["k"] for r in out["random"]] == list(range(1, 10)) and {"mean_acc", "std"} <= set(out["random"][0])
    assert out["plain"]["run"].endswith("last.pt") and "verdict" in out


def test_a_cancelled_lesion_puts_every_block_back(loaded):
    net, _, ds = loaded
    modules = list(net.module.modules())
    control = Control(on_progress=lambda what, done, total: done >= 2 and control.cancel())
    with pytest.raises(Cancelled):
        lesion_study(net.module, net.graph, ds.x_val, ds.y_val, control=control)
    assert list(net.module.modules()) == modules


# -- landscape ---------------------------------------------------------------------------------------
def test_the_landscape_centre_is_the_trained_loss_and_the_weights_come_back(loaded):
    net, _, ds = loaded
    x, y = ds.x_train[:128], ds.y_train[:128]
    state = {k: v.clone() for k, v in net.module.state_dict().items()}
    trained = evaluate(net.module, x, y)[0]
    line = loss_landscape(net.module, x, y, steps=5, span=0.5)
    assert line.alphas[2] == 0 and line.centre_loss == pytest.approx(trained, abs=1e-6)
    assert line.loss.min() == pytest.approx(trained, abs=1e-6)  # a trained minimum, far below ln 10
    assert trained < 1.0 < math.log(10)
    surface = loss_landscape(net.module, x, y, steps=3, span=0.5, two_d=True)
    assert surface.loss.shape == (3, 3) and surface.centre_loss == pytest.approx(trained, abs=1e-6)
    assert all(torch.equal(state[k], v) for k, v in net.module.state_dict().items())


@pytest.mark.parametrize("grid", [0, 1, 2, 4, 20, 103])
def test_an_even_or_too_small_grid_is_refused(grid):
    with pytest.raises(GridError):
        check_grid(grid)


def test_landscape_json_pairs_the_run_with_its_twin(runs, capsys):
    assert main(["analyze", "landscape", str(runs), "--grid", "3", "--batch-size", "32", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["centre_loss"] == pytest.approx(out["trained_loss"], abs=1e-6) and len(out["grid"]) == 3
    assert out["plain"]["centre_loss"] == pytest.approx(out["plain"]["trained_loss"], abs=1e-6)


# -- gradient flow at initialisation ------------------------------------------------------------------
@pytest.fixture(scope="module")
def batch():
    from explorer.data import load_dataset
    ds = load_dataset("digits", seed=0)
    return ds.x_train[:16], ds.y_train[:16]


@pytest.mark.parametrize("bn", [True, False], ids=["with BN", "without BN"])
def test_plain56_gradients_spread_over_orders_of_magnitude_while_resnet56_stay_level(batch, bn):
    x, y = batch
    res = profile_graph(build_preset("resnet56", input_shape=(1, 8, 8)), x, y, normalisation=bn)
    plain = profile_graph(build_preset("plain56", input_shape=(1, 8, 8)), x, y, normalisation=bn)
    assert res.depth[-1] == plain.depth[-1] == 56
    assert plain.spread_orders() > 3.5 and res.spread_orders() < 2.5
    if bn:   # BatchNorm in training mode: the plain net's gradient explodes toward the input
        assert plain.ratio_first_last() > 100 * res.ratio_first_last()
    else:    # no normalisation: it vanishes
        assert plain.ratio_first_last() < 1e-3 * res.ratio_first_last()
    verdict = compare_verdict("resnet56", res, "plain56", plain, bn)
    assert ("explodes" if bn else "vanishes") in verdict and f"{plain.ratio_first_last():.3g}" in verdict


# -- paths, depth, anatomy ------------------------------------------------------------------------------
def test_path_length_counts_are_binomial_and_sampling_measures_every_length(loaded):
    assert path_counts(4) == [1, 4, 6, 4, 1]
    assert all(sum(path_counts(n)) == 2 ** n for n in range(12))
    net, twin, ds = loaded
    prof = path_gradients(net.module, net.graph, ds.x_train[:64], ds.y_train[:64], samples=4)
    assert prof.blocks == 9 and prof.counts == [math.comb(9, k) for k in range(10)]
    assert np.isfinite(prof.grad_per_path).all() and (prof.grad_per_path > 0).all()
    assert "stem_conv" in prof.not_residual
    assert path_gradients(twin.module, twin.graph, ds.x_train[:8], ds.y_train[:8], samples=2).blocks == 0


def test_depth_sweep_builds_depths_no_preset_has():
    g = family_graph("resnet", 8)
    assert analyze(g).total.weight_layers == 8 and g.node("stage1").repeat == 1
    assert family_graph("plain", 56).name == "plain56"
    with pytest.raises(DepthError, match="2 \\+ 6·n"):
        family_graph("plain", 9)


def test_anatomy_shares_add_up_and_a_block_shows_its_layers():
    blocks = anatomy(build_preset("resnet20"))
    assert sum(b.params_share for b in blocks) == pytest.approx(1.0)
    assert sum(b.macs_share for b in blocks) == pytest.approx(1.0)
    (stage2,) = anatomy(build_preset("resnet20"), "stage2")
    assert [la.type for la in stage2.layers if la.params] == ["conv2d", "batchnorm", "conv2d", "batchnorm"]


def test_a_lesion_that_costs_nothing_reads_0_000_not_minus_0_000():
    from explorer.analysis.lesion import BlockLesion, LesionStudy
    net = LesionStudy("net", 0.3, [BlockLesion("stage1[0]", "a", 0.2)], [])
    twin = LesionStudy("twin", 0.1, [BlockLesion("stage1[0]", "a", 0.1000001)], [])
    verdict = lesion_verdict(net, twin)
    assert "-0.000" not in verdict and "twin 0.000 accuracy" in verdict and "net 0.100" in verdict
