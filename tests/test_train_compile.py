"""--compile: compiling is its own phase before the first compiled step, statistics steps run the eager module,
and a compiler that fails leaves one warning and an eager run that still trains."""
import pytest
import torch

from explorer.cli import main
from explorer.graph.fileio import save_graph
from explorer.train import FinishedReport, LayerStatsReport, StatusReport, StepReport, TrainConfig, run_training
from explorer.train.testing import random_dataset, tiny_graph

FAST = dict(epochs=1, batch_size=32, lr=0.1, log_every=2, stats_every=4, warmup_epochs=0, validate=False)


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


@pytest.fixture(scope="module")
def data():
    return random_dataset(n_train=128, n_val=32)


def failing_compile(*args, **kwargs):
    raise RuntimeError("no C++ compiler found\nlong details the user does not need")


def test_a_failing_compiler_gives_one_warning_and_the_run_trains_eagerly(data, monkeypatch):
    monkeypatch.setattr(torch, "compile", failing_compile)
    reports = list(run_training(tiny_graph(), data, TrainConfig(**FAST, compile=True)))
    status = [r for r in reports if isinstance(r, StatusReport)]
    assert [s.state for s in status] == ["compiling", "eager"]
    assert status[0].step == 1  # step 0 samples statistics (eager anyway): the first compiled step is step 1
    assert status[0].detail.startswith("compiling, ~") and status[0].seconds > 0
    assert "--compile failed (RuntimeError: no C++ compiler found)" in status[1].detail
    assert "eager" in status[1].detail and "long details" not in status[1].detail
    assert reports.index(status[0]) < reports.index(next(r for r in reports if isinstance(r, StepReport)))
    fin = reports[-1]
    assert isinstance(fin, FinishedReport) and fin.status == "completed" and fin.steps == 4
    assert sum(isinstance(r, LayerStatsReport) for r in reports) == 1


def test_the_practice_step_leaves_no_trace(data, monkeypatch):
    """Compiling runs a practice forward and backward; with a stand-in compiler (the module itself) the run
    must end exactly where the same run without --compile ends."""
    monkeypatch.setattr(torch, "compile", lambda module, **kw: module)
    runs = {}
    for flag in (False, True):
        run_reports = list(run_training(tiny_graph(), data, TrainConfig(**FAST, compile=flag)))
        runs[flag] = run_reports[-1].final_train_loss
        assert [r.state for r in run_reports if isinstance(r, StatusReport)] == (["compiling", "compiled"] if flag
                                                                                 else [])
    assert runs[True] == runs[False]


def test_train_cli_prints_the_compiling_phase_and_one_warning(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(torch, "compile", failing_compile)
    path = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=10), path)
    assert main(["train", str(path), "--dataset", "digits", "--epochs", "1", "--max-steps", "3", "--compile",
                 "--json"]) == 0
    err = capsys.readouterr().err
    assert "compiling, ~" in err
    assert err.count("warning: --compile failed (RuntimeError: no C++ compiler found)") == 1


def test_one_real_compile_trains_the_steps_without_statistics(data):
    """The one test that runs the compiler (tens of seconds): a tiny network, batches of 32 at 1×8×8."""
    reports = list(run_training(tiny_graph(blocks=1), data, TrainConfig(**FAST, compile=True)))
    status = [r for r in reports if isinstance(r, StatusReport)]
    assert [s.state for s in status] == ["compiling", "compiled"], status
    assert status[1].seconds > 0 and status[1].detail.startswith("compiled in ")
    fin = reports[-1]
    assert isinstance(fin, FinishedReport) and fin.status == "completed"
    assert fin.final_train_loss == fin.final_train_loss  # not NaN
    assert sum(isinstance(r, LayerStatsReport) for r in reports) == 1  # the statistics step ran eagerly, hooks and all
