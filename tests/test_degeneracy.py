"""Degeneracy by depth: the measures on layers whose answer is known (identical channels, dead ReLUs),
their bounds on random data, a real network measured with BatchNorm on the batch's statistics and put back
after a cancel, the command line's JSON for an architecture and for a trained run's checkpoints, its
refusals, and plain56 against resnet56 at initialisation.

Everything runs on one thread and small batches; the one trained pair (a tiny ResNet and its plain twin,
one epoch on the digits, so both best.pt and last.pt exist) is shared by the module."""
import json

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.analysis.control import Cancelled, Control
from explorer.analysis.degeneracy import (degeneracy, degeneracy_verdict, graph_plan, layer_degeneracy, measure,
                                          run_plan)
from explorer.cli import main
from explorer.graph.fileio import save_graph
from explorer.network.twins import plain_twin
from explorer.presets import build_preset

from conftest import three_stage_resnet


def tiny_resnet():
    """Three stages of two basic blocks, 4/8/16 channels, zero-pad shortcuts, on 1×8×8 digits."""
    return three_stage_resnet("tiny_resnet", width=4, blocks=2)


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def digits():
    from explorer.data import load_dataset

    return load_dataset("digits", seed=0)


@pytest.fixture(scope="module")
def runs(train_comparison):
    """DIR/residual and DIR/plain as `compare --out` writes them, one full epoch each (best.pt and last.pt)."""
    return train_comparison(tiny_resnet(), epochs=1, stats_every=0)


# -- the measures ----------------------------------------------------------------------------------------
def test_identical_channels_have_effective_rank_one_and_correlation_one():
    per_sample = torch.randn(32, 1, 1)
    pattern = torch.randn(1, 1, 9)               # one spatial pattern, scaled per sample
    feature_map = (per_sample * pattern).repeat(1, 6, 1)
    vector = torch.randn(32, 1, 1).repeat(1, 6, 1)  # a Linear layer's output: channels at one position
    for acts in (feature_map, vector):
        stats = measure(torch.stack([acts, acts * 3]))  # two layers of one shape: one batched call
        assert stats["effective_rank"].tolist() == pytest.approx([1.0, 1.0], abs=1e-4)
        assert stats["max_corr"].tolist() == pytest.approx([1.0, 1.0], abs=1e-5)
        assert stats["dead"].tolist() == [0.0, 0.0]


def test_a_relu_layer_fed_only_negative_inputs_is_all_dead():
    stats = measure(torch.relu(-torch.rand(1, 16, 8, 9) - 0.1))
    assert stats["dead"].item() == 1.0 and stats["zero"].item() == 1.0
    assert stats["effective_rank"].item() == 0.0 and torch.isnan(stats["max_corr"]).item()


def test_a_channel_constant_across_the_batch_is_dead_but_not_zero():
    acts = torch.randn(1, 20, 4, 3)
    acts[0, :, 1] = 2.5
    stats = measure(acts)
    assert stats["dead"].item() == pytest.approx(0.25) and stats["zero"].item() == 0.0


@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 12), c=st.integers(1, 6), pos=st.integers(1, 4), scale=st.floats(1e-3, 1e3),
       seed=st.integers(0, 2**16))
def test_effective_rank_is_bounded_and_ignores_scale(n, c, pos, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    acts = torch.randn(1, n, c, pos, generator=gen)
    a, b = measure(acts), measure(acts * scale)
    rank = a["effective_rank"].item()
    assert 1.0 - 1e-4 <= rank <= min(n - 1, c * pos) + 1e-4
    assert b["effective_rank"].item() == pytest.approx(rank, rel=1e-3)
    corr = a["max_corr"].item()
    assert (c < 2 and corr != corr) or 0.0 <= corr <= 1.0


# -- a network -------------------------------------------------------------------------------------------
def test_a_plain_block_whose_last_normalisation_is_shifted_far_below_zero_is_all_dead(digits):
    twin = plain_twin(tiny_resnet())[0]
    module = graph_plan(twin, 0)[0][1]()
    block = module.nodes["stage2"][1]
    last_bn = [m for m in block.modules() if isinstance(m, torch.nn.BatchNorm2d)][-1]
    with torch.no_grad():
        last_bn.bias.fill_(-100.0)  # every input of the block's closing ReLU is negative
    rows = {r.key: r for r in layer_degeneracy(module, digits.x_val[:32])}
    assert rows["stage2[1]"].dead_fraction == 1.0 and rows["stage2[1]"].zero_fraction == 1.0
    assert rows["stage2[1]"].max_corr is None
    assert rows["stage2[0]"].dead_fraction < 1.0
    assert [r.depth for r in rows.values()] == sorted(r.depth for r in rows.values())


def test_the_measurement_uses_the_batch_statistics_and_leaves_the_network_as_it_was(digits):
    module = graph_plan(tiny_resnet(), 0)[0][1]()
    module.train()
    bn = module.nodes["stem_bn"]
    before = {k: v.clone() for k, v in module.state_dict().items()}
    layer_degeneracy(module, digits.x_val[:16])
    assert module.training and bn.running_mean is not None
    assert all(torch.equal(before[k], v) for k, v in module.state_dict().items())  # running stats untouched

    control = Control()
    control.cancel()
    module.eval()
    with pytest.raises(Cancelled):
        layer_degeneracy(module, digits.x_val[:16], control)
    assert not module.training and bn.running_var is not None


def test_units_split_over_several_passes_measure_as_in_one(digits, monkeypatch):
    import explorer.analysis.degeneracy as degeneracy_module

    module = graph_plan(tiny_resnet(), 0)[0][1]()
    x = digits.x_val[:16]
    whole = layer_degeneracy(module, x)
    steps = []
    monkeypatch.setattr(degeneracy_module, "PASS_BYTES", 1)  # one unit per pass
    split = layer_degeneracy(module, x, Control(lambda what, done, total: steps.append((done, total))))
    assert [r.key for r in split] == [r.key for r in whole]
    assert [r.effective_rank for r in split] == pytest.approx([r.effective_rank for r in whole], rel=1e-5)
    assert steps[-1] == (len(whole), len(whole))


def test_plain56_is_more_degenerate_than_resnet56_in_its_deep_layers_at_initialisation(digits):
    """Measured, not tuned: the deeper half of plain56 uses fewer directions and has near-duplicate channels
    (batch 32: effective rank 22.7 against 27.1, max correlation 0.78 against 0.44)."""
    graph = build_preset("resnet56", num_classes=10, input_shape=(1, 8, 8))
    x = digits.x_val[:32]
    net = degeneracy("resnet56", graph_plan(graph, 0), x)
    plain = degeneracy("plain56", graph_plan(plain_twin(graph)[0], 0), x)
    deep_rank = [sum(la.effective_rank for la in d.latest.deep_half()) for d in (net, plain)]
    deep_corr = [sum(la.max_corr for la in d.latest.deep_half()) for d in (net, plain)]
    assert deep_rank[1] < deep_rank[0] and deep_corr[1] > deep_corr[0]
    assert "plain twin is the more degenerate" in degeneracy_verdict(net, plain)


# -- trained runs ----------------------------------------------------------------------------------------
def test_a_run_is_measured_at_init_best_and_last_with_its_initial_weights_rebuilt_from_its_seed(runs, digits):
    first, plan = run_plan(runs / "residual")
    assert [name for name, _ in plan] == ["init", "best", "last"]
    from explorer.train.checkpoint import load_checkpoint

    init, trained = plan[0][1](), plan[2][1]()
    stored = load_checkpoint(runs / "residual" / "last.pt").model_state
    assert all(torch.equal(trained.state_dict()[k], v) for k, v in stored.items())
    assert not all(torch.equal(init.state_dict()[k], v) for k, v in stored.items())
    result = degeneracy(first.label, plan, digits.x_val[:24])
    assert [s.checkpoint for s in result.snapshots] == ["init", "best", "last"]
    assert len({len(s.layers) for s in result.snapshots}) == 1
    assert [s.bn for s in result.snapshots] == ["batch", "running", "running"]  # deployed as trained


def test_a_trained_checkpoint_is_measured_with_its_running_statistics_unless_asked_otherwise(runs, digits):
    """Running statistics and the batch's own give different numbers for a trained net, and --bn picks."""
    _, plan = run_plan(runs / "residual")
    last = plan[-1][1]()
    x = digits.x_val[:24]
    running, batch = layer_degeneracy(last, x, bn="running"), layer_degeneracy(last, x, bn="batch")
    assert [r.effective_rank for r in running] != [r.effective_rank for r in batch]
    forced = degeneracy("r", plan[-1:], x, bn="batch")
    assert forced.snapshots[0].bn == "batch"
    assert forced.snapshots[0].layers[0].effective_rank == pytest.approx(batch[0].effective_rank)
    assert last.training == plan[-1][1]().training  # the mode is put back


def test_the_command_line_names_the_statistics_it_used(runs, capsys):
    for extra, expected in (([], ["batch", "running", "running"]), (["--bn", "batch"], ["batch"] * 3),
                            (["--bn", "running"], ["running"] * 3)):
        assert main(["analyze", "degeneracy", str(runs / "residual"), "--batch-size", "16", "--device", "cpu",
                     "--json", *extra]) == 0
        out = json.loads(capsys.readouterr().out)
        assert [c["bn"] for c in out["checkpoints"]] == expected
        assert out["bn"] == (extra[1] if extra else "auto")
        assert f"BatchNorm on {expected[-1]} statistics" in out["verdict"]


def test_the_command_line_prints_the_documented_json_for_a_run_and_its_twin(runs, capsys):
    assert main(["analyze", "degeneracy", str(runs), "--compare-twin", "--batch-size", "24", "--device", "cpu",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"layers", "checkpoints", "plain", "verdict", "definition", "dataset"} <= out.keys()
    assert [c["checkpoint"] for c in out["checkpoints"]] == ["init", "best", "last"]
    assert out["layers"] == out["checkpoints"][-1]["layers"]
    row = out["layers"][0]
    assert {"node", "depth", "effective_rank", "dead_fraction", "max_corr"} <= row.keys()
    assert isinstance(row["depth"], int) and isinstance(row["effective_rank"], float)
    assert out["plain"]["label"].endswith("(plain twin)")
    assert [r["unit"] for r in out["plain"]["layers"]] == [r["unit"] for r in out["layers"]]


def test_the_command_line_measures_an_architecture_at_initialisation(tmp_path, capsys):
    path = tmp_path / "tiny.json"
    save_graph(tiny_resnet(), path)
    assert main(["analyze", "degeneracy", str(path), "--batch-size", "16", "--device", "cpu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["checkpoint"] for c in out["checkpoints"]] == ["init"] and out["plain"] is None
    assert out["batch"] == 16 and [r["unit"] for r in out["layers"]][-1] == "classifier"


@pytest.mark.parametrize("argv, expected", [
    (["analyze", "gradflow", "resnet20", "--compare-twin"], "--compare-twin applies to degeneracy"),
    (["analyze", "degeneracy", "resnet20", "--batch-size", "1"], "--batch-size must be between 2"),
    (["analyze", "degeneracy", "resnet20", "--draws", "3"], "--draws applies to lesion"),
    (["analyze", "lesion", "resnet20", "--bn", "batch"], "--bn applies to degeneracy"),
])
def test_misplaced_or_out_of_range_options_get_one_error_line(argv, expected, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and expected in err[0]


def test_a_run_without_a_plain_twin_beside_it_is_refused_with_the_fix(runs, capsys):
    assert main(["analyze", "degeneracy", str(runs / "plain"), "--compare-twin", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no plain twin run beside it" in err[0] and "compare ARCH --out DIR" in err[0]
