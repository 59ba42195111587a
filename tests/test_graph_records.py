"""Graph.from_records, the batch constructor a file load uses, against the interactive path (add_node and
connect one call at a time): the same graph, or the same errors for the same records, with the node named."""
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import explorer.blocks  # noqa: F401  (registers the block types)
from explorer.graph.catalog import UnknownBlockError
from explorer.graph.fileio import FileFormatError, loads_graph
from explorer.graph.model import Graph, GraphError, RecordsError
from explorer.graph.params import ParamError
from explorer.network.inference import analyze

IDS = ["a", "b", "c", "d", "e", "9bad", "x y"]
TYPES = ["input", "output", "activation", "batchnorm", "add", "concat", "conv2d", "basic", "nosuch"]
PARAMS = [{}, {"channels": 4}, {"channels": "four"}, {"nosuch": 1}, {"kind": "relu"}, {"kind": "nope"},
          {"shape": [1, 4, 4]}, {"shape": [1, -4]}]

node_records = st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(TYPES), st.sampled_from(PARAMS),
                                  st.sampled_from([1, 2, 0, 1001, True])), max_size=7)
edge_records = st.lists(st.tuples(st.sampled_from(IDS + ["ghost"]), st.sampled_from(IDS + ["ghost"]),
                                  st.integers(-2, 2)), max_size=10)


def interactive(nodes, edges):
    """What a person (or the old file reader) gets calling the edit methods one record at a time."""
    g, problems, refused = Graph(), [], set()
    for i, nid, typ, params, pos, repeat in nodes:
        try:
            g.add_node(typ, params, node_id=nid, pos=pos, repeat=repeat)
        except (GraphError, ParamError, UnknownBlockError) as e:
            problems.append(("node", i, type(e), str(e), getattr(e, "node_id", None)))
            refused.add(nid)
    for i, src, dst, order in edges:
        if src in refused or dst in refused:
            continue
        try:
            g.connect(src, dst, order=order, check_cycle=False)
        except GraphError as e:
            problems.append(("edge", i, type(e), str(e), e.node_id))
    return g, problems


def batch(nodes, edges):
    try:
        return Graph.from_records(nodes, edges, limit=1000), []
    except RecordsError as e:
        return None, [(p.kind, p.index, type(p.error), str(p.error), getattr(p.error, "node_id", None))
                      for p in e.problems]


@settings(max_examples=150, deadline=None)
@given(node_records, edge_records)
def test_the_batch_constructor_agrees_with_the_edit_methods(raw_nodes, raw_edges):
    nodes = [(i, nid, typ, dict(params), (float(i), 0.0), repeat)
             for i, (nid, typ, params, repeat) in enumerate(raw_nodes)]
    edges = [(i, *e) for i, e in enumerate(raw_edges)]
    one_by_one, expected = interactive(nodes, edges)
    built, found = batch(nodes, edges)
    assert found == expected
    if not expected:
        assert built.same_as(one_by_one) and built.edges == one_by_one.edges
        assert all(built.in_edges(n) == one_by_one.in_edges(n) for n in built.nodes)  # input order kept
        assert built.topological_order() == one_by_one.topological_order()
        assert built.find_cycle() == one_by_one.find_cycle()
        assert all(built.params_key(n) == one_by_one.params_key(n) for n in built.nodes)


def test_a_bad_file_names_the_node_as_before():
    d = {"format": "residual-explorer-graph", "version": 1, "nodes": [
        {"id": "input", "type": "input", "params": {"shape": [1, 8, 8]}},
        {"id": "act", "type": "activation", "params": {"kind": "nope"}},
        {"id": "bn", "type": "batchnorm"}, {"id": "out", "type": "output"}],
        "edges": [{"from": "input", "to": "bn"}, {"from": "bn", "to": "act"}, {"from": "bn", "to": "ghost"},
                  {"from": "input", "to": "bn"}, {"from": "out", "to": "bn"}]}
    with pytest.raises(FileFormatError) as e:
        loads_graph(json.dumps(d))
    problems = e.value.problems
    assert problems[0].startswith("graph: node 'act' (activation): ")
    assert problems[1:] == ["graph: edge #3 refers to a missing node 'ghost'",
                            "graph: edge input → bn: 'input' is already connected to 'bn'",
                            "graph: edge out → bn: 'out' (Output) has no output to connect from"]


def test_changing_a_parameter_changes_its_key_and_the_analysis():
    sys.path.insert(0, str(Path(__file__).parent))
    from test_graph_untrusted import chain
    g = loads_graph(json.dumps(chain(6, reverse=True)))
    assert g.params_key("n1") == g.params_key("n3")  # one key per distinct parameter set
    before = g.params_key("n1")
    g.set_param("n1", "kind", "tanh")
    assert g.params_key("n1") != before and g.params_key("n3") == before
    assert analyze(g).valid


def test_the_graph_scale_benchmark_prints_every_phase_and_the_growth(capsys):
    from explorer.benchmarks import graph_scale
    assert graph_scale.main(["--sizes", "200,20,100", "--json"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert set(r["growth_vs_linear"]) == set(r["last_step_growth_vs_linear"]) == set(graph_scale.PHASES)
    assert [row["nodes"] for row in r["sizes"]] == [22, 102, 202]   # sorted, with Input and Output
    assert all(row[k] >= 0 for row in r["sizes"] for k in graph_scale.PHASES)
    assert graph_scale.main(["--sizes", "ten"]) == 2
