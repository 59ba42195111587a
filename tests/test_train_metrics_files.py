"""layer_stats.csv says which units were frozen, and a resumed run keeps the columns its file began with."""
import csv

import numpy as np

from explorer.train.metrics import LAYER_FIELDS, MetricsWriter
from explorer.train.reports import LayerStatsReport


def _report(step, frozen):
    v = np.array([1.0, 2.0])
    return LayerStatsReport(step, 1, ["a", "b"], ["a", "b"], v, v, v, np.array([np.nan, 3.0]),
                            frozen=np.array(frozen))


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_layer_stats_mark_frozen_units(tmp_path):
    MetricsWriter(tmp_path).layers(_report(1, [True, False]))
    header, *rows = _rows(tmp_path / "layer_stats.csv")
    assert header == list(LAYER_FIELDS) and header[-1] == "frozen"
    assert [r[-1] for r in rows] == ["1", "0"] and rows[0][header.index("output_grad_norm")] == "nan"


def test_a_file_from_before_the_frozen_column_keeps_its_header(tmp_path):
    old = list(LAYER_FIELDS[:-1])
    (tmp_path / "layer_stats.csv").write_text(",".join(old) + "\n1,1,a,a,1,1,1,1\n", encoding="utf-8")
    MetricsWriter(tmp_path).layers(_report(2, [False, False]))
    header, *rows = _rows(tmp_path / "layer_stats.csv")
    assert header == old and all(len(r) == len(old) for r in rows) and [r[0] for r in rows] == ["1", "2", "2"]
