"""ImageNet-style presets (3×224×224, 1000 classes), matching torchvision's / the papers' layouts."""
from __future__ import annotations

from functools import partial

from explorer.presets.catalog import IMAGENET, preset
from explorer.presets.parts import head, imagenet_stem, stage

PLANES = (64, 128, 256, 512)


def _resnet(b, x, classes, layers, block: str, width_factor: float = 1.0, groups: int = 1, se: int = 0,
            legacy: bool = False):
    """torchvision ResNet: 7×7 stem, 4 stages, projection shortcut where the shape changes (option B).
    ``legacy``: the SENet authors' Caffe layout, as timm's legacy SE-ResNets keep it (the stride on each
    bottleneck's first 1×1, the stem's max pool without padding in ceil mode)."""
    x = imagenet_stem(b, x, pool=dict(padding=0, ceil_mode=True) if legacy else None)
    extra = {"stride_on": "1x1"} if legacy else {}
    for i, (planes, n) in enumerate(zip(PLANES, layers)):
        stride = 1 if i == 0 else 2
        if block == "basic":
            x = stage(b, x, "basic", n, f"stage{i + 1}", channels=planes, stride=stride, se_reduction=se)
        else:
            x = stage(b, x, "bottleneck", n, f"stage{i + 1}", width=int(planes * width_factor) * groups,
                      out_channels=planes * 4, stride=stride, groups=groups, se_reduction=se, **extra)
    return head(b, x, classes)


_R = partial(preset, data=IMAGENET)
_R("resnet18", "ResNet", "ResNet-18 (torchvision), basic blocks [2, 2, 2, 2]")(partial(_resnet, layers=(2, 2, 2, 2), block="basic"))
_R("resnet34", "ResNet", "ResNet-34, basic blocks [3, 4, 6, 3]")(partial(_resnet, layers=(3, 4, 6, 3), block="basic"))
_R("resnet50", "ResNet", "ResNet-50, bottleneck blocks [3, 4, 6, 3]")(partial(_resnet, layers=(3, 4, 6, 3), block="bottleneck"))
_R("resnet101", "ResNet", "ResNet-101, bottleneck blocks [3, 4, 23, 3]")(partial(_resnet, layers=(3, 4, 23, 3), block="bottleneck"))
_R("resnet152", "ResNet", "ResNet-152, bottleneck blocks [3, 8, 36, 3]")(partial(_resnet, layers=(3, 8, 36, 3), block="bottleneck"))
_R("resnext50_32x4d", "ResNeXt", "ResNeXt-50 32×4d (torchvision)")(
    partial(_resnet, layers=(3, 4, 6, 3), block="bottleneck", width_factor=4 / 64, groups=32))
_R("wide_resnet50_2", "Wide ResNet", "Wide ResNet-50-2 (torchvision): bottlenecks twice as wide")(
    partial(_resnet, layers=(3, 4, 6, 3), block="bottleneck", width_factor=2))
_R("se_resnet50", "Squeeze-excitation", "SE-ResNet-50 (Hu et al. 2018), reduction 16")(
    partial(_resnet, layers=(3, 4, 6, 3), block="bottleneck", se=16))
_R("legacy_seresnet50", "Squeeze-excitation", "SE-ResNet-50 as the SENet authors (and timm's legacy_seresnet50) "
   "lay it out: stride on each bottleneck's first 1×1, stem max pool without padding, ceil mode")(
    partial(_resnet, layers=(3, 4, 6, 3), block="bottleneck", se=16, legacy=True))


@_R("densenet121", "DenseNet", "DenseNet-121 (torchvision): blocks [6, 12, 24, 16], growth 32")
def _densenet121(b, x, classes):
    x = imagenet_stem(b, x)
    for i, n in enumerate((6, 12, 24, 16)):
        x = b.add("dense", x, node_id=f"dense{i + 1}", growth_rate=32, layers=n, bottleneck=True, bn_size=4)
        if i < 3:
            x = b.add("transition", x, node_id=f"transition{i + 1}", compression=0.5)
    return head(b, x, classes, pre_activate=True)


@_R("dpn92", "Dual path", "DPN-92 (Chen et al. 2017): k_R 96, 32 groups, blocks [3, 4, 20, 3], increments "
    "16/32/24/128; BatchNorm eps 1e-3 as in timm, whose weights it loads")
def _dpn92(b, x, classes):
    eps = 1e-3  # timm's DPN (and the authors' MXNet code) normalise with eps 1e-3 throughout
    x = imagenet_stem(b, x, eps=eps)
    for i, (n, inc) in enumerate(zip((3, 4, 20, 3), (16, 32, 24, 128))):
        res = 256 * 2 ** i
        x = stage(b, x, "dual_path", n, f"stage{i + 1}", residual_channels=res, increment=inc,
                  width=96 * 2 ** i, groups=32, stride=1 if i == 0 else 2, bn_eps=eps)
    return head(b, x, classes, pre_activate=True, eps=eps)
