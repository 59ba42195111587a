"""Plain twins: same layers, no shortcuts; for residual blocks and for hand-built Add shortcuts."""
from pathlib import Path

from explorer.graph.fileio import load_graph
from explorer.network.inference import analyze
from explorer.network.twins import plain_twin
from explorer.presets import build_preset

EXAMPLES = Path(__file__).parent.parent / "resources" / "examples"


def test_resnet_twin_is_the_plain_network():
    twin, notices = plain_twin(build_preset("resnet56"))
    a, plain = analyze(twin), analyze(build_preset("plain56"))
    assert a.valid
    assert a.total == plain.total
    assert len(notices) == 3 and all("shortcut removed" in n for n in notices)


def test_hand_built_shortcuts_are_removed_with_their_projection():
    g = load_graph(EXAMPLES / "tiny_resnet_primitives.json")
    twin, notices = plain_twin(g)
    a = analyze(twin)
    assert a.valid and not a.problems
    assert not twin.nodes_of_type("add")
    assert "proj_conv" not in twin and "proj_bn" not in twin
    assert twin.inputs_of("relu2") == ["bn2"] and twin.inputs_of("relu3") == ["bn3"]
    assert sorted(notices) == ["projection_add: skip edge from 'proj_bn' removed",
                               "shortcut_add: skip edge from 'stem_relu' removed"]
    # The original is untouched.
    assert len(g.nodes_of_type("add")) == 2


def test_twin_of_projection_blocks_drops_projection_parameters():
    g = build_preset("resnet18")
    twin, _ = plain_twin(g)
    assert analyze(twin).valid
    assert analyze(twin).total.params < analyze(g).total.params
