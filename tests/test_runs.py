"""Run records and bounded metric buffers."""
import numpy as np
import pytest

from explorer.runs import LayerSeries, RunRecord, RunStore, Series


def test_series_keeps_memory_bounded_with_uniform_resolution():
    s = Series(capacity=64)
    for i in range(10_000):
        s.append(i, 2.0 * i)
        assert len(s) <= 65
    assert np.all(np.diff(s.x) > 0)
    assert s.x[0] < 200 and s.x[-1] > 9_700  # the whole history, start to now
    assert np.allclose(s.y, 2 * s.x)          # bucket means of a line lie on the line
    widths = np.diff(s.x[:-1])
    assert np.allclose(widths, widths[0])      # one resolution everywhere


def test_series_shows_the_open_bucket():
    s = Series(capacity=4)
    for i in range(5):
        s.append(i, i)
    # 4 samples filled the buffer -> merged to 2 buckets of stride 2; sample 4 sits in an open bucket.
    assert s.stride == 2 and list(s.x) == [0.5, 2.5, 4.0]


def test_layer_series_stores_log_and_merges_geometrically():
    ls = LayerSeries(["a", "b"], capacity=4)
    for i in range(4):
        ls.append(i, [10.0 ** (i % 2), 1.0])
    assert list(ls.steps) == [0.5, 2.5]
    assert ls.log10[0, 0] == pytest.approx(0.5)  # geometric mean of 1 and 10
    assert ls.latest() == pytest.approx([10 ** 0.5, 1.0])
    with pytest.raises(ValueError):
        ls.append(9, [1.0])


def test_store_round_trip_and_skips_bad_files(tmp_path):
    store = RunStore(tmp_path / "runs")
    rec = RunRecord("resnet20 #1", "resnet20", "digits", {"lr": 0.1}, "{}")
    for i in range(5):
        rec.metric("train_loss").append(i, 1.0 / (i + 1))
    rec.layers = LayerSeries(["stage1[0]", "stage1[1]"])
    rec.layers.append(0, [0.1, 0.2])
    rec.status, rec.final = "finished", {"final_val_acc": 0.95}
    store.save(rec)
    (tmp_path / "runs" / "junk.run.json").write_text("{not json")
    runs, problems = store.load_all()
    assert len(runs) == 1 and len(problems) == 1 and "junk" in problems[0]
    back = runs[0]
    assert back.final == {"final_val_acc": 0.95} and back.status == "finished"
    assert np.allclose(back.series["train_loss"].y, rec.series["train_loss"].y)
    assert back.layers.keys == ["stage1[0]", "stage1[1]"]
    assert np.allclose(back.layers.latest(), [0.1, 0.2], rtol=1e-3)
    store.delete(back.id)
    runs, problems = store.load_all()
    assert runs == [] and len(problems) == 1
