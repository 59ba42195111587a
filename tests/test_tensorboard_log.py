"""TensorBoard logs (`train --tensorboard DIR`, the window's option): event files that TensorBoard's own
reader reads back with the run's loss, accuracy, learning rate and per-layer gradient norms by stage; a
missing package is one error line."""
import importlib.util

import pytest

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

from explorer.cli import main  # noqa: E402
from explorer.graph.fileio import save_graph  # noqa: E402
from explorer.train import LayerStatsReport, StepReport, TrainConfig, run_training  # noqa: E402
from explorer.train.tensorboard_log import TensorBoardLog, stage_groups  # noqa: E402
from explorer.train.testing import random_dataset, tiny_graph  # noqa: E402


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


def read_scalars(folder) -> dict[str, list[tuple[int, float]]]:
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})  # 0: keep every point
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_a_run_reads_back_from_its_event_files(tmp_path):
    cfg = TrainConfig(epochs=2, batch_size=32, log_every=1, stats_every=2, device="cpu")
    steps, stats = [], []
    with TensorBoardLog(tmp_path / "tb") as log:
        for r in run_training(tiny_graph(), random_dataset(), cfg):
            log.add(r)
            if isinstance(r, StepReport):
                steps.append(r)
            elif isinstance(r, LayerStatsReport):
                stats.append(r)
    scalars = read_scalars(tmp_path / "tb")

    assert [s for s, _ in scalars["train/loss"]] == [r.step for r in steps]
    assert [v for _, v in scalars["train/loss"]] == pytest.approx([r.loss for r in steps], rel=1e-6)
    assert [v for _, v in scalars["train/learning_rate"]] == pytest.approx([r.lr for r in steps], rel=1e-6)
    assert scalars["train/loss"][-1][1] < scalars["train/loss"][0][1]
    assert len(scalars["epoch/val_accuracy"]) == 2 and 0 <= scalars["epoch/val_accuracy"][-1][1] <= 1
    # one card group per stage: the stem, each repetition of the stage, the classifier
    assert len(stats) == 4
    for row, tag in enumerate(("grad_norm_stem/stem_conv", "grad_norm_stem/stem_bn", "grad_norm_stage1/stage1[0]",
                               "grad_norm_stage1/stage1[1]", "grad_norm_head/classifier")):
        assert stats[0].keys[row] == tag.split("/")[1]
        assert scalars[tag] == [(r.step, pytest.approx(float(r.grad_norm[row]), rel=1e-6)) for r in stats]


def test_stages_group_their_units():
    keys = ["stem_conv", "stage1[0]", "stage1[1]", "transition1", "stage2[0]", "classifier"]
    nodes = ["stem_conv", "stage1", "stage1", "transition1", "stage2", "classifier"]
    assert stage_groups(keys, nodes) == ["stem", "stage1", "stage1", "stage1", "stage2", "head"]
    assert stage_groups(["conv", "fc"], ["conv", "fc"]) == ["layers", "layers"]


def test_train_tensorboard_writes_beside_the_csv(tmp_path, capsys):
    graph = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=10), graph)
    out, tb = tmp_path / "run", tmp_path / "run" / "tensorboard"
    assert main(["train", str(graph), "--dataset", "digits", "--max-steps", "4", "--log-every", "2",
                 "--out", str(out), "--tensorboard", str(tb)]) == 0
    assert (out / "steps.csv").exists()
    scalars = read_scalars(tb)
    assert [s for s, _ in scalars["train/loss"]] == [2, 4]
    assert {"train/accuracy", "train/learning_rate", "grad_norm_stage1/stage1[0]"} <= set(scalars)


def test_missing_tensorboard_is_one_error_line(tmp_path, capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "tensorboard" else real(name, *a))
    assert main(["train", "resnet20", "--max-steps", "1", "--tensorboard", str(tmp_path / "tb")]) != 0
    err = capsys.readouterr().err
    assert "error: TensorBoard logs need the tensorboard package: pip install 'residual-explorer[tensorboard]'" in err
    assert "Traceback" not in err and not (tmp_path / "tb").exists()


def test_the_window_option_logs_each_run_in_a_folder_of_its_own(training_window, qtbot, tmp_path):
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtTest import QTest

    mw, dock = training_window()
    form = dock.form

    def click_checkbox():  # on its box: a form row stretches the widget beyond its label
        QTest.mouseClick(form.tensorboard, Qt.MouseButton.LeftButton, pos=QPoint(6, form.tensorboard.height() // 2))

    form.epochs.setValue(1)
    form.batch_size.setValue(512)    # 1,438 digits -> 3 steps
    form.log_every.setValue(1)
    form.stats_every.setValue(1)
    assert not form.tensorboard_row.isVisible()
    click_checkbox()
    assert form.tensorboard.isChecked() and form.tensorboard_row.isVisible()
    assert "choose the folder for the TensorBoard logs" in form.problem()
    QTest.keyClicks(form.tensorboard_path, str(tmp_path / "tb"))
    assert dock.controller.session.tensorboard_dir == str(tmp_path / "tb") and form.problem() is None

    with qtbot.waitSignal(dock.runFinished, timeout=60_000) as done:
        QTest.mouseClick(dock.train_button, Qt.MouseButton.LeftButton)
    (rid,) = done.args
    assert dock.controller.record(rid).status == "finished"
    (run_dir,) = (tmp_path / "tb").iterdir()
    assert run_dir.name == f"tiny_res-{rid[:8]}"
    scalars = read_scalars(run_dir)
    assert [s for s, _ in scalars["train/loss"]] == [1, 2, 3]
    assert len(scalars["grad_norm_stage1/stage1[1]"]) == 3 and "epoch/val_accuracy" in scalars

    click_checkbox()   # off again: nothing more is written
    assert form.tensorboard_dir() == "" and dock.controller.session.tensorboard_dir == ""


def test_the_window_option_says_what_to_install(training_window, monkeypatch):
    import explorer.ui.training.settings_form as settings_form

    mw, dock = training_window()
    monkeypatch.setattr(settings_form, "tensorboard_missing", lambda: "TensorBoard logs need the tensorboard package")
    dock.form.tensorboard.setChecked(True)
    dock.form.tensorboard_path.setText("/tmp/anywhere")
    assert dock.train() is None
    assert "TensorBoard logs need the tensorboard package" in dock.banner.text()
