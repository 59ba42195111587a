"""export --format pt2: torch.export.export + torch.export.save with a free batch dimension; the program that
torch.export.load gives back computes the network's output, with a run's weights (issue 17 item 20)."""
from __future__ import annotations

import torch

from explorer.cli import main
from explorer.compile import compile_graph
from explorer.network.adapt import adapt_to_data
from explorer.presets import build_preset
from explorer.train.checkpoint import Checkpoint, save_checkpoint
from explorer.train.config import TrainConfig


def test_pt2_loads_and_gives_the_networks_output_for_any_batch(tmp_path, capsys):
    graph, _ = adapt_to_data(build_preset("resnet20"), (1, 8, 8), 10)
    torch.manual_seed(5)
    model = compile_graph(graph)
    with torch.no_grad():  # weights and BN statistics that are not the initial ones
        for t in model.state_dict().values():
            if t.is_floating_point():
                t.copy_(torch.rand_like(t) * 0.5 + 0.5)
    save_checkpoint(Checkpoint(graph=graph, config=TrainConfig(), model_state=model.state_dict()),
                    tmp_path / "last.pt")
    assert main(["export", str(tmp_path), "--format", "pt2", "-o", str(tmp_path / "net.pt2")]) == 0
    assert f"wrote {tmp_path / 'net.pt2'} (pt2; weights: the trained weights of" in capsys.readouterr().out
    extra = {"weights.txt": ""}
    program = torch.export.load(str(tmp_path / "net.pt2"), extra_files=extra)
    assert extra["weights.txt"].startswith("the trained weights of")
    loaded = program.module()
    model.eval()
    for batch in (1, 3, 7):
        x = torch.randn(batch, 1, 8, 8, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            expected = model(x)
            assert torch.allclose(loaded(x), expected, rtol=1e-5, atol=1e-5 * expected.abs().max().item())
