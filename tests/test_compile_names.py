"""Node ids reach the compiled module only as dictionary keys: any valid id compiles with its parameters
named ``nodes.<id>``, except the few names torch modules use themselves, which are refused with the fix."""
import pytest
import torch

from explorer.blocks.builder import Builder
from explorer.compile import CompileError, compile_graph


def _net(conv_id: str):
    b = Builder("names")
    x = b.input([1, 8, 8])
    y = b.conv(x, 4, node_id=conv_id)
    y = b.add("flatten", b.add("global_avgpool", y, node_id="pool"), node_id="flat")
    b.output(b.add("linear", y, node_id="fc", out_features=3))
    return b.finish().graph


@pytest.mark.parametrize("conv_id", ["lambda", "class", "x", "n", "v0", "self"])
def test_keywords_and_names_of_the_generated_code_are_ordinary_ids(conv_id):
    m = compile_graph(_net(conv_id))
    assert f"nodes.{conv_id}.weight" in dict(m.named_parameters())
    assert m(torch.randn(2, 1, 8, 8)).shape == (2, 3)


@pytest.mark.parametrize("conv_id", ["training", "forward", "eval"])
def test_names_torch_modules_use_themselves_are_refused_with_the_fix(conv_id):
    with pytest.raises(CompileError, match=f"rename the node \\(e.g. '{conv_id}_1'\\)"):
        compile_graph(_net(conv_id))
