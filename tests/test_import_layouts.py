"""import-weights on files laid out as other codebases write them, each file written here by the test:

- timm's dpn92: keys ``features.conv2_1.c1x1_w_s1.bn.weight`` …, BatchNorm eps 1e-3 throughout, and a 1×1-conv
  classifier (1000 × 2688 × 1 × 1) where our preset has a Linear: accepted by reshaping, and the outputs equal
  (fp64) those of timm's forward, written here by hand as functions over the file's tensors;
- akamaster's CIFAR ResNets: ``{"state_dict": {"module.conv1.weight", …}, "best_prec1": …}``, a ``linear``
  classifier and option-A shortcuts that split the new channels on both sides: recognised by itself, built
  with ``pad_split="both"``, equal outputs (fp64) to akamaster's module written here, and the exported run too.
"""
import zlib

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from equivalence import exported_output
from explorer.analysis.trained import load_run
from explorer.cli import main
from explorer.importer import ImporterError, import_weights
from explorer.importer.weights import pair_by_structure


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


def rand(shape, name):
    return torch.randn(shape, generator=torch.Generator().manual_seed(zlib.crc32(name.encode())))


def bn_tensors(prefix: str, c: int) -> dict:
    return {f"{prefix}.weight": 1 + 0.2 * rand(c, prefix + "w"), f"{prefix}.bias": 0.2 * rand(c, prefix + "b"),
            f"{prefix}.running_mean": 0.2 * rand(c, prefix + "m"),
            f"{prefix}.running_var": 0.5 + 0.5 * rand(c, prefix + "v").abs(),
            f"{prefix}.num_batches_tracked": torch.tensor(7)}


def conv_tensor(name: str, o: int, i: int, k: int) -> dict:
    return {name: rand((o, i, k, k), name) * (2.0 / (i * k * k)) ** 0.5}


# -- timm dpn92 ------------------------------------------------------------------------------------------------
DPN92 = dict(init=64, k_r=96, groups=32, k_sec=(3, 4, 20, 3), inc_sec=(16, 32, 24, 128))


def timm_dpn_blocks(cfg):
    """(name, in_chs, r, bw, inc, kind) per block, as timm's DPN.__init__ lays them out (bw_factor 4)."""
    blocks, in_chs = [], cfg["init"]
    for s, (n, inc) in enumerate(zip(cfg["k_sec"], cfg["inc_sec"])):
        bw = 64 * 2 ** s * 4
        r = cfg["k_r"] * bw // 256
        for i in range(1, n + 1):
            kind = ("proj" if s == 0 else "down") if i == 1 else "normal"
            blocks.append((f"conv{s + 2}_{i}", in_chs, r, bw, inc, kind))
            in_chs = bw + 3 * inc if i == 1 else in_chs + inc
    return blocks, in_chs


def timm_dpn_state(cfg, classes):
    state = conv_tensor("features.conv1_1.conv.weight", cfg["init"], 3, 7) | bn_tensors("features.conv1_1.bn", cfg["init"])
    blocks, out_chs = timm_dpn_blocks(cfg)
    for name, in_chs, r, bw, inc, kind in blocks:
        p = f"features.{name}"

        def bnconv(key, i, o, k):
            return bn_tensors(f"{p}.{key}.bn", i) | conv_tensor(f"{p}.{key}.conv.weight", o, i // (cfg["groups"]
                                                                                                  if key == "c3x3_b" else 1), k)
        if kind != "normal":
            state |= bnconv("c1x1_w_s2" if kind == "down" else "c1x1_w_s1", in_chs, bw + 2 * inc, 1)
        state |= bnconv("c1x1_a", in_chs, r, 1) | bnconv("c3x3_b", r, r, 3) | bnconv("c1x1_c", r, bw + inc, 1)
    state |= bn_tensors("features.conv5_bn_ac.bn", out_chs)
    state |= conv_tensor("classifier.weight", classes, out_chs, 1) | {"classifier.bias": 0.1 * rand(classes, "cb")}
    return {k: v.float() for k, v in state.items()}


def timm_dpn_forward(state, cfg, x, eps=1e-3):
    """timm's DPN forward (dpn.py: BnActConv2d, DualPathBlock, CatBnAct, a 1×1-conv classifier), eps 1e-3."""
    s = {k: v.double() for k, v in state.items()}

    def bn_act(p, t):
        return F.relu(F.batch_norm(t, s[f"{p}.running_mean"], s[f"{p}.running_var"], s[f"{p}.weight"],
                                   s[f"{p}.bias"], False, 0.0, eps))

    def bn_act_conv(p, t, stride=1, groups=1):
        w = s[f"{p}.conv.weight"]
        return F.conv2d(bn_act(f"{p}.bn", t), w, None, stride, w.shape[-1] // 2, 1, groups)

    x = F.conv2d(x, s["features.conv1_1.conv.weight"], None, 2, 3)
    x = F.max_pool2d(bn_act("features.conv1_1.bn", x), 3, 2, 1)
    blocks, _ = timm_dpn_blocks(cfg)
    for name, _, r, bw, inc, kind in blocks:
        p = f"features.{name}"
        x_in = torch.cat(x, 1) if isinstance(x, tuple) else x
        stride = 2 if kind == "down" else 1
        if kind != "normal":
            x_s = bn_act_conv(f"{p}.c1x1_w_s2" if kind == "down" else f"{p}.c1x1_w_s1", x_in, stride)
            x_s1, x_s2 = x_s[:, :bw], x_s[:, bw:]
        else:
            x_s1, x_s2 = x
        out = bn_act_conv(f"{p}.c1x1_a", x_in)
        out = bn_act_conv(f"{p}.c3x3_b", out, stride, cfg["groups"])
        out = bn_act_conv(f"{p}.c1x1_c", out)
        x = (x_s1 + out[:, :bw], torch.cat([x_s2, out[:, bw:]], 1))
    x = bn_act("features.conv5_bn_ac.bn", torch.cat(x, 1))
    x = F.adaptive_avg_pool2d(x, 1)
    return torch.flatten(F.conv2d(x, s["classifier.weight"], s["classifier.bias"]), 1)


def test_timm_dpn92_loads_with_its_conv_classifier_and_gives_timms_outputs(tmp_path):
    state = timm_dpn_state(DPN92, 10)
    assert state["classifier.weight"].shape == (10, 2688, 1, 1)
    torch.save(state, tmp_path / "dpn92.pth")
    run = import_weights("dpn92", tmp_path / "dpn92.pth", tmp_path / "run", num_classes=10, input_shape=(3, 32, 32))
    del state
    net = load_run(run)
    model = net.module.double().eval()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = model(x)
    want = timm_dpn_forward(torch.load(tmp_path / "dpn92.pth", weights_only=True), DPN92, x)
    assert float((got - want).abs().max()) <= 1e-10 * float(want.abs().max())
    eps5 = timm_dpn_forward(torch.load(tmp_path / "dpn92.pth", weights_only=True), DPN92, x, eps=1e-5)
    assert float((got - eps5).abs().max()) > 1e-6 * float(want.abs().max())  # eps 1e-3 is part of the match


def test_a_classifier_of_another_width_is_named_as_such_not_as_a_class_count():
    ours = {"fc.weight": torch.zeros(10, 64), "fc.bias": torch.zeros(10)}
    conv = {"c.weight": torch.ones(10, 64, 1, 1), "c.bias": torch.ones(10)}
    assert torch.equal(pair_by_structure(conv, ours)["fc.weight"], torch.ones(10, 64))  # reshaped, not refused
    from explorer.importer.preset_weights import _hint
    wide = {"c.weight": torch.ones(10, 32, 1, 1), "c.bias": torch.ones(10)}
    with pytest.raises(ImporterError) as e:
        pair_by_structure(wide, ours, hint=lambda name: _hint(name, ours, wide))
    assert "same 10 outputs but differ in form" in str(e.value) and "--num-classes" not in str(e.value)


# -- akamaster CIFAR ResNets -----------------------------------------------------------------------------------
class AkaBlock(nn.Module):
    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or in_planes != planes else 0

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        short = F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0) if self.pad else x
        return F.relu(out + short)


class AkaResNet(nn.Module):
    """akamaster/pytorch_resnet_cifar10 resnet.py: ResNet(BasicBlock, [n, n, n]), option A, a 'linear' head."""

    def __init__(self, n=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, inp = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            blocks = []
            for i in range(n):
                blocks.append(AkaBlock(inp, planes, stride if i == 0 else 1))
                inp = planes
            layers.append(nn.Sequential(*blocks))
        self.layer1, self.layer2, self.layer3 = layers
        self.linear = nn.Linear(64, classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        return self.linear(F.avg_pool2d(out, out.size()[3]).view(out.size(0), -1))


def akamaster_file(path):
    torch.manual_seed(0)
    ref = AkaResNet()
    with torch.no_grad():
        for k, t in ref.state_dict().items():
            if t.is_floating_point():
                t.copy_((1e-2 + 0.3 * rand(t.shape, k).abs()) if "running_var" in k else 0.3 * rand(t.shape, k))
    torch.save({"state_dict": {f"module.{k}": v for k, v in ref.state_dict().items()}, "best_prec1": 91.73}, path)
    return ref.double().eval()


def test_akamaster_checkpoints_are_recognised_and_built_with_their_zero_pad(tmp_path, capsys):
    ref = akamaster_file(tmp_path / "resnet20-12fca82f.th")
    assert main(["import-weights", "resnet20", str(tmp_path / "resnet20-12fca82f.th"), "-o", str(tmp_path / "run")]) == 0
    assert "akamaster" in capsys.readouterr().err
    net = load_run(tmp_path / "run")
    pads = {n.params["pad_split"] for n in net.graph.nodes.values() if "pad_split" in n.params}
    assert pads == {"both"}
    model = net.module.double().eval()
    x = torch.randn(2, 3, 32, 32, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        want, got = ref(x), model(x)
    scale = float(want.abs().max())
    assert float((got - want).abs().max()) <= 1e-12 * scale
    assert float((exported_output(net.graph, model, x, tmp_path) - want).abs().max()) <= 1e-12 * scale
    # the same tensors in our own zero-pad (channels appended) give another network
    from explorer.compile import compile_graph
    from explorer.presets import build_preset
    plain = compile_graph(build_preset("resnet20")).double().eval()
    plain.load_state_dict(model.state_dict())
    with torch.no_grad():
        assert float((plain(x) - want).abs().max()) > 1e-3 * scale
