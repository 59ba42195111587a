"""Files from the window: save/open round trip, a corrupt file, unsaved changes, recent files, dropping
a file on the window, autosave and recovery after a crash."""
import json

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6 import QtWidgets
from PySide6.QtWidgets import QApplication

from explorer.graph.fileio import load_graph
from explorer.ui import commands

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _edit(w):
    commands.execute(w.document.stack, commands.SetParam(w.document.graph, "stem_conv", "out_channels", 20))


def test_save_then_open_round_trip(make_window, tmp_path):
    w = make_window()
    _edit(w)
    original = w.document.graph.copy()
    path = tmp_path / "net.json"
    w.dialogs.paths = [str(path)]
    QTest.keyClick(w, Qt.Key_S, Qt.ControlModifier)  # no file yet: Save asks where (Save As)
    assert path.exists() and not w.document.dirty and w.windowTitle().startswith("net.json")
    assert not list(tmp_path.glob(".net.json.*"))  # the atomic save left no temporary file
    assert load_graph(path).same_as(original)
    QTest.keyClick(w, Qt.Key_N, Qt.ControlModifier)
    assert len(w.document.graph) == 2 and w.document.path is None
    w.dialogs.paths = [str(path)]
    QTest.keyClick(w, Qt.Key_O, Qt.ControlModifier)
    assert w.document.graph.same_as(original) and w.document.path == path.resolve()
    assert set(w.scene.nodes) == set(original.nodes)
    assert w.document.stack.count() == 0 and not w.document.dirty
    assert str(path.resolve()) == w.document.recent_files()[0]
    assert w.files.recent_menu.actions()[0].text() == "net.json"


def test_corrupt_file_shows_error_and_keeps_the_open_graph(make_window, tmp_path):
    w = make_window()
    _edit(w)
    before = w.document.graph.copy()
    bad = tmp_path / "broken.json"
    bad.write_text('{"format": "residual-explorer-graph", "version": 1, "nodes": [ {"id": "a", "type": ')
    assert not w.files.open_path(str(bad))
    errors = [q for q in w.dialogs.asked if q[0] == "error"]
    assert len(errors) == 1 and "not valid JSON" in errors[0][2] and "was not changed" in errors[0][2]
    assert w.document.graph.same_as(before) and w.document.dirty and w.document.path is None
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": "residual-explorer-graph", "version": 1,
                                 "nodes": [{"id": "x", "type": "warp_drive"}], "edges": []}))
    assert not w.files.open_path(str(wrong))
    assert "warp_drive" in w.dialogs.asked[-1][2]
    assert w.document.graph.same_as(before)


def test_unsaved_changes_are_asked_about_on_close(make_window):
    w = make_window()
    _edit(w)
    w.dialogs.save_answer = "cancel"
    assert not w.close()  # cancelled: the window stays
    assert w.isVisible() and ("save_changes", "resnet20_digits") in w.dialogs.asked
    w.dialogs.save_answer = "discard"
    assert w.close()


def test_opening_a_preset_asks_about_unsaved_changes(make_window):
    w = make_window()
    _edit(w)
    w.dialogs.save_answer = "cancel"
    assert not w.files.open_preset("resnet56")
    assert w.document.graph.node("stem_conv").params["out_channels"] == 20
    w.dialogs.save_answer = "discard"
    assert w.files.open_preset("resnet56") and w.document.graph.node("stage1").repeat == 9


def test_drop_a_graph_file_on_the_window_opens_it(make_window, tmp_path):
    w = make_window()
    from explorer.graph.fileio import save_graph
    from explorer.presets import build_preset

    path = tmp_path / "plain.json"
    save_graph(build_preset("plain20"), path)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    vp = w.view.viewport()
    enter = QDragEnterEvent(QPoint(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    QApplication.sendEvent(vp, QDropEvent(QPointF(200, 200), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
    QApplication.processEvents()
    assert w.document.path == path.resolve() and w.document.graph.node("stage1").type == "plain"


def test_autosave_and_recovery_after_a_crash(make_window, tmp_path, monkeypatch):
    w = make_window()
    _edit(w)
    assert w.document.autosave.write_now()
    recovery = w.document.autosave.file
    assert recovery.exists() and load_graph(recovery).node("stem_conv").params["out_channels"] == 20
    # pretend the process that wrote it has died, and a new window starts
    dead = recovery.with_name("autosave-999999.json")
    recovery.rename(dead)
    recovery.with_suffix(".meta").rename(dead.with_suffix(".meta"))
    monkeypatch.delenv("RESIDUAL_EXPLORER_NO_AUTOSAVE_PROMPT", raising=False)
    w2 = make_window()
    assert w2.files.offer_recovery()
    assert w2.document.graph.node("stem_conv").params["out_channels"] == 20 and w2.document.dirty
    assert not dead.exists()
    # a clean save removes this window's own recovery file
    _edit(w2)
    w2.document.autosave.write_now()
    assert w2.document.autosave.file.exists()
    w2.dialogs.paths = [str(tmp_path / "kept.json")]
    assert w2.files.save_graph()
    assert not w2.document.autosave.file.exists()


def test_save_error_says_what_to_do(make_window, tmp_path):
    w = make_window()
    w.dialogs.paths = [str(tmp_path / "missing-folder" / "x.json")]
    assert not w.files.save_graph_as()
    title, text = w.dialogs.asked[-1][1:]
    assert title == "Cannot save" and "Save As" in text


def _big_file_mode(w):
    w.files.background_bytes = 0  # every file counts as large: the worker-thread path, on a tiny file


def test_large_file_opens_in_a_worker_behind_a_progress_dialog(make_window, qtbot, tmp_path):
    from explorer.graph.fileio import save_graph
    from explorer.presets import build_preset

    w = make_window()
    _big_file_mode(w)
    path = tmp_path / "plain.json"
    save_graph(build_preset("plain20"), path)
    with qtbot.waitSignal(w.files.openFinished, timeout=30_000) as done:
        assert w.files.open_path(str(path)) is None  # going on in the background
        assert w.files.progress is not None and w.files.progress.isVisible()
    assert done.args == [str(path), True]
    assert w.files.progress is None
    assert w.document.path == path.resolve() and w.document.graph.node("stage1").type == "plain"
    assert set(w.scene.nodes) == set(w.document.graph.nodes)


def test_cancelling_a_large_open_keeps_the_open_graph(make_window, qtbot, tmp_path):
    from PySide6.QtWidgets import QPushButton

    from explorer.graph.fileio import save_graph
    from explorer.presets import build_preset

    w = make_window()
    _edit(w)
    before = w.document.graph.copy()
    _big_file_mode(w)
    path = tmp_path / "plain.json"
    save_graph(build_preset("plain20"), path)
    with qtbot.waitSignal(w.files.openFinished, timeout=30_000) as done:
        w.files.open_path(str(path))
        QTest.mouseClick(w.files.progress.findChild(QPushButton), Qt.LeftButton)
        assert w.files.progress is None  # the dialog went at once; the thread finishes on its own
    assert done.args == [str(path), False]
    assert w.document.graph.same_as(before) and w.document.dirty and w.document.path is None
    assert not [q for q in w.dialogs.asked if q[0] == "error"]


@pytest.mark.parametrize("background", [False, True], ids=["small", "large"])
def test_bad_numbers_in_a_file_show_a_dialog_and_change_nothing(make_window, qtbot, tmp_path, background):
    from explorer.graph.fileio import dumps_graph

    w = make_window()
    _edit(w)
    before = w.document.graph.copy()
    if background:
        _big_file_mode(w)
    text = dumps_graph(before).replace('"out_channels": 20', '"out_channels": 1e400')
    assert "1e400" in text
    bad = tmp_path / "huge.json"
    bad.write_text(text)
    with qtbot.waitSignal(w.files.openFinished, timeout=30_000) as done:
        w.files.open_path(str(bad))
    assert done.args == [str(bad), False]
    errors = [q for q in w.dialogs.asked if q[0] == "error"]
    assert len(errors) == 1 and "stem_conv" in errors[0][2] and "out_channels" in errors[0][2]
    assert "was not changed" in errors[0][2]
    assert w.document.graph.same_as(before) and w.document.dirty


def test_inspector_warns_when_training_would_not_fit_in_memory(make_window, qtbot, tmp_path, monkeypatch):
    import explorer.ui.inspector as inspector
    from explorer.graph.fileio import dumps_graph
    from explorer.graph.model import MAX_REPEAT
    from explorer.presets import build_preset

    monkeypatch.setattr(inspector, "machine_bytes", lambda: 2 ** 20)  # a 1 MiB machine: ResNet-20 cannot fit
    path = tmp_path / "net.json"
    path.write_text(dumps_graph(build_preset("resnet20", input_shape=(1, 8, 8))))
    w = make_window()
    assert w.files.open_path(str(path))
    w.scene.select_node("stem_conv")
    qtbot.waitUntil(lambda: "needs about" in w.inspector.shapes.text(), timeout=10_000)
    assert "more than the 1.0 MB available" in w.inspector.shapes.text()
    stage = next(n.id for n in w.document.graph.nodes.values() if n.repeat > 1)
    w.scene.select_node(stage)
    assert w.inspector.findChild(QtWidgets.QSpinBox, "param_repeat").maximum() == MAX_REPEAT


@pytest.mark.parametrize("background", [False, True])
def test_a_file_without_positions_opens_laid_out_not_as_one_pile(make_window, qtbot, tmp_path, background):
    """A graph file written by a script has no "pos": opened, it is laid out (in the background too) before
    its items are made, and the document is as saved (nothing to save)."""
    from explorer.benchmarks.graph_scale import chain
    from explorer.graph.layout import layered_positions, suggest_wrap

    w = make_window()
    if background:
        _big_file_mode(w)
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(chain(60)), encoding="utf-8")
    with qtbot.waitSignal(w.files.openFinished, timeout=30_000) as done:
        w.files.open_path(str(path))
    assert done.args == [str(path), True]
    items = {nid: (item.pos().x(), item.pos().y()) for nid, item in w.scene.nodes.items()}
    assert len(set(items.values())) == len(items) == 62          # every node in a place of its own
    graph = w.document.graph
    assert items == layered_positions(graph, graph.direction, suggest_wrap(graph, w.files.layout_hint()[1]))
    assert not w.document.dirty
