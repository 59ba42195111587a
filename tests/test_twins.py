"""Plain twins: same layers, no shortcuts; for residual blocks and for hand-built Add shortcuts."""
from pathlib import Path

from explorer.graph.fileio import load_graph
from explorer.network.inference import analyze
from explorer.network.twins import KEPT, SHORTCUT_REMOVED, SKIP_EDGE_REMOVED, TwinChange, plain_twin
from explorer.presets import build_preset

EXAMPLES = Path(__file__).parent.parent / "resources" / "examples"


def test_resnet_twin_is_the_plain_network():
    twin, changes = plain_twin(build_preset("resnet56"))
    a, plain = analyze(twin), analyze(build_preset("plain56"))
    assert a.valid
    assert a.total == plain.total
    assert [(c.node_id, c.kind, c.repeat) for c in changes] == [(s, SHORTCUT_REMOVED, 9)
                                                                for s in ("stage1", "stage2", "stage3")]
    assert all(c.removes_shortcut for c in changes)
    assert changes[0].text == "stage1: shortcut removed (Basic residual ×9)"


def test_hand_built_shortcuts_are_removed_with_their_projection():
    g = load_graph(EXAMPLES / "tiny_resnet_primitives.json")
    twin, changes = plain_twin(g)
    a = analyze(twin)
    assert a.valid and not a.problems
    assert not twin.nodes_of_type("add")
    assert "proj_conv" not in twin and "proj_bn" not in twin
    assert twin.inputs_of("relu2") == ["bn2"] and twin.inputs_of("relu3") == ["bn3"]
    assert sorted((c.node_id, c.kind, c.skip_from) for c in changes) == [
        ("projection_add", SKIP_EDGE_REMOVED, "proj_bn"), ("shortcut_add", SKIP_EDGE_REMOVED, "stem_relu")]
    assert sorted(c.text for c in changes) == ["projection_add: skip edge from 'proj_bn' removed",
                                               "shortcut_add: skip edge from 'stem_relu' removed"]
    # The original is untouched.
    assert len(g.nodes_of_type("add")) == 2


def test_twin_of_projection_blocks_drops_projection_parameters():
    g = build_preset("resnet18")
    twin, _ = plain_twin(g)
    assert analyze(twin).valid
    assert analyze(twin).total.params < analyze(g).total.params


def test_blocks_without_a_shortcut_are_kept_with_their_reason():
    twin, changes = plain_twin(build_preset("densenet121"))
    assert changes and all(c.kind == KEPT and not c.removes_shortcut for c in changes)
    assert "concatenations" in changes[0].text and changes[0].node_id in twin


def test_a_network_without_shortcuts_has_an_identical_twin():
    twin, changes = plain_twin(build_preset("plain20"))
    assert changes == []
    assert analyze(twin).total == analyze(build_preset("plain20")).total


def test_changes_are_values():
    a = TwinChange("s", SHORTCUT_REMOVED, block="Basic residual", repeat=2)
    assert a == TwinChange("s", SHORTCUT_REMOVED, block="Basic residual", repeat=2) and hash(a)
    assert a.text == "s: shortcut removed (Basic residual ×2)"
