"""Property tests: random valid graphs compile, and run to exactly the inferred shape and cost."""
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.blocks import get_block
from explorer.blocks.base import run_block
from explorer.compile import compile_graph
from explorer.graph import Graph, ShapeError
from explorer.network.inference import analyze

SMALL = st.integers(1, 12)
STEPS = st.one_of(
    st.tuples(st.just("conv2d"), st.fixed_dictionaries({"out_channels": SMALL, "kernel_size": st.sampled_from([1, 3, 5]),
                                                         "stride": st.integers(1, 2), "groups": st.integers(1, 3)})),
    st.tuples(st.just("batchnorm"), st.just({})),
    st.tuples(st.just("activation"), st.fixed_dictionaries({"kind": st.sampled_from(["relu", "tanh", "silu"])})),
    st.tuples(st.just("maxpool"), st.fixed_dictionaries({"kernel_size": st.integers(1, 3)})),
    st.tuples(st.just("basic"), st.fixed_dictionaries({"channels": SMALL, "stride": st.integers(1, 2),
                                                       "shortcut": st.sampled_from(["auto", "zero_pad", "projection"]),
                                                       "se_reduction": st.integers(0, 4)})),
    st.tuples(st.just("bottleneck"), st.fixed_dictionaries({"width": SMALL, "out_channels": SMALL, "stride": st.integers(1, 2)})),
    st.tuples(st.just("preact"), st.fixed_dictionaries({"out_channels": SMALL, "variant": st.sampled_from(["basic", "bottleneck"])})),
    st.tuples(st.just("dense"), st.fixed_dictionaries({"growth_rate": st.integers(1, 4), "layers": st.integers(1, 3)})),
    st.tuples(st.just("transition"), st.just({})),
    st.tuples(st.just("dual_path"), st.fixed_dictionaries({"residual_channels": SMALL, "increment": st.integers(1, 4),
                                                           "width": st.integers(1, 4), "groups": st.just(1)})),
    st.tuples(st.just("highway"), st.fixed_dictionaries({"channels": SMALL, "shortcut": st.just("projection")})),
    st.tuples(st.just("weighted"), st.fixed_dictionaries({"channels": SMALL, "shortcut": st.just("projection")})),
    st.tuples(st.just("skip_add"), st.integers(0, 50)),
    st.tuples(st.just("skip_concat"), st.integers(0, 50)),
)


@st.composite
def random_graphs(draw):
    g = Graph()
    shape = (draw(st.integers(1, 4)), draw(st.integers(4, 12)), draw(st.integers(4, 12)))
    cur = g.add_node("input", {"shape": list(shape)})
    shapes = {cur: shape}
    for kind, params in draw(st.lists(STEPS, min_size=1, max_size=7)):
        if kind.startswith("skip_"):
            # A skip edge from an earlier node of a compatible shape: the shortcut made by hand.
            earlier = [n for n in shapes if n != cur and (shapes[n] == shapes[cur] if kind == "skip_add"
                                                          else shapes[n][1:] == shapes[cur][1:])]
            if not earlier:
                continue
            src = earlier[params % len(earlier)]
            typ = "add" if kind == "skip_add" else "concat"
            ins = [cur, src]
        else:
            typ, ins = kind, [cur]
        repeat = 2 if get_block(typ).repeatable and draw(st.booleans()) else 1
        try:
            out, _ = run_block(get_block(typ), get_block(typ).params.complete(typ, params if isinstance(params, dict) else {}),
                               repeat, [shapes[i] for i in ins])
        except ShapeError:
            continue
        nid = g.add_node(typ, params if isinstance(params, dict) else {}, repeat=repeat)
        for i in ins:
            g.connect(i, nid)
        shapes[nid] = out
        cur = nid
    pool = g.add_node("global_avgpool")
    g.connect(cur, pool)
    flat, lin, out = g.add_node("flatten"), g.add_node("linear", {"out_features": 3}), g.add_node("output")
    g.connect(pool, flat)
    g.connect(flat, lin)
    g.connect(lin, out)
    return g


@settings(max_examples=30, deadline=None)
@given(random_graphs())
def test_random_valid_graphs_compile_and_run_to_the_inferred_shape(g):
    a = analyze(g)
    assert a.valid, [p.text for p in a.problems]
    m = compile_graph(g, a)
    assert sum(p.numel() for p in m.parameters()) == a.total.params
    out = m(torch.randn(2, *a.input_shape))
    assert tuple(out.shape[1:]) == a.output_shape == (3,)
    out.sum().backward()  # gradients reach every parameter through the graph
    assert all(p.grad is not None for p in m.parameters())
