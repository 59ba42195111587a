"""Presets: published parameter counts, and the compiled module agrees with inference for every preset."""
import pytest
import torch

from explorer.compile import compile_graph
from explorer.network.inference import analyze
from explorer.presets import PresetError, build_preset, list_presets

# Papers' tables and torchvision / timm implementations (exact counts of trainable parameters).
PUBLISHED = {
    "resnet20": 269_722, "resnet32": 464_154, "resnet44": 658_586, "resnet56": 853_018,
    "resnet110": 1_727_962, "resnet1202": 19_421_274,
    "plain20": 269_722, "plain56": 853_018,
    "preact_resnet164": 1_703_258, "wrn28_10": 36_479_194, "densenet_bc100_k12": 769_162,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032, "resnet101": 44_549_160,
    "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904, "wide_resnet50_2": 68_883_240,
    "densenet121": 7_978_856, "se_resnet50": 28_088_024, "dpn92": 37_668_392,
}
# Papers give these rounded to 0.1 M.
ROUNDED = {"preact_resnet1001": 10.2e6, "wrn16_8": 11.0e6, "wrn40_4": 8.9e6, "resnext29_8x64d": 34.4e6,
           "resnext29_16x64d": 68.1e6, "densenet_bc250_k24": 15.3e6}

ALL = [p.name for p in list_presets()]


def test_all_named_presets_exist():
    expected = set(PUBLISHED) | set(ROUNDED) | {"plain32", "plain44", "plain110", "preact_resnet110", "highway20",
                                               "highway56", "weighted_resnet56", "se_resnet56", "dpn26_small"}
    assert expected <= set(ALL)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_parameter_count(name):
    assert analyze(build_preset(name)).total.params == PUBLISHED[name]


@pytest.mark.parametrize("name", sorted(ROUNDED))
def test_parameter_count_within_paper_rounding(name):
    # Papers round to 0.1 M and count slightly differently (e.g. BN placement): agree within 1.5 %.
    assert abs(analyze(build_preset(name)).total.params / ROUNDED[name] - 1) < 0.015


@pytest.mark.parametrize("name", ALL)
def test_compiled_module_matches_inference(name):
    g = build_preset(name)
    a = analyze(g)
    assert a.valid
    torch.manual_seed(0)
    # Train mode: with untrained running statistics a 1000-layer net in eval mode overflows by design.
    m = compile_graph(g, a).train()
    assert sum(p.numel() for p in m.parameters()) == a.total.params
    with torch.no_grad():
        out = m(torch.randn(2, *a.input_shape))
    assert tuple(out.shape[1:]) == a.output_shape
    assert torch.isfinite(out).all()


def test_overrides_adapt_input_and_classes():
    a = analyze(build_preset("resnet18", num_classes=7, input_shape=(1, 28, 28)))
    assert a.valid and a.input_shape == (1, 28, 28) and a.output_shape == (7,)


def test_unknown_preset_suggests_close_names():
    with pytest.raises(PresetError, match="did you mean .*resnet20"):
        build_preset("resnet21")
