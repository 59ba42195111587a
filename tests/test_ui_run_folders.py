"""Runs trained in the window keep their run folder (weights, graph.json, config.json) beside their
record: in a scratch folder until the document is saved, then in ``NAME.runs/<run id>/``, found again
after reopening, and loadable by the analysis tools."""
from pathlib import Path

from explorer.analysis.trained import load_run

TIMEOUT = 60_000


def test_a_window_run_keeps_its_weights_through_save_and_reopen(make_window, qtbot, tmp_path, tiny_graph):
    w = make_window(tiny_graph)
    dock = w.training_dock
    c = dock.controller
    dock.form.epochs.setValue(1)
    dock.form.batch_size.setValue(512)
    with qtbot.waitSignal(dock.runFinished, timeout=TIMEOUT):
        rid = dock.train()
    scratch = Path(c.record(rid).config["out_dir"])
    assert (scratch / "last.pt").is_file()                      # unsaved document: kept in a scratch folder
    w.document.save(tmp_path / "net.json")
    qtbot.waitUntil(lambda: c.store is not None, timeout=2000)
    folder = tmp_path / "net.runs" / rid
    assert c.record(rid).config["out_dir"] == str(folder) and not scratch.exists()   # moved with the record
    assert {"last.pt", "best.pt", "graph.json", "config.json"} <= {p.name for p in folder.iterdir()}
    c.shutdown()                                                # the record is written
    assert w.files.open_path(str(tmp_path / "net.json"), ask=False)
    qtbot.waitUntil(lambda: rid in c.run_ids(), timeout=2000)
    assert c.record(rid).config["out_dir"] == str(folder)
    run = load_run(c.record(rid).config["out_dir"])
    assert run.graph.name == tiny_graph.name and run.dataset == "digits"


# -- the questions asked before a document goes -----------------------------------------------------
def test_stop_training_defaults_to_cancel_when_opening_and_to_stop_when_closing(qtbot):
    from PySide6.QtWidgets import QMessageBox

    from explorer.ui.file_actions import stop_training_box

    box, stop = stop_training_box(None, "net", "open")
    assert box.defaultButton() is box.button(QMessageBox.Cancel) and stop.text() == "Stop and open"
    box, stop = stop_training_box(None, "net", "close")
    assert box.defaultButton() is stop


def test_unsaved_question_is_worded_by_the_action(make_window, tiny_graph):
    from explorer.ui.file_actions import save_changes_box

    w = make_window(tiny_graph)
    w.document.set_graph(tiny_graph.copy(), dirty=True)
    assert w.files.open_preset("resnet56")
    assert w.dialogs.save_action == "opening resnet56"
    assert save_changes_box(None, "net", 0, w.dialogs.save_action).informativeText() == \
        "Save them before opening resnet56?"
    assert "before closing the window?" in save_changes_box(None, "net", 2, "closing the window").informativeText()
