"""Clear answers instead of tracebacks around a training run (issue 17 items 8-10, 12): freezing every node
with weights, naming a node without weights, a TensorBoard folder that cannot be written or a disk that
fills during the run (the run's own files are kept), more training samples than the data set has."""
import errno
import os

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from explorer.cli import main
from explorer.graph.fileio import save_graph
from explorer.train.testing import tiny_graph

WEIGHTED = ["stem_conv", "stem_bn", "stage1", "classifier"]
WEIGHTLESS = ["input", "output", "stem_relu", "pool", "flatten"]


@pytest.fixture(scope="module")
def tiny_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("g") / "tiny.json"
    save_graph(tiny_graph(classes=10), path)
    return path


def _train(tiny_file, *extra):
    return main(["train", str(tiny_file), "--dataset", "digits", "--max-steps", "2", *extra])


def _one_error(capsys) -> str:
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith(("error", "Traceback"))]
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


# -- item 8: nothing left to train -----------------------------------------------------------------------
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.sampled_from(["until:classifier", "until:classifier,classifier",
                             ",".join(WEIGHTED), "until:stage1,classifier"]))
def test_freezing_every_node_with_weights_says_nothing_is_left_to_train(spec, tiny_file, capsys):
    capsys.readouterr()
    assert _train(tiny_file, "--freeze", spec) == 2
    assert "nothing is left to train" in _one_error(capsys)


# -- item 12: a node without weights -----------------------------------------------------------------------
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(node=st.sampled_from(WEIGHTLESS), option=st.sampled_from(["--freeze", "--lr-mult"]))
def test_naming_a_node_without_weights_says_so(node, option, tiny_file, capsys):
    capsys.readouterr()
    value = node if option == "--freeze" else f"{node}=0.1"
    assert _train(tiny_file, option, value) == 2
    line = _one_error(capsys)
    assert f"'{node}'" in line and "without weights" in line and "no node" not in line


def test_a_name_that_is_no_node_still_says_so(tiny_file, capsys):
    assert _train(tiny_file, "--freeze", "stage9") == 2
    assert "no node of this network" in _one_error(capsys)


# -- item 9: TensorBoard folder unwritable, disk full during the run ---------------------------------------
def test_an_unwritable_tensorboard_folder_is_one_error_before_the_run(tiny_file, tmp_path, capsys):
    pytest.importorskip("tensorboard")
    folder = "/sys/kernel"  # exists, and no one (root included) may create files there
    if os.access(folder, os.W_OK) and os.path.exists(os.path.join(folder, "probe")):
        pytest.skip("no unwritable folder on this machine")
    out = tmp_path / "run"
    assert _train(tiny_file, "--tensorboard", folder, "--out", str(out)) == 2
    assert "cannot write TensorBoard logs to /sys/kernel" in _one_error(capsys)


def test_a_full_disk_under_tensorboard_is_one_error_and_the_run_keeps_its_files(tiny_file, tmp_path, capsys,
                                                                                monkeypatch):
    pytest.importorskip("tensorboard")
    from tensorboard.summary.writer import record_writer

    def full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(record_writer.RecordWriter, "write", full)  # runs in the writer's own thread
    out = tmp_path / "run"
    code = main(["train", str(tiny_file), "--dataset", "digits", "--epochs", "2", "--train-samples", "64",
                 "--out", str(out), "--tensorboard", str(tmp_path / "tb")])
    captured = capsys.readouterr()
    assert code == 2 and "Exception in thread" not in captured.err and "Traceback" not in captured.err
    line = _one_error(type("C", (), {"readouterr": lambda self: captured})())
    assert "No space left on device" in line and "kept" in line
    assert (out / "last.pt").is_file() and (out / "metrics.csv").read_text().count("\n") == 3  # header + 2 epochs


# -- item 10: more training samples than there are ---------------------------------------------------------
def test_more_train_samples_than_the_data_set_has_says_it_uses_all(tiny_file, capsys):
    assert _train(tiny_file, "--train-samples", "1000000") == 0
    err = capsys.readouterr().err
    assert "1000000" in err and "training on all of them" in err
