"""The hand-written reference models are the presets they stand for: same parameters, same layers."""
import pytest
import torch

from explorer.benchmarks.reference import REFERENCES, reference_for
from explorer.compile import compile_graph
from explorer.presets import build_preset


def _count(m):
    return sum(p.numel() for p in m.parameters())


@pytest.mark.parametrize("name, shape", [("resnet20", (3, 8, 8)), ("resnet20_digits", (1, 8, 8)), ("resnet18", (3, 16, 16))])
def test_reference_has_the_presets_parameters_and_output(name, shape):
    compiled = compile_graph(build_preset(name, input_shape=shape))
    ref = reference_for(name)(shape, compiled.output_shape[0])
    assert _count(ref) == _count(compiled)
    assert [tuple(p.shape) for p in ref.parameters()] == [tuple(p.shape) for p in compiled.parameters()]
    x = torch.randn(2, *shape)
    assert ref(x).shape == compiled(x).shape == (2, compiled.output_shape[0])


def test_reference_computes_what_the_compiled_network_computes():
    """Same weights in the same order give the same function: the layers match, not just their sizes."""
    torch.manual_seed(0)
    compiled = compile_graph(build_preset("resnet20", input_shape=(1, 8, 8), num_classes=4)).eval()
    ref = reference_for("resnet20")((1, 8, 8), 4).eval()
    with torch.no_grad():
        for a, b in zip(ref.state_dict().values(), compiled.state_dict().values(), strict=True):
            a.copy_(b)
        x = torch.randn(3, 1, 8, 8)
        assert torch.allclose(ref(x), compiled(x), atol=1e-5)


def test_only_named_presets_have_a_reference():
    assert reference_for("densenet_bc100_k12") is None
    assert {"resnet20", "resnet32", "resnet44", "resnet56", "resnet110", "resnet18", "resnet50"} <= set(REFERENCES)
