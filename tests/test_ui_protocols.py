"""The window's side of issue 21: the lesion view marks downsampling blocks (their branch dropped, their
shortcut kept) and names the split; gradient flow's Branch start choice reaches the measurement."""
import numpy as np
import pytest
import torch
from PySide6.QtCore import Qt

from explorer.analysis.control import quiet
from explorer.presets import build_preset
from explorer.ui.analysis.gradflow import GradFlowTool, compute
from explorer.ui.analysis.lesion import LesionView


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


def lesion_result():
    blocks = [{"node": "stage1", "unit": "stage1[0]", "acc": 0.9, "downsampling": False},
              {"node": "stage2", "unit": "stage2[0]", "acc": 0.7, "downsampling": True},
              {"node": "stage2", "unit": "stage2[1]", "acc": 0.95, "downsampling": False}]
    return {"residual": {"label": "net", "baseline_acc": 0.96, "blocks": blocks, "skipped": [], "random": []},
            "plain": None, "split": "test", "verdict": "v"}


def test_the_lesion_view_marks_downsampling_blocks_and_names_the_split(qapp):
    view = LesionView()
    view.show_result(lesion_result())
    ticks = view.ticks["residual"].labels
    assert ticks == ["stage1[0]", "stage2[0] ↓", "stage2[1]"]
    x, y = view.down_marks["residual"].getData()
    assert list(x) == [1] and y[0] == pytest.approx(0.76)
    assert "test split" in view.block_plots["residual"].toolTip()  # the whole title; a narrow plot cuts the shown one
    assert any("shortcut kept" in text for _, _, text in view.row.legend.entries)
    header, rows = view.table()
    assert [r[2] for r in rows] == ["baseline", "block", "downsampling block", "block"]
    view.clear()
    assert len(view.down_marks["residual"].getData()[0]) == 0


def test_a_result_without_the_new_fields_still_draws(qapp):
    result = lesion_result()
    for b in result["residual"]["blocks"]:
        del b["downsampling"]
    del result["split"]
    view = LesionView()
    view.show_result(result)
    assert view.ticks["residual"].labels == ["stage1[0]", "stage2[0]", "stage2[1]"]
    assert "validation split" in view.block_plots["residual"].toolTip()


def test_branch_start_reaches_the_gradient_flow_measurement(qtbot):
    from PySide6.QtWidgets import QFormLayout, QWidget

    tool = GradFlowTool()
    host = QWidget()
    tool.build_options(QFormLayout(host))
    qtbot.addWidget(host)
    assert [tool.init.itemData(i) for i in range(tool.init.count())] == ["default", "zero_gamma", "skipinit", "fixup"]
    tool.init.setFocus()
    qtbot.keyClick(tool.init, Qt.Key.Key_End)   # the last choice: Fixup
    assert tool.init.currentData() == "fixup"
    graph = build_preset("resnet20", input_shape=(1, 8, 8))
    fixup = compute(graph, "digits", 16, 0, quiet(), tool.init.currentData())
    default = compute(graph, "digits", 16, 0, quiet())
    assert fixup["init"] == "fixup" and default["init"] == "default"

    def stage1(rows):  # the stem's output and every stage1 block's: one tensor's gradient when branches are 0
        return np.array([r["grad_norm"] for r in rows if r["node"] in ("stem_conv", "stage1")])
    assert np.allclose(stage1(fixup["without_bn"]["residual"]), stage1(fixup["without_bn"]["residual"])[0])
    assert not np.allclose(stage1(default["without_bn"]["residual"]), stage1(default["without_bn"]["residual"])[0])
    assert default["without_bn"]["plain"] == fixup["without_bn"]["plain"]  # the twin keeps its start


def test_the_paths_view_draws_the_spread_and_the_fitted_slope(qapp):
    from explorer.analysis.paths import PathProfile, path_counts
    from explorer.ui.analysis.paths import PathsView

    raw = np.array([[1.0, 1.0], [0.5, 0.6], [0.25, 0.2], [0.12, 0.13]])
    prof = PathProfile(3, ["a", "b", "c"], [], path_counts(3), raw.mean(1), 2, raw.std(1), raw, 8, "trained")
    view = PathsView()
    view.show_result(prof.to_json() | {"label": "net", "verdict": "v"})
    x, y = view.fit_line.getData()
    slope = prof.slope()[0]
    assert len(x) == 4 and y[1] - y[0] == pytest.approx(slope)  # the plot holds log10 values (log y)
    assert len(view.spread[0].getData()[0]) == 4 and any("per extra branch" in t for _, _, t in view.row.legend.entries)
    assert view.table()[0][4] == "grad_spread"
    old = prof.to_json()
    for key in ("slope_log10_per_length", "fit_log10_at_length_0"):
        del old[key]
    for row in old["lengths"]:
        del row["grad_spread"]
    view.show_result(old | {"label": "net"})   # a result saved before these fields draws without them
    assert len(view.fit_line.getData()[0] if view.fit_line.getData()[0] is not None else []) == 0
