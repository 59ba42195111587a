"""Checkpoints from disk are untrusted: every damaged field is one CheckpointError naming it (never a
traceback, never silently accepted), write failures name the last good file, and a resumed run writes
only where the user said."""
import json
import shutil

import pytest
import torch

from explorer.train import CheckpointError, StepReport, TrainConfig, TrainControl, load_checkpoint, run_training
from explorer.train.checkpoint import CheckpointWriteError, save_checkpoint
from explorer.train.testing import tiny_graph


@pytest.fixture(scope="module")
def mid_epoch(tmp_path_factory):
    """A real run folder stopped mid-epoch (so 'order' and 'epoch_sums' are in use)."""
    from explorer.data.registry import load_dataset

    out = tmp_path_factory.mktemp("run")
    control = TrainControl()
    cfg = TrainConfig(epochs=1, batch_size=256, lr=0.1, log_every=1, stats_every=0, seed=3, out_dir=str(out))
    for r in run_training(tiny_graph(classes=10), load_dataset("digits"), cfg, control):
        if isinstance(r, StepReport) and r.step == 2:
            control.stop()
    return out


def _payload(folder):
    return torch.load(folder / "last.pt", map_location="cpu", weights_only=True)


DAMAGE = {
    "epoch_sums short": lambda d: d.update(epoch_sums=[1.0]),
    "epoch_sums text": lambda d: d.update(epoch_sums="lots"),
    "rng garbage": lambda d: d["rng"].update(torch=torch.zeros(7, dtype=torch.uint8)),
    "param_groups not a list": lambda d: d["optimizer"].update(param_groups={"lr": 1}),
    "order float": lambda d: d.update(order=d["order"].float()),
    "order short": lambda d: d.update(order=d["order"][:3]),
    "epoch inf": lambda d: d.update(epoch=float("inf")),
    "epoch huge": lambda d: d.update(epoch=10**9),
    "step negative": lambda d: d.update(step=-5),
    "history of ints": lambda d: d.update(history=[1, 2, 3]),
    "graph not text": lambda d: d.update(graph=7),
    "model not tensors": lambda d: d.update(model={"w": [1, 2]}),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_each_damaged_field_is_one_clear_error(mid_epoch, tmp_path, damage):
    d = _payload(mid_epoch)
    DAMAGE[damage](d)
    torch.save(d, tmp_path / "last.pt")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path / "last.pt")
    text = str(e.value)
    assert "damaged checkpoint" in text or "not" in text
    assert "weights_only=False" not in text and "\n" not in text


def test_a_foreign_pickle_is_refused_without_advice_to_run_its_code(tmp_path):
    class Payload:
        def __reduce__(self):
            return (print, ("ran",))

    torch.save({"format": "residual-explorer-checkpoint", "x": Payload()}, tmp_path / "evil.pt")
    with pytest.raises(CheckpointError) as e:
        load_checkpoint(tmp_path / "evil.pt")
    assert "weights_only" not in str(e.value) and "not written by Residual Explorer" in str(e.value)


def test_a_failed_write_keeps_the_last_good_checkpoint_and_says_so(mid_epoch, tmp_path, monkeypatch):
    good = tmp_path / "last.pt"
    shutil.copy(mid_epoch / "last.pt", good)
    ckpt = load_checkpoint(good)
    gone = int(open("/proc/sys/kernel/pid_max").read()) + 1  # no process has this pid
    (tmp_path / f".last.pt.{gone}-stale123.tmp").write_bytes(b"left by a killed run")

    def full_disk(*a, **k):
        raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(CheckpointWriteError, match="unchanged"):
        save_checkpoint(ckpt, good)
    monkeypatch.undo()
    assert load_checkpoint(good).step == ckpt.step
    assert not list(tmp_path.glob(".last.pt.*.tmp"))  # the stale one was cleaned, and ours too


def test_resume_writes_only_into_the_folder_the_user_named(mid_epoch, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(mid_epoch, copy)
    before = (mid_epoch / "last.pt").read_bytes()
    config = json.loads((mid_epoch / "config.json").read_text())
    assert config["out_dir"] == str(mid_epoch)  # the stored path points at the original
    from explorer.cli import main

    assert main(["train", "--resume", str(copy), "--json"]) == 0
    assert (mid_epoch / "last.pt").read_bytes() == before
    assert load_checkpoint(copy / "last.pt").epoch == 1  # the copy was continued to the end


def test_a_disk_that_fills_up_during_training_stops_the_run_naming_the_last_good_checkpoint(tmp_path, monkeypatch):
    from explorer.train import FailedReport
    from explorer.train.testing import random_dataset

    real_save, calls = torch.save, []

    def fills_up(obj, f, *a, **k):
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("[enforce fail at inline_container.cc:664] . unexpected pos 64 vs 0")
        return real_save(obj, f, *a, **k)

    monkeypatch.setattr(torch, "save", fills_up)
    cfg = TrainConfig(epochs=3, batch_size=32, lr=0.05, log_every=1, stats_every=0, seed=1, out_dir=str(tmp_path))
    reports = list(run_training(tiny_graph(), random_dataset(n_train=64, n_val=16), cfg, TrainControl()))
    final = reports[-1]
    assert isinstance(final, FailedReport) and final.kind == "checkpoint"
    assert str(tmp_path / "last.pt") in final.text and "unexpected pos" in final.text
    monkeypatch.undo()
    assert load_checkpoint(tmp_path / "last.pt").epoch == 1
