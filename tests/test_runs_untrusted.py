"""Run files from disk are untrusted: one damaged file is skipped with a notice naming it, and every good
run is still listed (hypothesis puts bad values inside nested fields too)."""
import json

from hypothesis import given, strategies as st

from explorer.runs import LayerSeries, RunRecord, RunStore

BAD_VALUES = st.one_of(st.none(), st.booleans(), st.text(max_size=5), st.lists(st.integers(), max_size=3),
                       st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
                       st.sampled_from([float("nan"), float("inf"), -1e308 * 10, 10 ** 400]))


def _good() -> dict:
    rec = RunRecord("resnet20 #1", "resnet20", "digits", {"lr": 0.1}, "{}")
    rec.metric("train_loss").extend([0, 1, 2], [2.3, 1.0, 0.5])
    rec.layers = LayerSeries(["a", "b"])
    rec.layers.append(0, [0.1, 0.2])
    rec.status, rec.final = "finished", {"final_val_acc": 0.9}
    return rec.to_dict()


def test_each_kind_of_damage_named_in_the_report_skips_only_that_file(tmp_path):
    store = RunStore(tmp_path)
    good = RunRecord.from_dict(_good())
    store.save(good)
    damaged = {"list.run.json": [], "null.run.json": None,
               "series-list.run.json": {**_good(), "id": "s1", "series": [[0, 1]]},
               "created-text.run.json": {**_good(), "id": "c1", "created": "yesterday"},
               "layers-short.run.json": {**_good(), "id": "l1", "layers": {"keys": ["a"], "steps": [0, 1],
                                                                          "log10": [[0.0]]}}}
    for name, content in damaged.items():
        (tmp_path / name).write_text(json.dumps(content))
    runs, problems = store.load_all()
    assert [r.id for r in runs] == [good.id]
    assert sorted(p.split(" ")[0] for p in problems) == sorted(damaged)
    assert all("skipped" in p for p in problems)


@given(path=st.sampled_from([("name",), ("created",), ("status",), ("final", "final_val_acc"), ("series",),
                             ("series", "train_loss"), ("series", "train_loss", "x"), ("layers",),
                             ("layers", "keys"), ("layers", "log10"), ("config",), ("id",), ("version",)]),
       value=BAD_VALUES)
def test_a_bad_value_anywhere_gives_a_clean_refusal_or_a_valid_record(path, value):
    d = _good()
    target = d
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    try:
        rec = RunRecord.from_dict(json.loads(json.dumps(d)))
    except ValueError as e:  # UntrustedInputError is a ValueError
        assert str(e)
    else:
        assert isinstance(rec.name, str) and isinstance(rec.created, float)
