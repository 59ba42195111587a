"""The presets written by hand, the way torchvision's ``models/resnet.py`` writes them: the yardstick
that ``python main.py bench`` holds the compiled network against.

Each model has exactly the layers and parameters of the preset of the same name (tests check the
counts): CIFAR ResNets (He et al. 2015) with option A shortcuts as ``explorer.presets.cifar`` builds
them (subsample, then zero channels appended after the existing ones), ImageNet ResNets as
``explorer.presets.imagenet`` (torchvision v1.5: stride on the 3×3, 1×1 projection where the shape
changes). ReLUs and the residual sum are in place, as in torchvision: that is what hand-written code
costs. Input channels and classes are arguments so that a reference fits the data set the benchmark
adapts the preset to.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import Tensor, nn
from torch.nn import functional as F


def conv3x3(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=3, stride=stride, padding=1, bias=False)


def conv1x1(in_planes: int, out_planes: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(in_planes, out_planes, kernel_size=1, stride=stride, bias=False)


class ZeroPadShortcut(nn.Module):
    """Option A: keep every ``stride``-th pixel, append zero channels."""

    def __init__(self, extra: int, stride: int):
        super().__init__()
        self.extra, self.stride = extra, stride

    def forward(self, x: Tensor) -> Tensor:
        return F.pad(x[:, :, ::self.stride, ::self.stride], (0, 0, 0, 0, 0, self.extra))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv3x3(inplanes, planes, stride)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module | None = None):
        super().__init__()
        self.conv1 = conv1x1(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = conv3x3(planes, planes, stride)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = conv1x1(planes, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: Tensor) -> Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        out += identity
        return self.relu(out)


def _init(model: nn.Module) -> None:
    """The presets' initialisation: He normal (fan out) for convolutions, BN at weight 1, bias 0."""
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")


class ResNet(nn.Module):
    """One class for both families; only the stem, the widths and the shortcut differ."""

    def __init__(self, block: type[BasicBlock | Bottleneck], layers: list[int], num_classes: int,
                 in_channels: int, cifar: bool):
        super().__init__()
        widths = (16, 32, 64) if cifar else (64, 128, 256, 512)
        self.inplanes = widths[0]
        self.cifar = cifar
        if cifar:
            self.conv1 = conv3x3(in_channels, self.inplanes)
        else:
            self.conv1 = nn.Conv2d(in_channels, self.inplanes, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(self.inplanes)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.Identity() if cifar else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layers = nn.Sequential(*(self._make_layer(block, w, n, 1 if i == 0 else 2)
                                      for i, (w, n) in enumerate(zip(widths, layers))))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(widths[-1] * block.expansion, num_classes)
        _init(self)

    def _make_layer(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        """The shortcut decision, in one place: identity when the shape stays, else option A (CIFAR) or B."""
        out = planes * block.expansion
        downsample = None
        if stride != 1 or self.inplanes != out:
            if self.cifar:
                downsample = ZeroPadShortcut(out - self.inplanes, stride)
            else:
                downsample = nn.Sequential(conv1x1(self.inplanes, out, stride), nn.BatchNorm2d(out))
        layers = [block(self.inplanes, planes, stride, downsample)]
        self.inplanes = out
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layers(x)
        return self.fc(self.avgpool(x).flatten(1))


def cifar_resnet(depth: int, num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """ResNet-``depth`` for CIFAR: 6n+2 layers."""
    n = (depth - 2) // 6
    return ResNet(BasicBlock, [n, n, n], num_classes, in_channels, cifar=True)


def imagenet_resnet(block, layers: list[int], num_classes: int = 1000, in_channels: int = 3) -> ResNet:
    return ResNet(block, layers, num_classes, in_channels, cifar=False)


REFERENCES: dict[str, Callable[..., nn.Module]] = {
    **{f"resnet{d}": partial(cifar_resnet, d) for d in (20, 32, 44, 56, 110, 1202)},
    "resnet20_digits": partial(cifar_resnet, 20),   # the startup network: resnet20's build, for the digits
    "resnet18": partial(imagenet_resnet, BasicBlock, [2, 2, 2, 2]),
    "resnet34": partial(imagenet_resnet, BasicBlock, [3, 4, 6, 3]),
    "resnet50": partial(imagenet_resnet, Bottleneck, [3, 4, 6, 3]),
    "resnet101": partial(imagenet_resnet, Bottleneck, [3, 4, 23, 3]),
    "resnet152": partial(imagenet_resnet, Bottleneck, [3, 8, 36, 3]),
}


def reference_for(name: str) -> Callable[[tuple[int, ...], int], nn.Module] | None:
    """A builder ``(input_shape, num_classes) -> module`` for the preset ``name``; None when there is no
    hand-written version of it."""
    make = REFERENCES.get(name)
    if make is None:
        return None
    return lambda input_shape, num_classes: make(num_classes=num_classes, in_channels=int(input_shape[0]))
