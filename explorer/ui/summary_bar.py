"""The summary bar: total parameters, MACs, depth (weight layers), output shape, valid or not."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from explorer.graph import fmt_shape
from explorer.ui.canvas.node_item import human
from explorer.ui.problems import count_text


class SummaryBar(QWidget):
    def __init__(self, analysis, dataset: str = "", parent=None):
        super().__init__(parent)
        self.fields: dict[str, QLabel] = {}
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 0, 6, 0)
        lay.setSpacing(18)
        for key, tip in (("params", "trainable parameters"), ("macs", "multiply-accumulates for one sample"),
                         ("depth", "weight layers (conv + linear): the depth papers count"),
                         ("input", "input shape (C×H×W)"), ("output", "output shape"),
                         ("data", "the data set the network is set up for"), ("status", "")):
            label = QLabel()
            label.setToolTip(tip)
            label.setObjectName(f"summary_{key}")
            label.setTextFormat(Qt.RichText)
            self.fields[key] = label
            lay.addWidget(label)
        lay.addStretch(1)
        self.dataset = dataset
        analysis.updated.connect(self.show_analysis)
        self.show_analysis(analysis.result)

    def text(self, key: str) -> str:
        return self.fields[key].text()

    def show_analysis(self, a) -> None:
        t = a.total
        values = {
            "params": f"<b>{human(t.params)}</b> params",
            "macs": f"<b>{human(t.macs)}</b> MACs",
            "depth": f"depth <b>{t.weight_layers}</b>",
            "input": f"in <b>{fmt_shape(a.input_shape)}</b>",
            "output": f"out <b>{fmt_shape(a.output_shape)}</b>",
            "data": f"data <b>{self.dataset}</b>" if self.dataset else "",
        }
        errors = len(a.errors)
        warnings = len(a.problems) - errors   # the Problems panel lists both, so both are counted here
        if errors:
            values["status"] = f"<span style='color:#d93025'><b>✗ invalid</b> — {count_text(errors, warnings)}</span>"
        else:
            values["status"] = "<span style='color:#188038'><b>✓ valid</b></span>" + (
                f" <span style='color:#e37400'>({count_text(0, warnings)})</span>" if warnings else "")
        for key, text in values.items():
            if self.fields[key].text() != text:
                self.fields[key].setText(text)
        self.fields["params"].setToolTip(f"{t.params:,} trainable parameters")
        self.fields["macs"].setToolTip(f"{t.macs:,} multiply-accumulates for one sample")
