"""export --format py --names torchvision: a torchvision ResNet preset exported under torchvision's names, so
torchvision's own state_dict loads strictly and gives torchvision's output (issue 17 item 21, issue 21 item 7).
torchvision does not import here, so its ResNet is written out in the test as torchvision writes it."""
from __future__ import annotations

import types

import pytest
import torch
from torch import nn

from explorer.cli import main
from explorer.compile import compile_graph
from explorer.importer.preset_weights import import_weights
from explorer.presets import build_preset


class BasicBlock(nn.Module):  # torchvision.models.resnet.BasicBlock
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(out)) + identity)


class Bottleneck(nn.Module):  # torchvision.models.resnet.Bottleneck (stride on the 3×3, "ResNet v1.5")
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.relu(self.bn3(self.conv3(out)) + identity)


class ResNet(nn.Module):  # torchvision.models.resnet.ResNet
    def __init__(self, block, layers, num_classes=1000):
        super().__init__()
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, layers[0])
        self.layer2 = self._make_layer(block, 128, layers[1], 2)
        self.layer3 = self._make_layer(block, 256, layers[2], 2)
        self.layer4 = self._make_layer(block, 512, layers[3], 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _random_state(model: nn.Module) -> dict:
    """Weights and BN statistics far from the initial ones, so a tensor in the wrong place shows."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.is_floating_point():
                t.copy_(torch.rand(t.shape, generator=g) * 0.4 + (0.8 if "running_var" in name else 0.0) - 0.1)
    return model.state_dict()


def _load(path):
    mod = types.ModuleType("exported")
    exec(compile(path.read_text(), str(path), "exec"), mod.__dict__)
    return mod


@pytest.mark.parametrize("preset, block, layers", [("resnet18", BasicBlock, [2, 2, 2, 2]),
                                                    ("resnet50", Bottleneck, [3, 4, 6, 3])])
def test_torchvisions_state_dict_loads_into_the_export(preset, block, layers, tmp_path):
    reference = ResNet(block, layers).double().eval()
    state = _random_state(reference)
    assert main(["export", preset, "--format", "py", "--names", "torchvision", "-o", str(tmp_path / "net.py")]) == 0
    model = _load(tmp_path / "net.py").build().double().eval()
    model.load_state_dict(state)  # strict: every torchvision key has its place
    assert [k for k in model.state_dict() if not k.startswith("layer")] == \
        [k for k in reference.state_dict() if not k.startswith("layer")]  # conv1, bn1, fc: torchvision's names
    x = torch.randn(2, 3, 64, 64, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), rtol=1e-9, atol=1e-9)


def test_a_run_imported_from_torchvision_exports_weights_torchvision_loads(tmp_path, capsys):
    reference = ResNet(BasicBlock, [2, 2, 2, 2]).eval()
    torch.save(_random_state(reference), tmp_path / "resnet18.pth")
    import_weights("resnet18", tmp_path / "resnet18.pth", tmp_path / "run")
    assert main(["export", str(tmp_path / "run"), "--format", "py", "--names", "torchvision",
                 "-o", str(tmp_path / "net.py")]) == 0
    weights = torch.load(tmp_path / "net.pt", weights_only=True)
    assert weights.keys() == reference.state_dict().keys()  # the .pt is a torchvision state_dict
    fresh = ResNet(BasicBlock, [2, 2, 2, 2]).eval()
    fresh.load_state_dict(weights)
    model = _load(tmp_path / "net.py").build().eval()
    model.load_state_dict(weights)
    x = torch.randn(1, 3, 64, 64, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), rtol=1e-4, atol=1e-4)
        assert torch.allclose(fresh(x), reference(x), rtol=1e-4, atol=1e-4)
    compiled = compile_graph(build_preset("resnet18"))
    assert len(compiled.state_dict()) == len(weights)


def test_a_torchvision_preset_exported_under_our_names_mentions_the_option(tmp_path, capsys):
    assert main(["export", "resnet18", "--format", "py", "-o", str(tmp_path / "a.py")]) == 0
    assert "--names torchvision" in capsys.readouterr().err
    assert main(["export", "resnet20", "--format", "py", "-o", str(tmp_path / "b.py")]) == 0
    assert "--names" not in capsys.readouterr().err


def test_names_torchvision_is_refused_where_it_cannot_hold(tmp_path, capsys):
    for argv, words in ((["resnet20", "--format", "py"], "laid out as torchvision's ResNet"),
                        (["se_resnet50", "--format", "py"], "torchvision's ResNet has no 'layer1.0.se_reduce.weight'"),
                        (["resnet18", "--format", "torchscript"], "use it with --format py")):
        assert main(["export", *argv, "--names", "torchvision", "-o", str(tmp_path / "x")]) == 2
        assert words in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
