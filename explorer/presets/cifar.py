"""CIFAR-style presets (3×32×32, 10 classes): the networks of the papers' CIFAR experiments."""
from __future__ import annotations

from functools import partial

from explorer.presets.catalog import preset
from explorer.presets.parts import cifar_stem, head, stage

WIDTHS = (16, 32, 64)


def _three_stages(b, x, block: str, n: int, widths=WIDTHS, **params) -> str:
    for i, c in enumerate(widths):
        x = stage(b, x, block, n, f"stage{i + 1}", channels=c, stride=1 if i == 0 else 2, **params)
    return x


def _resnet(b, x, classes, depth: int, block: str = "basic", **params):
    """He et al. 2015, CIFAR: 6n+2 layers, 16/32/64 channels; option A (zero-pad) shortcuts."""
    x = cifar_stem(b, x)
    x = _three_stages(b, x, block, (depth - 2) // 6, **params)
    return head(b, x, classes)


for _d in (20, 32, 44, 56, 110, 1202):
    preset(f"resnet{_d}", "ResNet", f"ResNet-{_d} for CIFAR (He et al. 2015): {(_d - 2) // 6} basic blocks per stage, "
           "zero-pad shortcuts")(partial(_resnet, depth=_d, shortcut="zero_pad"))

for _d in (20, 32, 44, 56, 110):
    preset(f"plain{_d}", "Plain", f"Plain-{_d}: ResNet-{_d} without shortcuts, the degradation baseline")(
        partial(_resnet, depth=_d, block="plain"))

for _d in (20, 56):
    preset(f"highway{_d}", "Highway", f"Highway-{_d}: ResNet-{_d} with gated (highway) shortcuts")(
        partial(_resnet, depth=_d, block="highway", shortcut="zero_pad"))

def _fixup(b, x, classes, depth: int):
    """Zhang et al. 2019's Fixup ResNet for CIFAR: no normalisation anywhere; scalar biases around the stem
    and the classifier, Fixup basic blocks (the depth's L = (depth − 2) / 2 branches), the classifier at 0."""
    from explorer.network.init_options import fixup_settings

    x = b.act(b.add("bias", cifar_stem(b, x, bn=False), node_id="stem_bias"), node_id="stem_relu")
    n = (depth - 2) // 6
    x = _three_stages(b, x, "basic", n, shortcut="zero_pad", **fixup_settings(3 * n))
    x = b.add("flatten", b.add("global_avgpool", x, node_id="pool"), node_id="flatten")
    x = b.add("bias", x, node_id="classifier_bias")
    return b.add("linear", x, node_id="classifier", out_features=classes, zero_init=True)


for _d in (20, 110):
    preset(f"fixup_resnet{_d}", "Fixup", f"Fixup ResNet-{_d} (Zhang et al. 2019): ResNet-{_d} without any "
           "normalisation, trainable because its branches start at 0 (scalar biases, rescaled convs)")(
        partial(_fixup, depth=_d))

preset("weighted_resnet56", "Weighted residual", "ResNet-56 with weighted residual blocks (Shen et al. 2016)")(
    partial(_resnet, depth=56, block="weighted", shortcut="zero_pad"))
preset("se_resnet56", "Squeeze-excitation", "ResNet-56 with squeeze-excitation (r = 16) on every block")(
    partial(_resnet, depth=56, shortcut="zero_pad", se_reduction=16))


def _preact(b, x, classes, depth: int, bottleneck: bool):
    """He et al. 2016: BN-ReLU-conv blocks, projection shortcuts, final BN-ReLU before pooling."""
    x = cifar_stem(b, x, bn=False)
    if bottleneck:
        n = (depth - 2) // 9
        for i, c in enumerate((64, 128, 256)):
            x = stage(b, x, "preact", n, f"stage{i + 1}", out_channels=c, stride=1 if i == 0 else 2,
                      variant="bottleneck")
    else:
        n = (depth - 2) // 6
        for i, c in enumerate(WIDTHS):
            x = stage(b, x, "preact", n, f"stage{i + 1}", out_channels=c, stride=1 if i == 0 else 2)
    return head(b, x, classes, pre_activate=True)


preset("preact_resnet110", "Pre-activation", "Pre-activation ResNet-110 (He et al. 2016), basic blocks")(
    partial(_preact, depth=110, bottleneck=False))
preset("preact_resnet164", "Pre-activation", "Pre-activation ResNet-164, bottleneck blocks")(
    partial(_preact, depth=164, bottleneck=True))
preset("preact_resnet1001", "Pre-activation", "Pre-activation ResNet-1001, bottleneck blocks: 1000 layers that train")(
    partial(_preact, depth=1001, bottleneck=True))


def _wrn(b, x, classes, depth: int, k: int):
    """Zagoruyko & Komodakis 2016: WRN-d-k, (d-4)/6 wide blocks per stage, dropout 0.3."""
    x = cifar_stem(b, x, bn=False)
    x = _three_stages(b, x, "wide", (depth - 4) // 6, widen_factor=k, dropout=0.3)
    return head(b, x, classes, pre_activate=True)


for _d, _k in ((16, 8), (28, 10), (40, 4)):
    preset(f"wrn{_d}_{_k}", "Wide ResNet", f"WRN-{_d}-{_k}: {(_d - 4) // 6} wide blocks per stage, widen factor {_k}")(
        partial(_wrn, depth=_d, k=_k))


def _resnext29(b, x, classes, cardinality: int, width: int):
    """Xie et al. 2017, CIFAR: 3 stages × 3 blocks, outputs 256/512/1024, group width doubling per stage."""
    x = cifar_stem(b, x, 64)
    for i, out in enumerate((256, 512, 1024)):
        x = stage(b, x, "resnext", 3, f"stage{i + 1}", cardinality=cardinality, group_width=width * 2 ** i,
                  out_channels=out, stride=1 if i == 0 else 2)
    return head(b, x, classes)


preset("resnext29_8x64d", "ResNeXt", "ResNeXt-29, cardinality 8, group width 64 (Xie et al. 2017)")(
    partial(_resnext29, cardinality=8, width=64))
preset("resnext29_16x64d", "ResNeXt", "ResNeXt-29, cardinality 16, group width 64")(
    partial(_resnext29, cardinality=16, width=64))


def _densenet_bc(b, x, classes, depth: int, k: int):
    """Huang et al. 2017, DenseNet-BC for CIFAR: 3 dense blocks of (depth-4)/6 bottleneck layers, θ = 0.5."""
    n = (depth - 4) // 6
    x = cifar_stem(b, x, 2 * k, bn=False)
    for i in range(3):
        x = b.add("dense", x, node_id=f"dense{i + 1}", growth_rate=k, layers=n, bottleneck=True)
        if i < 2:
            x = b.add("transition", x, node_id=f"transition{i + 1}", compression=0.5)
    return head(b, x, classes, pre_activate=True)


preset("densenet_bc100_k12", "DenseNet", "DenseNet-BC-100, growth rate 12 (Huang et al. 2017)")(
    partial(_densenet_bc, depth=100, k=12))
preset("densenet_bc250_k24", "DenseNet", "DenseNet-BC-250, growth rate 24")(partial(_densenet_bc, depth=250, k=24))


@preset("dpn26_small", "Dual path", "A small CIFAR dual path network: 4 stages × 2 DPN blocks (3 convs each) + "
        "stem + classifier = 26 weight layers; residual widths 64-512, dense increments 16/16/32/64, 16 groups")
def _dpn26_small(b, x, classes):
    x = cifar_stem(b, x, 64)
    for i, (res, inc, width) in enumerate(((64, 16, 32), (128, 16, 64), (256, 32, 128), (512, 64, 256))):
        x = stage(b, x, "dual_path", 2, f"stage{i + 1}", residual_channels=res, increment=inc, width=width,
                  groups=16, stride=1 if i == 0 else 2)
    return head(b, x, classes, pre_activate=True)
