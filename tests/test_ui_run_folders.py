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
