"""Checkpoints load with weights_only=True and resume bit for bit, at an epoch boundary or mid-epoch."""
import pytest
import torch

from explorer.graph.fileio import loads_graph
from explorer.train import (CheckpointError, EpochReport, FinishedReport, StepReport, TrainConfig, TrainControl,
                            load_checkpoint, load_model, run_training)
from explorer.train.testing import random_dataset, tiny_graph

# Dropout, augmentation and momentum: every source of state a resume must restore.
CFG = dict(epochs=3, batch_size=32, lr=0.1, log_every=1, stats_every=3, crop_padding=1, flip=True, seed=7)


@pytest.fixture(scope="module")
def data():
    return random_dataset(n_train=128, n_val=32)


def graph():
    return tiny_graph(dropout=0.3)


def run(data, out, stop_at=None, resume=None, **changes):
    control = TrainControl()
    reports = []
    cfg = None if resume else TrainConfig(**{**CFG, "out_dir": str(out), **changes})
    for r in run_training(None if resume else graph(), data, cfg, control, resume=resume):
        reports.append(r)
        if stop_at is not None and isinstance(r, StepReport) and r.step == stop_at:
            control.stop()
        if stop_at == "epoch" and isinstance(r, EpochReport):
            control.stop()  # after the epoch's validation: stops before the next epoch's first step
    return reports


def weights(path):
    return torch.load(path, map_location="cpu", weights_only=True)["model"]


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    return out, run(data, out)


@pytest.mark.parametrize("stop_at, steps", [("epoch", 4), (6, 6)], ids=["epoch-boundary", "mid-epoch"])
def test_resume_continues_bit_for_bit(data, tmp_path, uninterrupted, stop_at, steps):
    full_dir, full = uninterrupted
    first = run(data, tmp_path, stop_at=stop_at)
    assert first[-1].status == "stopped" and first[-1].steps == steps
    ckpt = load_checkpoint(tmp_path / "last.pt")
    assert ckpt.step == steps and ckpt.batch == steps % 4
    second = run(data, tmp_path, resume=tmp_path / "last.pt")
    assert second[0].start_step == steps
    fin_full, fin = full[-1], second[-1]
    assert isinstance(fin, FinishedReport) and fin.status == "completed" and fin.steps == 12
    a, b = weights(full_dir / "last.pt"), weights(tmp_path / "last.pt")
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    assert fin.history == [{**h, "samples_per_s": fin.history[i]["samples_per_s"],
                            "seconds": fin.history[i]["seconds"]} for i, h in enumerate(fin_full.history)]
    epochs_full = [(r.train_loss, r.val_loss, r.val_acc) for r in full if isinstance(r, EpochReport)]
    epochs_resumed = [(r.train_loss, r.val_loss, r.val_acc) for r in first + second if isinstance(r, EpochReport)]
    assert epochs_full == epochs_resumed


def test_checkpoint_holds_weights_graph_and_config_and_loads_weights_only(uninterrupted):
    out, reports = uninterrupted
    raw = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
    assert raw["format"] == "residual-explorer-checkpoint" and raw["version"] == 1
    assert loads_graph(raw["graph"]).same_as(graph())
    assert raw["config"]["lr"] == 0.1 and raw["config"]["seed"] == 7
    ckpt = load_checkpoint(out)  # a run folder means its last.pt
    assert ckpt.epoch == 3 and ckpt.step == 12 and len(ckpt.history) == 3
    assert ckpt.data["input_shape"] == [1, 8, 8] and ckpt.data["num_classes"] == 4
    best = load_checkpoint(out / "best.pt")
    assert best.best_epoch == best.epoch and best.best_val_acc == max(h["val_acc"] for h in ckpt.history)
    model, g = load_model(out / "best.pt")
    assert not model.training and g.node("classifier").params["out_features"] == 4


def test_resuming_a_finished_run_with_more_epochs_trains_on(data, tmp_path):
    run(data, tmp_path, epochs=1)
    ckpt = load_checkpoint(tmp_path / "last.pt")
    reports = list(run_training(None, data, ckpt.config.replace(epochs=2), resume=ckpt))
    assert reports[0].start_epoch == 1 and reports[-1].epochs_done == 2 and reports[-1].steps == 8


@pytest.mark.parametrize("content, words", [(b"not a checkpoint", "not a readable checkpoint"),
                                            (None, "no such checkpoint")])
def test_bad_checkpoint_files_are_refused_with_a_reason(tmp_path, content, words):
    path = tmp_path / "x.pt"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=words):
        load_checkpoint(path)
    (r,) = run_training(None, random_dataset(), None, resume=path)
    assert r.kind == "checkpoint" and words in r.reason


class _Payload:
    """Unpickling this would create the marker file: the proof that a load ran code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickled_object_in_a_checkpoint_is_refused(tmp_path):
    path, marker = tmp_path / "evil.pt", tmp_path / "ran"
    torch.save({"format": "residual-explorer-checkpoint", "version": 1, "graph": _Payload(marker)}, path)
    torch.load(path, weights_only=False)["graph"].close()  # the payload works: an unsafe load runs it
    assert marker.exists()
    marker.unlink()
    with pytest.raises(CheckpointError):
        load_checkpoint(path)
    assert not marker.exists()


def test_checkpoint_of_another_data_set_does_not_fit(data, tmp_path):
    run(data, tmp_path, epochs=1)
    other = random_dataset(64, 16, classes=6)
    (r,) = [r for r in run_training(None, other, None, resume=tmp_path / "last.pt")]
    assert r.kind == "checkpoint" and "does not fit" in r.reason
