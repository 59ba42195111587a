"""Untrusted numbers and files in graph files: bad values deep inside params, positions, shapes and edge
orders are refused with a sentence naming the node and field; large graphs load in linear time; training
that cannot fit in memory is refused before anything is allocated."""
import contextlib
import io
import json
import math
import os
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from explorer.cli import main
from explorer.graph.fileio import FileFormatError, dumps_graph, load_graph, loads_graph, to_dict
from explorer.graph.model import MAX_REPEAT, Graph, GraphError
from explorer.graph.params import ParamError
from explorer.network.inference import analyze
from explorer.network.memory import check_fits, estimate, training_problem
from explorer.presets import build_preset

HUGE = "1e400"  # plain JSON that Python reads as float infinity


def cli(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def resnet_dict():
    return json.loads(dumps_graph(build_preset("resnet20")))


def with_raw_number(d, setter, text):
    """``d`` as JSON text with ``text`` (e.g. 1e400, NaN, a 400-digit integer) written literally where
    ``setter`` puts its marker."""
    setter(d, "@@RAW@@")
    return json.dumps(d).replace('"@@RAW@@"', text)


# -- the reported cases, each through the file reader and the command line ------------------------------
BAD_NUMBERS = [HUGE, "-1e400", "NaN", "Infinity", "-Infinity", str(10 ** 30), "9" * 400, "3.5"]


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_bad_integer_parameter_names_node_and_parameter(text):
    raw = with_raw_number(resnet_dict(), lambda d, v: d["nodes"][1]["params"].update(out_channels=v), text)
    with pytest.raises(FileFormatError, match=r"node 'stem_conv' \(conv2d\): 'out_channels' .*between 1 and 8192"):
        loads_graph(raw)


@pytest.mark.parametrize("text", [HUGE, "NaN", "-Infinity"])
def test_bad_float_parameter_is_refused(text):
    d = resnet_dict()
    bn = next(i for i, n in enumerate(d["nodes"]) if n["type"] == "batchnorm")
    raw = with_raw_number(d, lambda d, v: d["nodes"][bn]["params"].update(momentum=v), text)
    with pytest.raises(FileFormatError, match="'momentum' must be a finite number"):
        loads_graph(raw)


@pytest.mark.parametrize("where, message", [
    (lambda d, v: d["nodes"][0]["params"].update(shape=[1, v, 8]), "each entry of 'shape'"),
    (lambda d, v: d["nodes"][1].update(pos=[v, 0]), "'pos' must be two numbers"),
    (lambda d, v: d["edges"][0].update(order=v), "'order' of edge #1"),
    (lambda d, v: d["nodes"][2].update(repeat=v), "repeat of"),
])
@pytest.mark.parametrize("text", [HUGE, "NaN", str(10 ** 30)])
def test_bad_numbers_in_other_nested_fields(where, message, text):
    d = resnet_dict()
    d["nodes"][2]["repeat"] = d["nodes"][2].get("repeat", 1)
    raw = with_raw_number(d, where, text)
    try:
        g = loads_graph(raw)
    except FileFormatError as e:
        assert message in str(e)
        return
    # 10**30 as a position or input size is a number; it must then be refused by validation, not crash it
    assert not analyze(g).valid


def test_param_coerce_uses_the_shared_checks():
    from explorer.graph.catalog import CATALOG
    import explorer.blocks  # noqa: F401 - registers the block types

    p = CATALOG.get("conv2d").params.get("out_channels")
    assert p.coerce(16.0) == 16 and isinstance(p.coerce(16.0), int)
    for bad in (math.inf, math.nan, 10 ** 400, "16", True, None, [16]):
        with pytest.raises(ParamError, match="out_channels"):
            p.coerce(bad)


def test_repeat_has_an_upper_bound():
    g = build_preset("resnet20")
    stage = next(n.id for n in g.nodes.values() if n.repeat > 1)
    g.set_repeat(stage, MAX_REPEAT)
    with pytest.raises(GraphError, match=f"more than the {MAX_REPEAT}"):
        g.set_repeat(stage, 10 ** 7)
    d = resnet_dict()
    next(n for n in d["nodes"] if n["id"] == stage)["repeat"] = 10 ** 7
    with pytest.raises(FileFormatError, match=f"node '{stage}'.*more than the {MAX_REPEAT}"):
        loads_graph(json.dumps(d))


@pytest.mark.parametrize("text", [HUGE, "NaN", str(10 ** 30)])
def test_validate_info_and_train_print_one_error_line(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(with_raw_number(resnet_dict(), lambda d, v: d["nodes"][1]["params"].update(out_channels=v), text))
    for command in (["validate", str(path)], ["info", str(path)], ["train", str(path), "--max-steps", "1"]):
        r = cli(*command)
        lines = r.stderr.strip().splitlines()
        assert r.returncode != 0 and len(lines) == 1 and lines[0].startswith("error: "), (command, r.stderr)
        assert "stem_conv" in lines[0] and "out_channels" in lines[0]


def test_validate_refuses_devices_and_fifos_with_one_line(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    for path in (str(fifo), "/dev/zero", str(tmp_path)):
        r = cli("validate", path)
        lines = r.stderr.strip().splitlines()
        assert r.returncode != 0 and len(lines) == 1 and "not a regular file" in lines[0] or "folder" in lines[0]


# -- hypothesis: bad values anywhere inside the nested fields ---------------------------------------------
BAD_VALUES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=6), st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-10 ** 6, 10 ** 6), st.sampled_from([10 ** 30, -10 ** 30, 2 ** 63, 10 ** 400]),
    st.lists(st.integers(-3, 5), max_size=4), st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))
RAW = st.sampled_from([HUGE, "-1e400", "NaN", "Infinity", "9" * 500, "1e308", "-0.0"])


@given(st.data())
def test_random_bad_values_inside_nested_fields_fail_cleanly_or_load(data):
    d = resnet_dict()
    node = data.draw(st.sampled_from(d["nodes"]))
    target = data.draw(st.sampled_from(["param", "pos", "shape", "order", "repeat"]))
    if target == "param" and node["params"]:
        key = data.draw(st.sampled_from(sorted(node["params"])))
        setter = lambda d, v: node["params"].__setitem__(key, v)  # noqa: E731
    elif target == "pos":
        i = data.draw(st.integers(0, 1))
        setter = lambda d, v: node["pos"].__setitem__(i, v)  # noqa: E731
    elif target == "shape":
        i = data.draw(st.integers(0, 2))
        setter = lambda d, v: d["nodes"][0]["params"].setdefault("shape", [1, 8, 8]).__setitem__(i, v)  # noqa: E731
    elif target == "order":
        edge = data.draw(st.sampled_from(d["edges"]))
        setter = lambda d, v: edge.__setitem__("order", v)  # noqa: E731
    else:
        setter = lambda d, v: node.__setitem__("repeat", v)  # noqa: E731
    if data.draw(st.booleans()):
        text = with_raw_number(d, setter, data.draw(RAW))
    else:
        setter(d, data.draw(BAD_VALUES))
        text = json.dumps(d)
    try:
        g = loads_graph(text)
    except FileFormatError as e:
        assert str(e)
        return
    a = analyze(g)  # a graph that loads can always be analysed (invalid is fine, a crash is not)
    if a.valid:
        assert estimate(a).total >= 0
        check_fits(a, 64, "adam", 1)


# -- large graphs: one linear pass, either edge order -----------------------------------------------------
def chain(n, reverse):
    nodes = [{"id": "input", "type": "input", "params": {"shape": [1, 8, 8]}}]
    nodes += [{"id": f"n{i}", "type": "activation" if i % 2 else "batchnorm"} for i in range(n)]
    nodes.append({"id": "output", "type": "output"})
    ids = [nd["id"] for nd in nodes]
    edges = [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
    return {"format": "residual-explorer-graph", "version": 1, "name": "chain", "nodes": nodes,
            "edges": edges[::-1] if reverse else edges}


def test_a_20k_node_chain_with_reversed_edges_loads_and_validates():
    g = loads_graph(json.dumps(chain(20_000, reverse=True)))
    order = g.topological_order()
    assert order[0] == "input" and order[-1] == "output" and len(order) == 20_002
    a = analyze(g)
    assert a.valid and not a.problems and a.output_shape == (1, 8, 8)


def test_a_cycle_in_a_large_file_is_named():
    d = chain(2_000, reverse=True)
    d["nodes"].insert(1, {"id": "merge", "type": "add"})
    d["edges"] = [e for e in d["edges"] if e["to"] != "n0"]
    d["edges"] += [{"from": "input", "to": "merge"}, {"from": "merge", "to": "n0"}, {"from": "n1999", "to": "merge"}]
    with pytest.raises(FileFormatError, match="part of a cycle"):
        loads_graph(json.dumps(d))


# -- re-saving writes only what differs from the defaults ------------------------------------------------
def test_resave_writes_only_chosen_parameters_and_reads_old_files(tmp_path):
    full = resnet_dict()
    for n in full["nodes"]:  # an old file: every parameter written out
        n["params"] = dict(Graph().catalog.get(n["type"]).params.defaults(), **n["params"])
    old = loads_graph(json.dumps(full))
    slim = to_dict(old)
    assert sum(len(n["params"]) for n in slim["nodes"]) < sum(len(n["params"]) for n in full["nodes"]) / 2
    assert loads_graph(json.dumps(slim)).same_as(old)
    path = tmp_path / "again.json"
    path.write_text(dumps_graph(old))
    assert load_graph(path).same_as(old) and path.stat().st_size < len(json.dumps(full, indent=1))


# -- memory: estimates, the validate warning and the train refusal -----------------------------------------
def big_conv_graph(width=8192, kernel=15, channels=4096):
    d = {"format": "residual-explorer-graph", "version": 1, "name": "wide", "edges": [], "nodes": [
        {"id": "input", "type": "input", "params": {"shape": [3, 8, 8]}},
        {"id": "wide", "type": "conv2d", "params": {"out_channels": channels, "kernel_size": 1}},
        {"id": "big", "type": "conv2d", "params": {"out_channels": width, "kernel_size": kernel}},
        {"id": "pool", "type": "global_avgpool"}, {"id": "flat", "type": "flatten"},
        {"id": "fc", "type": "linear", "params": {"out_features": 10}}, {"id": "output", "type": "output"}]}
    ids = [n["id"] for n in d["nodes"]]
    d["edges"] = [{"from": a, "to": b} for a, b in zip(ids, ids[1:])]
    return d


def test_estimate_counts_weights_gradients_optimizer_state_and_activations():
    a = analyze(build_preset("resnet20", input_shape=(1, 8, 8)))
    sgd, adam = estimate(a, 64, "sgd"), estimate(a, 64, "adam")
    weights = a.total.params * 4
    assert sgd.parameters == sgd.gradients == sgd.optimizer_state == weights
    assert adam.optimizer_state == 2 * weights and adam.total > sgd.total
    assert estimate(a, 128, "sgd").activations == 2 * sgd.activations > 0
    assert check_fits(a, 64, "sgd", 2 ** 40) is None


def test_a_network_too_big_for_memory_is_refused_with_what_to_change():
    a = analyze(loads_graph(json.dumps(big_conv_graph())))
    assert a.valid and a.total.params > 7e9
    text = check_fits(a, 64, "sgd", 16 * 2 ** 30)
    assert "GB" in text and "parameters" in text and "make the network smaller" in text
    small = analyze(loads_graph(json.dumps(big_conv_graph(width=64, kernel=3, channels=64))))
    per_sample = estimate(small, 1).per_sample
    text = check_fits(small, 10_000, "sgd", estimate(small, 100).total)
    assert "--batch-size 100" in text or "--batch-size 99" in text, text
    assert per_sample > 0


def test_validate_warns_and_train_refuses_a_network_that_cannot_fit(tmp_path, monkeypatch):
    import explorer.network.memory as memory

    path = tmp_path / "wide.json"
    path.write_text(json.dumps(big_conv_graph()))
    monkeypatch.setattr(memory, "machine_bytes", lambda: 8 * 2 ** 30)
    monkeypatch.setattr(memory, "device_bytes", lambda device: 8 * 2 ** 30)
    import explorer.cli.validate_cmd as validate_cmd
    monkeypatch.setattr(validate_cmd, "machine_bytes", lambda: 8 * 2 ** 30)
    r = cli("validate", str(path))
    assert r.returncode == 0 and r.stderr.startswith("warning: training this network needs about")
    r = cli("train", str(path), "--device", "cpu", "--max-steps", "1")
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and lines[-1].startswith("error: training this network needs about"), r.stderr
    assert "make the network smaller" in lines[-1]


def test_training_problem_measures_the_network_fitted_to_the_data():
    # 618 G parameters as written, but adapted to 8×8 digits the Flatten → Linear is tiny
    d = {"format": "residual-explorer-graph", "version": 1, "name": "flat", "nodes": [
        {"id": "input", "type": "input", "params": {"shape": [4096, 4096, 4096]}}, {"id": "flat", "type": "flatten"},
        {"id": "fc", "type": "linear", "params": {"out_features": 9}}, {"id": "output", "type": "output"}],
        "edges": [{"from": "input", "to": "flat"}, {"from": "flat", "to": "fc"}, {"from": "fc", "to": "output"}]}
    g = loads_graph(json.dumps(d))
    assert analyze(g).total.params > 6e11
    assert check_fits(analyze(g), 64, "sgd", 2 ** 40) is not None
    assert training_problem(g, (1, 8, 8), 10, 64, "sgd", "cpu") is None


def test_validate_all_lists_every_problem(tmp_path):
    d = resnet_dict()
    d["nodes"][1]["type"] = "conv2dd"
    d["nodes"][2]["params"]["momentum"] = "fast"
    path = tmp_path / "two.json"
    path.write_text(json.dumps(d))
    r = cli("validate", str(path))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and "did you mean 'conv2d'" in lines[0] and "--all" in lines[0]
    r = cli("validate", "--all", str(path))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 3 and "conv2dd" in lines[0] and "momentum" in lines[1]
    d = resnet_dict()
    d["nodes"][1]["params"]["out_channels"] = 0
    d["nodes"][2]["params"]["momentum"] = 5
    path.write_text(json.dumps(d))
    r = cli("validate", "--all", str(path))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 3 and "out_channels" in lines[0] and "momentum" in lines[1]
