"""File ▸ Export Code…: the generated module is shown read-only and highlighted, and saved atomically
where the user says; an invalid network is a dialog, not a traceback."""
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialogButtonBox, QMenu

from explorer.ui.export_code_dialog import ExportCodeDialog


def _file_menu(w) -> QMenu:
    return next(a.menu() for a in w.menuBar().actions() if a.menu() is not None and a.text() == "&File")


def _click_export_code(qtbot, w) -> None:
    """Open the File menu and click Export Code… with the mouse."""
    menu = _file_menu(w)
    action = next(a for a in menu.actions() if a.text().startswith("Export &Code"))
    menu.popup(w.mapToGlobal(w.rect().center()))
    qtbot.waitUntil(menu.isVisible)
    QTest.mouseClick(menu, Qt.LeftButton, pos=menu.actionGeometry(action).center())


def _dialog(qtbot, w) -> ExportCodeDialog:
    _click_export_code(qtbot, w)
    qtbot.waitUntil(lambda: w.findChild(ExportCodeDialog) is not None)
    dialog = w.findChild(ExportCodeDialog)
    qtbot.waitExposed(dialog)
    return dialog


def test_export_code_shows_the_module_and_saves_it(make_window, qtbot, tmp_path):
    w = make_window()
    dialog = _dialog(qtbot, w)
    text = dialog.view.toPlainText()
    assert dialog.view.isReadOnly()
    assert "import torch" in text and "def build(num_classes=" in text and "class " in text
    QTest.keyClicks(dialog.view, "typed")  # read-only: typing changes nothing
    assert dialog.view.toPlainText() == text
    line = next(b for b in _blocks(dialog.view.document()) if b.text().startswith("class "))
    qtbot.waitUntil(lambda: bool(line.layout().formats()))  # the highlighter runs once the view is shown
    docstring = next(b for b in _blocks(dialog.view.document()) if b.text().startswith("It needs torch"))
    assert docstring.layout().formats(), "lines inside a docstring are highlighted as a string"

    target = tmp_path / "net.py"
    w.dialogs.paths = [str(target)]
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.Save), Qt.LeftButton)
    assert target.read_text() == text
    asked, start = w.dialogs.asked[-1][:2]
    assert asked == "save_path" and start.endswith(".py")
    qtbot.waitUntil(lambda: w.findChild(ExportCodeDialog) is None or not w.findChild(ExportCodeDialog).isVisible())


def test_cancelled_save_keeps_the_dialog_and_writes_nothing(make_window, qtbot, tmp_path):
    w = make_window()
    dialog = _dialog(qtbot, w)
    w.dialogs.paths = [""]  # the user cancels the file dialog
    QTest.mouseClick(dialog.buttons.button(QDialogButtonBox.Save), Qt.LeftButton)
    assert dialog.isVisible() and not list(tmp_path.glob("*.py"))
    QTest.keyClick(dialog, Qt.Key_Escape)
    assert not dialog.isVisible()


def test_an_invalid_network_is_a_dialog(make_window, qtbot):
    w = make_window()
    graph = w.document.graph
    out = graph.nodes_with_role("output")[0]
    graph.disconnect(graph.inputs_of(out)[0], out)  # the network now has no result
    _click_export_code(qtbot, w)
    qtbot.waitUntil(lambda: bool(w.dialogs.asked))
    assert w.findChild(ExportCodeDialog) is None
    title, text = w.dialogs.asked[-1][1:]
    assert title == "Cannot export code" and "not valid" in text


def _blocks(document):
    block = document.begin()
    while block.isValid():
        yield block
        block = block.next()
