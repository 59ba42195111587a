"""Fitting an architecture to a data set: Input shape and classifier outputs, on a copy, with notices."""
import subprocess
import sys

from explorer.blocks.builder import Builder
from explorer.network.adapt import adapt_to_data, find_classifier
from explorer.network.inference import analyze
from explorer.presets import build_preset


def test_resnet20_fits_the_digits_with_one_notice():
    g = build_preset("resnet20")
    out, notices = adapt_to_data(g, (1, 8, 8), 10)
    assert notices == ["input 3×32×32 → 1×8×8"]
    a = analyze(out)
    assert a.valid and a.input_shape == (1, 8, 8) and a.output_shape == (10,)
    assert analyze(g).input_shape == (3, 32, 32)  # the original is untouched


def test_classifier_gets_the_number_of_classes():
    out, notices = adapt_to_data(build_preset("resnet20"), (3, 32, 32), 8)
    assert notices == ["classifier 'classifier' 10 → 8 outputs"]
    assert analyze(out).output_shape == (8,)


def test_nothing_to_change_gives_no_notice():
    g = build_preset("resnet20")
    out, notices = adapt_to_data(g, (3, 32, 32), 10)
    assert notices == [] and out.same_as(g) and out is not g


def conv_classifier_graph():
    b = Builder("allconv")
    x = b.input([3, 16, 16])
    y = b.act(b.conv(x, 16))
    y = b.conv(y, 10, k=1, node_id="score", groups=2)
    y = b.add("global_avgpool", y)
    b.output(b.add("flatten", y))
    return b.finish().graph


def test_a_1x1_conv_classifier_is_found_through_pooling_and_flatten():
    g = conv_classifier_graph()
    assert find_classifier(g) == "score"
    out, notices = adapt_to_data(g, (1, 8, 8), 7)
    assert analyze(out).valid and analyze(out).output_shape == (7,)
    assert notices == ["input 3×16×16 → 1×8×8", "classifier 'score' 10 → 7 outputs"]


def test_no_classifier_is_reported_not_invented():
    b = Builder("headless")
    x = b.input([3, 8, 8])
    b.output(b.add("add", b.conv(x, 3), x))
    out, notices = adapt_to_data(b.finish().graph, (3, 8, 8), 10)
    assert len(notices) == 1 and "could not find a classifier" in notices[0]


def test_the_graph_layer_imports_no_torch():
    code = "import sys, explorer.network.adapt; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
