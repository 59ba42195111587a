"""A new analysis tool is its options table, its compute function and its view: the base builds the form, reads
the values in the GUI thread, runs compute in the worker and draws the result, through real clicks and keys."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from explorer.ui.analysis.tool import Tool, ToolView, check, choice, line, spin

SEEN: list[dict] = []


def count_nodes(target, control, repeats: int, twice: bool, mode: str, note: str) -> dict:
    """The tool's work: runs in the worker with plain values only."""
    SEEN.append({"repeats": repeats, "twice": twice, "mode": mode, "note": note})
    n = len(target.load_graph()) * repeats * (2 if twice else 1)
    return {"verdict": f"{n} nodes counted ({mode}, {note})", "n": n}


class CountView(ToolView):
    def __init__(self):
        super().__init__()
        self.label = QLabel()
        self.fill(self.label)

    def show_result(self, result: dict) -> None:
        self.label.setText(str(result["n"]))

    def clear(self) -> None:
        self.label.setText("")

    def table(self):
        return ["n"], [[int(self.label.text() or 0)]]


class CountTool(Tool):
    name, title, summary = "count", "Count", "counts the graph's nodes"
    fields = (spin("repeats", "Repeats", 1, 9, 1, "How many times"), check("twice", "Twice"),
              choice("mode", "Mode", (("fast", "Fast"), ("slow", "Slow")), "How"),
              line("note", "Note", "hello", "A note"))
    compute = staticmethod(count_nodes)
    view = CountView


def test_a_tool_from_its_table_runs_with_the_values_set_in_its_form(make_window, qtbot):
    from explorer.ui.analysis.panel import AnalysisPanel

    w = make_window()
    panel = AnalysisPanel(w.document, tools=[CountTool])
    qtbot.addWidget(panel)
    panel.show()
    tool = panel.tool
    assert [tool.form.labelForField(getattr(tool, n)).text() for n in ("repeats", "mode", "note")] == \
        ["Repeats", "Mode", "Note"]
    assert tool.repeats.toolTip() == "How many times" and tool.note.text() == "hello"
    tool.repeats.setFocus()
    qtbot.keyClick(tool.repeats, Qt.Key.Key_Up)        # 1 -> 2
    qtbot.keyClick(tool.repeats, Qt.Key.Key_Up)        # 2 -> 3
    tool.twice.setFocus()
    qtbot.keyClick(tool.twice, Qt.Key.Key_Space)       # ticked
    tool.mode.setFocus()
    qtbot.keyClick(tool.mode, Qt.Key.Key_End)          # Slow
    SEEN.clear()
    with qtbot.waitSignal(panel.resultShown, timeout=30_000):
        qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    assert SEEN == [{"repeats": 3, "twice": True, "mode": "slow", "note": "hello"}]
    n = len(w.document.graph) * 6
    assert panel.view.label.text() == str(n)
    assert panel.verdict.text() == f"{n} nodes counted (slow, hello)"
    assert panel.csv_button.isEnabled() and panel.csv_button.text() == "Save count data (CSV)…"
    assert panel.runner.shutdown()
