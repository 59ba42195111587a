"""Stems and heads shared by the presets."""
from __future__ import annotations


def stage(b, x, block: str, n: int, node_id: str, **params) -> str:
    """``n`` repetitions of ``block`` as one node (a stage); the first carries the stride."""
    return b.add(block, x, node_id=node_id, repeat=n, **params)


def cifar_stem(b, x, channels: int = 16, bn: bool = True) -> str:
    x = b.conv(x, channels, 3, node_id="stem_conv")
    if not bn:
        return x
    return b.act(b.bn(x, node_id="stem_bn"), node_id="stem_relu")


def imagenet_stem(b, x, channels: int = 64, pool: dict | None = None, **bn) -> str:
    """7×7 conv, BN (``bn``: its parameters, e.g. timm DPN's eps 1e-3), ReLU, 3×3 max pool (``pool``: other
    parameters for it, e.g. the Caffe ResNets' padding 0 in ceil mode)."""
    x = b.conv(x, channels, 7, 2, node_id="stem_conv")
    x = b.act(b.bn(x, node_id="stem_bn", **bn), node_id="stem_relu")
    return b.add("maxpool", x, node_id="stem_pool", **({"kernel_size": 3, "stride": 2, "padding": 1} | (pool or {})))


def head(b, x, num_classes: int, pre_activate: bool = False, **bn) -> str:
    """[BN-ReLU (pre-activation nets; ``bn``: its parameters)] → global average pool → flatten → linear classifier."""
    if pre_activate:
        x = b.act(b.bn(x, node_id="final_bn", **bn), node_id="final_relu")
    x = b.add("global_avgpool", x, node_id="pool")
    x = b.add("flatten", x, node_id="flatten")
    return b.add("linear", x, node_id="classifier", out_features=num_classes)
