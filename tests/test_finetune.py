"""Fine-tuning: --init-from (by node id and shape, the rest re-initialised and named), --freeze with BatchNorm
statistics kept, --lr-mult as parameter groups, --unfreeze-at, --train-samples, and the run's provenance
as `info RUN_DIR` shows it. Tiny networks on random patterns, a few steps each."""
import json

import pytest
import torch

from explorer.cli import main
from explorer.compile import compile_graph
from explorer.data.subset import stratified_subset
from explorer.graph.fileio import save_graph
from explorer.train import TrainConfig, TrainingRun
from explorer.train.checkpoint import load_checkpoint
from explorer.train.reports import FailedReport, FinishedReport, LayerStatsReport, StartedReport
from explorer.train.testing import random_dataset, tiny_graph


def run(graph, dataset, **settings):
    """(the TrainingRun, its reports) for a short CPU run."""
    cfg = TrainConfig(**{"epochs": 1, "batch_size": 16, "device": "cpu", "stats_every": 0, "log_every": 2,
                         **settings})
    r = TrainingRun(graph, dataset, cfg)
    return r, list(r.reports())


@pytest.fixture(scope="module")
def source_run(tmp_path_factory):
    """A trained 4-class run folder: the weights everything here starts from."""
    out = tmp_path_factory.mktemp("src") / "run"
    _, reports = run(tiny_graph(classes=4), random_dataset(classes=4), out_dir=str(out))
    assert isinstance(reports[-1], FinishedReport)
    return out


def started(reports) -> StartedReport:
    return next(r for r in reports if isinstance(r, StartedReport))


def test_init_from_another_class_count_reloads_all_but_the_classifier_and_says_so(source_run, tmp_path):
    source = load_checkpoint(source_run).model_state
    r, reports = run(tiny_graph(classes=3), random_dataset(classes=3, seed=1), init_from=str(source_run),
                     out_dir=str(tmp_path / "ft2"), lr=1e-9, max_steps=1, weight_decay=0.0, momentum=0.0,
                     nesterov=False)
    notices = [n for n in started(reports).notices if n.startswith("initialised from")]
    assert len(notices) == 1
    assert "loaded 3 of 4 nodes" in notices[0] and "re-initialised classifier" in notices[0]
    assert "4×8 in the source, 3×8 here" in notices[0]
    state = r.model.state_dict()
    for name, tensor in source.items():
        if name.startswith("nodes.classifier"):
            assert state[name].shape != tensor.shape
        elif "running" not in name and "num_batches" not in name:  # one step at lr 1e-9: the same to 1e-6
            assert torch.allclose(state[name], tensor, atol=1e-6), name
    provenance = json.loads((tmp_path / "ft2" / "provenance.json").read_text())
    assert provenance["init_from"]["loaded"] == ["stem_conv", "stem_bn", "stage1"]
    assert list(provenance["init_from"]["reinitialised"]) == ["classifier"]
    assert provenance["init_from"]["unused"] == []


def test_init_from_is_not_resume_optimizer_and_epochs_start_fresh(source_run):
    _, reports = run(tiny_graph(classes=4), random_dataset(classes=4), init_from=str(source_run))
    s = started(reports)
    assert s.start_epoch == 0 and s.start_step == 0
    assert isinstance(reports[-1], FinishedReport) and reports[-1].epochs_done == 1


def test_init_from_a_state_dict_with_foreign_names_pairs_in_order(tmp_path):
    model = compile_graph(tiny_graph(classes=4))
    foreign = {f"layer{i}.{name.rsplit('.', 1)[-1]}": t.clone() + 1
               for i, (name, t) in enumerate(model.state_dict().items())}
    torch.save(foreign, tmp_path / "foreign.pth")
    r, reports = run(tiny_graph(classes=4), random_dataset(classes=4), init_from=str(tmp_path / "foreign.pth"),
                     max_steps=1, lr=1e-9, weight_decay=0.0)
    assert "(by order): loaded 4 of 4 nodes" in started(reports).notices[0]
    w = r.model.state_dict()["nodes.stem_conv.weight"]
    assert torch.allclose(w, foreign["layer0.weight"], atol=1e-6)

    torch.save(dict(list(foreign.items())[:-1]), tmp_path / "short.pth")  # one tensor missing: cannot pair
    _, reports = run(tiny_graph(classes=4), random_dataset(classes=4), init_from=str(tmp_path / "short.pth"))
    assert isinstance(reports[-1], FailedReport) and reports[-1].kind == "checkpoint"
    assert "cannot be paired in order" in reports[-1].reason


def test_frozen_parameters_and_their_batchnorm_statistics_do_not_change_and_are_not_optimised(source_run):
    graph, data = tiny_graph(classes=4), random_dataset(classes=4, seed=2)
    before = load_checkpoint(source_run).model_state
    r, reports = run(graph, data, epochs=2, freeze=["until:stage1"], init_from=str(source_run), stats_every=3)
    assert isinstance(reports[-1], FinishedReport)
    after = r.model.state_dict()
    frozen = [k for k in after if not k.startswith("nodes.classifier")]
    assert all(torch.equal(after[k], before[k]) for k in frozen)  # BN running mean/var and counters too
    assert not torch.equal(after["nodes.classifier.weight"], before["nodes.classifier.weight"])
    optimised = {id(p) for g in r.trainee.opt.param_groups for p in g["params"]}
    assert optimised == {id(p) for n, p in r.model.named_parameters() if n.startswith("nodes.classifier")}
    stats = [x for x in reports if isinstance(x, LayerStatsReport)]
    assert stats and all(list(s.frozen) == [True, True, True, True, False] for s in stats)
    assert all((s.grad_norm[:4] == 0).all() for s in stats)
    assert "frozen: stem_conv, stem_bn, stem_relu, stage1" in " ".join(started(reports).notices)


def test_frozen_parameters_are_left_out_of_the_optimiser_and_multipliers_make_groups():
    from explorer.train.freezing import Freezing, node_multipliers, resolve_nodes
    from explorer.train.optim import build_optimizer

    model = compile_graph(tiny_graph(classes=4))
    freezing = Freezing(model, resolve_nodes(model, ["stem_conv", "stem_bn"], "freeze"))
    freezing.freeze()
    mult = node_multipliers(model, {"stage1": 0.1, "classifier": 10.0})
    opt = build_optimizer(model, TrainConfig(), mult)
    optimised = {id(p) for g in opt.param_groups for p in g["params"]}
    assert optimised.isdisjoint(id(p) for p in freezing.params)
    by_factor = {}
    for g in opt.param_groups:
        by_factor.setdefault(g.get("lr_mult", 1.0), []).extend(g["params"])
    assert set(by_factor) == {0.1, 10.0}  # stem frozen: no group at 1.0 left
    names = {id(p): n for n, p in model.named_parameters()}
    assert all(names[id(p)].startswith("nodes.stage1") for p in by_factor[0.1])
    assert all(names[id(p)].startswith("nodes.classifier") for p in by_factor[10.0])


def test_lr_multipliers_give_the_effective_learning_rates():
    r, reports = run(tiny_graph(classes=4), random_dataset(classes=4), lr_mult={"until:stage1": 0.1,
                                                                                "classifier": 3.0},
                     schedule="constant", warmup_epochs=0.0, lr=0.02)
    assert isinstance(reports[-1], FinishedReport)
    names = {id(p): n for n, p in r.model.named_parameters()}
    opt = r.trainee.opt  # the rates each group ran its last step at
    rates = {names[id(p)].split(".")[1]: g["lr"] for g in opt.param_groups for p in g["params"]}
    assert rates["stem_conv"] == pytest.approx(0.002) and rates["stage1"] == pytest.approx(0.002)
    assert rates["classifier"] == pytest.approx(0.06)


def test_unfreeze_at_makes_the_frozen_parts_train_from_that_epoch(source_run):
    graph, data = tiny_graph(classes=4), random_dataset(classes=4, n_train=32)
    before = load_checkpoint(source_run).model_state["nodes.stem_conv.weight"]
    r, reports = run(graph, data, epochs=3, freeze=["stem_conv"], unfreeze_at=3, init_from=str(source_run),
                     stats_every=1)
    stats = [x for x in reports if isinstance(x, LayerStatsReport)]
    first = stats[0].keys.index("stem_conv")
    assert {s.epoch: bool(s.frozen[first]) for s in stats} == {1: True, 2: True, 3: False}
    assert all(s.grad_norm[first] > 0 for s in stats if s.epoch == 3)
    assert not torch.equal(r.model.state_dict()["nodes.stem_conv.weight"], before)
    weight = dict(r.model.named_parameters())["nodes.stem_conv.weight"]
    assert any(p is weight for g in r.trainee.opt.param_groups for p in g["params"])  # it joined the optimiser


def test_resume_after_unfreezing_restores_the_optimiser(tmp_path):
    graph, data = tiny_graph(classes=4), random_dataset(classes=4, n_train=32)
    out = tmp_path / "run"
    _, reports = run(graph, data, epochs=3, freeze=["stem_conv"], unfreeze_at=2, out_dir=str(out), max_steps=5)
    assert isinstance(reports[-1], FinishedReport) and reports[-1].steps == 5  # stopped in epoch 3
    r = TrainingRun(None, data, load_checkpoint(out).config.replace(max_steps=None), resume=str(out))
    reports = list(r.reports())
    assert isinstance(reports[-1], FinishedReport) and reports[-1].epochs_done == 3


def test_unknown_node_is_one_error_naming_it():
    _, reports = run(tiny_graph(classes=4), random_dataset(classes=4), freeze=["until:stage9"])
    assert isinstance(reports[-1], FailedReport) and reports[-1].kind == "config"
    assert "'stage9', which is no node of this network" in reports[-1].reason and "stage1" in reports[-1].reason


def test_stratified_subset_keeps_each_class_share():
    data = random_dataset(n_train=400, classes=4, seed=3)
    small = stratified_subset(data, 40, seed=0)
    full = torch.bincount(data.y_train, minlength=4).float() / 400
    counts = torch.bincount(small.y_train, minlength=4)
    assert int(counts.sum()) == 40 and ((counts.float() - 40 * full).abs() < 1).all()
    assert torch.equal(small.x_val, data.x_val)
    _, reports = run(tiny_graph(classes=4), data, train_samples=40)
    assert started(reports).train_samples == 40


def test_cli_fine_tunes_a_run_folder_and_info_shows_provenance(source_run, tmp_path, capsys):
    graph_file = tmp_path / "tiny10.json"
    save_graph(tiny_graph(classes=10), graph_file)
    out = tmp_path / "ft"
    assert main(["train", "--init-from", str(source_run), "--dataset", "digits", "--train-samples", "50",
                 "--freeze", "until:stage1", "--lr-mult", "classifier=2", "--max-steps", "2", "--out", str(out),
                 "--json"]) == 0
    err = capsys.readouterr().err
    assert "notice: initialised from" in err and "re-initialised classifier" in err
    assert "notice: frozen: stem_conv, stem_bn, stem_relu, stage1" in err
    assert main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "weights: from" in text and "loaded: stem_conv, stem_bn, stage1" in text
    assert "re-initialised: classifier" in text and "frozen: stem_conv, stem_bn, stem_relu, stage1" in text
    assert "classifier ×2" in text and "training samples: 50" in text
    assert main(["info", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["provenance"]["frozen"][-1] == "stage1"
    assert main(["info", str(source_run)]) == 0
    assert "no provenance.json" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--freeze", "until:nope"], "'nope', which is no node"),
    (["--lr-mult", "classifier"], "--lr-mult 'classifier' must look like NODE=FACTOR"),
    (["--lr-mult", "classifier=0"], "learning-rate multipliers must map node ids to factors in (0, 1000]"),
    (["--unfreeze-at", "3"], "unfreeze at needs something frozen"),
    (["--init-from", "nowhere.pth"], "nowhere.pth"),
])
def test_cli_bad_fine_tuning_options_are_one_error_line(argv, message, tmp_path, capsys):
    graph_file = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=10), graph_file)
    assert main(["train", str(graph_file), "--max-steps", "1", *argv]) != 0
    err = capsys.readouterr().err
    assert message in err and err.startswith("error:") and "Traceback" not in err
