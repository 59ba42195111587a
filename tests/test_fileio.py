"""The graph file format: exact round trips, clear refusals, nothing executed."""
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.compile import compile_graph
from explorer.graph.fileio import FORMAT, MAX_BYTES, FileFormatError, dumps_graph, load_graph, loads_graph, save_graph
from explorer.network.inference import analyze
from explorer.presets import build_preset, list_presets

EXAMPLES = sorted((Path(__file__).parent.parent / "resources" / "examples").glob("*.json"))


@pytest.mark.parametrize("name", [p.name for p in list_presets()])
def test_presets_round_trip_exactly(name):
    g = build_preset(name)
    text = dumps_graph(g)
    g2 = loads_graph(text)
    assert g2.same_as(g)
    assert dumps_graph(g2) == text


def test_examples_exist_for_every_family():
    types = {n["type"] for f in EXAMPLES for n in json.loads(f.read_text())["nodes"]}
    assert {"plain", "basic", "bottleneck", "preact", "wide", "resnext", "dense", "transition", "dual_path",
            "weighted", "highway", "add"} <= types
    assert any(n.get("params", {}).get("se_reduction") for f in EXAMPLES for n in json.loads(f.read_text())["nodes"])


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_are_valid_and_compile(path):
    g = load_graph(path)
    a = analyze(g)
    assert a.valid and not a.problems, [p.text for p in a.problems]
    m = compile_graph(g, a)
    assert sum(p.numel() for p in m.parameters()) == a.total.params


def test_save_is_atomic_and_leaves_no_temp(tmp_path, monkeypatch):
    g = build_preset("resnet20")
    target = tmp_path / "net.json"
    target.write_text("old content")
    import explorer.graph.fileio as fio

    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(fio.os, "fsync", boom)
    with pytest.raises(OSError):
        save_graph(g, target)
    assert target.read_text() == "old content"
    assert [p.name for p in tmp_path.iterdir()] == ["net.json"]
    monkeypatch.undo()
    save_graph(g, target)
    assert load_graph(target).same_as(g)


def good_dict():
    return json.loads(dumps_graph(build_preset("resnet20")))


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.update(version=99), "newer Residual Explorer"),
    (lambda d: d.update(version="1"), "version"),
    (lambda d: d.update(format="something-else"), "not a Residual Explorer graph"),
    (lambda d: d.pop("nodes"), "missing 'nodes'"),
    (lambda d: d["nodes"][1].update(type="teleporter"), "unknown block type 'teleporter'"),
    (lambda d: d["nodes"][1]["params"].update(out_channels="lots"), "whole number"),
    (lambda d: d["nodes"][1].update(pos="here"), "'pos' must be two numbers"),
    (lambda d: d["edges"].append({"from": "output", "to": "input"}), "has no output"),
    (lambda d: d["edges"].append({"from": "ghost", "to": "input"}), "missing node 'ghost'"),
    (lambda d: d["edges"].append({"from": "classifier", "to": "stem_conv"}), "takes one input"),
    (lambda d: d.update(edges=[e for e in d["edges"] if e["to"] != "stem_conv"]
                        + [{"from": "classifier", "to": "stem_conv"}]), "part of a cycle"),
    (lambda d: d["nodes"].append(dict(d["nodes"][1])), "already exists"),
])
def test_bad_content_is_refused_with_a_reason(mutate, message):
    d = good_dict()
    mutate(d)
    with pytest.raises(FileFormatError, match=message):
        loads_graph(json.dumps(d))


def test_non_json_truncated_binary_and_huge(tmp_path):
    text = dumps_graph(build_preset("resnet20"))
    with pytest.raises(FileFormatError, match="truncated"):
        loads_graph(text[: len(text) // 2])
    with pytest.raises(FileFormatError, match="not a text file"):
        loads_graph(b"\x89PNG\r\n\x1a\n\xff\xfe")
    with pytest.raises(FileFormatError, match="JSON object"):
        loads_graph("[1, 2, 3]")
    with pytest.raises(FileFormatError, match="nested too deeply|not valid JSON"):
        loads_graph("[" * 100000)
    big = tmp_path / "big.json"
    with open(big, "wb") as f:
        f.seek(MAX_BYTES + 1)
        f.write(b" ")
    with pytest.raises(FileFormatError, match="too large"):
        load_graph(big)
    with pytest.raises(FileFormatError, match="cannot read"):
        load_graph(tmp_path / "missing.json")


def test_code_in_a_file_is_data_not_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = f"__import__('os').system('touch {marker}')"
    d = good_dict()
    d["name"] = payload
    g = loads_graph(json.dumps(d))  # a name is only text: it loads, and nothing runs
    assert g.name == payload and not marker.exists()
    d["nodes"][1]["id"] = f"x; {payload}"
    with pytest.raises(FileFormatError, match="letters, digits"):
        loads_graph(json.dumps(d))
    assert not marker.exists()


@given(st.data())
def test_random_corruptions_fail_cleanly_or_load(data):
    text = dumps_graph(build_preset("resnet20"))
    kind = data.draw(st.sampled_from(["truncate", "flip", "insert", "json"]))
    if kind == "truncate":
        text = text[: data.draw(st.integers(0, len(text) - 1))]
    elif kind == "flip":
        i = data.draw(st.integers(0, len(text) - 1))
        text = text[:i] + data.draw(st.characters()) + text[i + 1:]
    elif kind == "insert":
        i = data.draw(st.integers(0, len(text)))
        text = text[:i] + data.draw(st.text(max_size=5)) + text[i:]
    else:
        d = json.loads(text)
        node = data.draw(st.sampled_from(d["nodes"]))
        key = data.draw(st.sampled_from(["id", "type", "params", "pos", "repeat"]))
        node[key] = data.draw(st.one_of(st.none(), st.integers(-5, 10 ** 6), st.text(max_size=8),
                                        st.lists(st.integers(), max_size=3), st.booleans(), st.floats()))
        text = json.dumps(d)
    try:
        g = loads_graph(text)
    except FileFormatError as e:
        assert str(e)
        return
    analyze(g)  # a graph that loads can always be analysed (invalid is fine, a crash is not)


def test_format_name_is_written():
    assert json.loads(dumps_graph(build_preset("resnet20")))["format"] == FORMAT
