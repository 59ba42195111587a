"""The published codebases' conventions as block options, each against a module written here by hand the way
that codebase writes it, in fp64 with the same (random) weights and BatchNorm statistics:

- pre-activation bottleneck with the stride on the first 1×1 (the authors' resnet-1k-layers Lua);
- pre-activation shortcut fed the raw x (bearpaw, fb.resnet.torch preresnet.lua) or BN-ReLU(x) (ours);
- zero-pad shortcut channels split on both sides (akamaster's CIFAR ResNets) or appended (ours);
- BatchNorm eps per block (timm's DPN: 1e-3);
- timm's legacy SE-ResNet bottleneck (stride on the first 1×1) after its stem (max pool without padding,
  ceil mode).

Each block written with its defaults stays as it was (the hand-written exported class); with an option it
exports from its expansion, checked here too."""
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from equivalence import exported_output, randomise
from explorer.blocks.builder import Builder
from explorer.compile import compile_graph


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


def one_block(block: str, shape, stem=None, **params):
    b = Builder("one_block")
    x = b.input(list(shape))
    if stem:
        x = stem(b, x)
    b.output(b.add(block, x, node_id="block", **params))
    return b.finish().graph


def ours(graph):
    torch.manual_seed(0)
    return randomise(compile_graph(graph))


def load(ref: nn.Module, compiled: nn.Module, names: dict[str, str]) -> nn.Module:
    """``ref``'s tensors from the compiled module's: ``names`` maps a reference prefix to a compiled one."""
    state = compiled.state_dict()
    out = {}
    for key in ref.state_dict():
        prefix, _, leaf = key.rpartition(".")
        out[key] = state[f"{names[prefix]}.{leaf}"]
    ref.double().load_state_dict(out)
    return ref.eval()


def same(graph, model, ref, x, tmp_path):
    with torch.no_grad():
        want, got = ref(x), model(x)
    assert torch.allclose(got, want, rtol=0, atol=1e-12), float((got - want).abs().max())
    assert torch.allclose(exported_output(graph, model, x, tmp_path), want, rtol=0, atol=1e-12)
    return want


def bn(c, eps=1e-5):
    return nn.BatchNorm2d(c, eps=eps)


def conv(i, o, k, s=1, groups=1, bias=False):
    return nn.Conv2d(i, o, k, s, k // 2, groups=groups, bias=bias)


X = torch.randn(2, 8, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


# -- pre-activation ----------------------------------------------------------------------------------------
class PreActBottleneck(nn.Module):
    """resnet-1k-layers (Lua) bottleneck: BN-ReLU first, the stride on the first 1×1, a projection shortcut
    fed the pre-activated input (``raw``: x itself, as fb.resnet.torch's preresnet.lua)."""

    def __init__(self, cin, out, stride, stride_on_1x1=True, raw=False):
        super().__init__()
        w = out // 4
        self.bn1, self.conv1 = bn(cin), conv(cin, w, 1, stride if stride_on_1x1 else 1)
        self.bn2, self.conv2 = bn(w), conv(w, w, 3, 1 if stride_on_1x1 else stride)
        self.bn3, self.conv3 = bn(w), conv(w, out, 1)
        self.shortcut = conv(cin, out, 1, stride)
        self.raw = raw

    def forward(self, x):
        pre = F.relu(self.bn1(x))
        out = self.conv1(pre)
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        return out + self.shortcut(x if self.raw else pre)


PREACT_NAMES = {"bn1": "nodes.block.nodes.bn_in", "conv1": "nodes.block.nodes.conv1", "bn2": "nodes.block.nodes.bn2",
                "conv2": "nodes.block.nodes.conv2", "bn3": "nodes.block.nodes.bn3", "conv3": "nodes.block.nodes.conv3",
                "shortcut": "nodes.block.nodes.shortcut_conv"}


@pytest.mark.parametrize("stride_on, raw", [("1x1", False), ("3x3", False), ("1x1", True), ("3x3", True)])
def test_preact_bottleneck_stride_and_shortcut_input_match_the_reference(stride_on, raw, tmp_path):
    g = one_block("preact", (8, 8, 8), out_channels=16, stride=2, variant="bottleneck", shortcut="projection",
                  stride_on=stride_on, shortcut_input="raw" if raw else "preactivated")
    m = ours(g)
    ref = load(PreActBottleneck(8, 16, 2, stride_on == "1x1", raw), m, PREACT_NAMES)
    same(g, m, ref, X, tmp_path)


def test_the_conventions_change_the_output():
    outs = []
    for stride_on, shortcut_input in (("3x3", "preactivated"), ("1x1", "preactivated"), ("3x3", "raw")):
        g = one_block("preact", (8, 8, 8), out_channels=16, stride=2, variant="bottleneck", shortcut="projection",
                      stride_on=stride_on, shortcut_input=shortcut_input)
        with torch.no_grad():
            outs.append(ours(g)(X))
    assert not torch.allclose(outs[0], outs[1]) and not torch.allclose(outs[0], outs[2])


# -- zero-pad shortcut ----------------------------------------------------------------------------------------
class AkamasterBlock(nn.Module):
    """akamaster/pytorch_resnet_cifar10 BasicBlock, option A: the new channels split on both sides."""

    def __init__(self, in_planes, planes, stride, both=True):
        super().__init__()
        self.conv1, self.bn1 = conv(in_planes, planes, 3, stride), bn(planes)
        self.conv2, self.bn2 = conv(planes, planes, 3), bn(planes)
        pad = (planes // 4, planes // 4) if both else (0, planes - in_planes)
        self.shortcut = lambda x: F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, *pad), "constant", 0)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


@pytest.mark.parametrize("split", ["both", "end"])
def test_zero_pad_split_matches_akamaster_and_fb_resnet_torch(split, tmp_path):
    g = one_block("basic", (8, 8, 8), channels=16, stride=2, shortcut="zero_pad", pad_split=split)
    m = ours(g)
    names = {k: f"nodes.block.nodes.{k}" for k in ("conv1", "bn1", "conv2", "bn2")}
    same(g, m, load(AkamasterBlock(8, 16, 2, split == "both"), m, names), X, tmp_path)


# -- BatchNorm eps: DPN ----------------------------------------------------------------------------------------
class DualPath(nn.Module):
    """timm's DPN block (BatchNormAct2d eps 1e-3, then conv), first block of a stage (projecting)."""

    def __init__(self, cin, r, inc, w, groups, stride, eps):
        super().__init__()
        self.r = r
        self.bn_proj, self.conv_proj = bn(cin, eps), conv(cin, r + 2 * inc, 1, stride)
        self.bn1, self.conv1 = bn(cin, eps), conv(cin, w, 1)
        self.bn2, self.conv2 = bn(w, eps), conv(w, w, 3, stride, groups)
        self.bn3, self.conv3 = bn(w, eps), conv(w, r + inc, 1)

    def forward(self, x):
        skip = self.conv_proj(F.relu(self.bn_proj(x)))
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        out = self.conv3(F.relu(self.bn3(out)))
        r = self.r
        return torch.cat([skip[:, :r] + out[:, :r], skip[:, r:], out[:, r:]], 1)


def test_dual_path_bn_eps_matches_timm(tmp_path):
    g = one_block("dual_path", (8, 8, 8), residual_channels=8, increment=4, width=8, groups=2, stride=2, bn_eps=1e-3)
    m = ours(g)
    tags = {"bn_proj": "bn_proj", "conv_proj": "conv_proj", "bn1": "bn1", "conv1": "conv1", "bn2": "bn2",
            "conv2": "conv2", "bn3": "bn3", "conv3": "conv3"}
    names = {k: f"nodes.block.nodes.{v}" for k, v in tags.items()}
    want = same(g, m, load(DualPath(8, 8, 4, 8, 2, 2, 1e-3), m, names), X, tmp_path)
    default = load(DualPath(8, 8, 4, 8, 2, 2, 1e-5), m, names)
    with torch.no_grad():
        assert not torch.allclose(default(X), want, rtol=0, atol=1e-9)  # eps matters at this precision


# -- timm legacy SE-ResNet --------------------------------------------------------------------------------------
class LegacySEResNet(nn.Module):
    """timm's legacy_seresnet: layer0 (7×7 conv, BN, ReLU, max pool 3/2 without padding, ceil mode), then one
    SEResNetBottleneck: the stride on conv1 (1×1), SE as two biased 1×1 convs, a projection shortcut."""

    def __init__(self, planes=4, reduction=4, stride=2):
        super().__init__()
        self.conv0, self.bn0 = nn.Conv2d(3, 8, 7, 2, 3, bias=False), bn(8)
        self.pool = nn.MaxPool2d(3, stride=2, ceil_mode=True)
        self.conv1, self.bn1 = nn.Conv2d(8, planes, 1, stride, bias=False), bn(planes)
        self.conv2, self.bn2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False), bn(planes)
        self.conv3, self.bn3 = nn.Conv2d(planes, planes * 4, 1, bias=False), bn(planes * 4)
        self.fc1 = nn.Conv2d(planes * 4, planes * 4 // reduction, 1)
        self.fc2 = nn.Conv2d(planes * 4 // reduction, planes * 4, 1)
        self.down_conv, self.down_bn = nn.Conv2d(8, planes * 4, 1, stride, bias=False), bn(planes * 4)

    def forward(self, x):
        x = self.pool(F.relu(self.bn0(self.conv0(x))))
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        gate = torch.sigmoid(self.fc2(F.relu(self.fc1(out.mean((2, 3), keepdim=True)))))
        return F.relu(out * gate + self.down_bn(self.down_conv(x)))


def legacy_stem(b, x):
    x = b.act(b.bn(b.conv(x, 8, 7, 2, node_id="conv0"), node_id="bn0"), node_id="relu0")
    return b.add("maxpool", x, node_id="pool", kernel_size=3, stride=2, padding=0, ceil_mode=True)


def test_timm_legacy_se_resnet_layout(tmp_path):
    g = one_block("bottleneck", (3, 20, 20), stem=legacy_stem, width=4, out_channels=16, stride=2, se_reduction=4,
                  stride_on="1x1", shortcut="projection")
    m = ours(g)
    block = {"conv1": "conv1", "bn1": "bn1", "conv2": "conv2", "bn2": "bn2", "conv3": "conv3", "bn3": "bn3",
             "fc1": "se_reduce", "fc2": "se_expand", "down_conv": "shortcut_conv", "down_bn": "shortcut_bn"}
    names = {k: f"nodes.block.nodes.{v}" for k, v in block.items()} | {"conv0": "nodes.conv0", "bn0": "nodes.bn0"}
    x = torch.randn(2, 3, 20, 20, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    out = same(g, m, load(LegacySEResNet(), m, names), x, tmp_path)
    assert out.shape == (2, 16, 3, 3)  # ceil mode: 10×10 pools to 5×5 (4×4 without it), then stride 2
