"""export --format py|torchscript|onnx: the standalone module rebuilds the network (same parameters, same
output for the same weights) in a process that cannot import the project; TorchScript and ONNX files give
the compiled network's output; refusals are one error line.

The standalone check runs once (one subprocess) over a representative preset of every block type and
stem, small graphs that reach every option of every block type's code, and a build on the meta device of
every preset (parameter count). RESIDUAL_EXPLORER_EXPORT_ALL=1 also compares outputs on every preset.
"""
from __future__ import annotations

import importlib.util
import inspect
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest
import torch

import explorer
from explorer.blocks import BlockType, CompositeBlock, register, unregister
from explorer.blocks.builder import Builder
from explorer.cli import main
from explorer.compile import compile_graph
from explorer.export import ExportError, python_module
from explorer.export.formats import export
from explorer.export.source import ExportSource
from explorer.graph.params import Int, ParamSet
from explorer.network.inference import analyze
from explorer.presets import build_preset, list_presets

PROJECT = Path(explorer.__file__).resolve().parents[1]
ALL = os.environ.get("RESIDUAL_EXPLORER_EXPORT_ALL") == "1"
# Presets whose output is compared: every stem and head, and each block type at a preset's scale; the small
# graphs of CASES reach every option of every block type (SE, weighted, pre-activation bottleneck, ...).
REPRESENTATIVE = ("resnet20", "plain20", "highway20", "wrn16_8", "densenet_bc100_k12", "dpn26_small", "resnet18")
# The 1000-layer presets take longest to build even on the meta device; RESIDUAL_EXPLORER_EXPORT_ALL covers them.
GIANTS = ("resnet1202", "preact_resnet1001", "densenet_bc250_k24")


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


def batch_statistics(model):
    """BatchNorm on the batch's own statistics (dropout off): activations stay in range at any depth, so
    outputs of a 1000-layer network under arbitrary weights still compare."""
    import torch

    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.eval()
    return model


def fill(state):
    """Deterministic values for every float tensor, seeded by its name, so two processes that name the
    tensors alike hold the same weights without sending them."""
    import zlib

    import torch

    with torch.no_grad():
        for key, t in state.items():
            if not t.is_floating_point():
                continue
            r = torch.randn(t.shape, generator=torch.Generator().manual_seed(zlib.crc32(key.encode())), dtype=t.dtype)
            last = key.rsplit(".", 1)[-1]
            if last == "running_var":
                t.copy_(1 + 0.2 * r.abs())
            elif t.dim() >= 2:
                t.copy_(r * (2.0 / max(1, t[0].numel())) ** 0.5)
            elif last == "weight" and t.dim() == 1:
                t.copy_(1 + 0.2 * r)
            else:  # biases, running means, a Scale's λ
                t.copy_(0.2 * r)


CHECK = r'''
import contextlib, importlib.abc, importlib.util, json, sys, torch

class NoProject(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "explorer" or name.startswith("explorer."):
            raise ImportError("the exported module must not import the project")

sys.meta_path.insert(0, NoProject())
torch.set_num_threads(1)
sys.path = [p for p in sys.path if p not in ("", ".", sys.argv[2])]
FILL


@contextlib.contextmanager
def no_init():
    """A parameter count needs no initial values, and torch's init on the meta device runs slow Python
    reference kernels (half this check's time)."""
    saved = {n: f for n, f in vars(torch.nn.init).items() if n.endswith("_") and not n.startswith("_") and callable(f)}
    vars(torch.nn.init).update({n: (lambda t, *a, **k: t) for n in saved})
    try:
        yield
    finally:
        vars(torch.nn.init).update(saved)


cases = torch.load("cases.pt", weights_only=True)
results = {}
for name, case in cases.items():
    spec = importlib.util.spec_from_file_location(name, case["file"])
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    r = results[name] = {}
    if "input" not in case:  # parameter count only, built on the meta device
        with torch.device("meta"), no_init():
            r["params"] = sum(p.numel() for p in mod.build().parameters())
        continue
    model = mod.build()
    state = model.state_dict()
    r["missing"] = sorted(set(case["keys"]) - set(state))
    r["extra"] = sorted(set(state) - set(case["keys"]))
    r["shapes"] = all(list(state[k].shape) == case["keys"][k] for k in set(state) & set(case["keys"]))
    r["params"] = sum(p.numel() for p in model.parameters())
    fill(state)
    with torch.no_grad():
        out = batch_statistics(model)(case["input"])
        r["diff"] = float((out - case["output"]).abs().max())
        r["scale"] = float(case["output"].abs().max())
        r["classes3"] = list(batch_statistics(mod.build(num_classes=3))(case["input"]).shape) if case["head"] else None
r = {"project_imported": any(m == "explorer" or m.startswith("explorer.") for m in sys.modules)}
print(json.dumps({"results": results, **r}))
'''


def _tiny(name: str, add, shape=(4, 8, 8), classes: int = 5):
    """Input -> what ``add(b, x)`` adds -> global pool -> flatten -> linear -> Output."""
    b = Builder(name=name)
    x = add(b, b.input(shape))
    if len(b.shape(x)) == 3:
        x = b.add("flatten", b.add("global_avgpool", x, node_id="pool"), node_id="flatten")
    b.output(b.add("linear", x, node_id="classifier", out_features=classes))
    return b.finish().graph


def _block(type_name: str, repeat: int = 1, **params):
    return lambda b, x: b.add(type_name, x, node_id="stage", repeat=repeat, **params)


def _primitives(b, x):
    """Every primitive, on a small DAG with a hand-made shortcut, and node ids that clash with Python."""
    c = b.conv(x, 8, 3, 2, groups=2, bias=True, node_id="class", padding=0, dilation=2)
    c = b.bn(c, node_id="def", eps=1e-3, momentum=0.2, zero_init=False)
    c = b.add("activation", c, node_id="x", kind="leaky_relu")
    pad = b.add("zeropad_shortcut", x, node_id="torch", out_channels=8, stride=4)
    s = b.add("add", c, b.add("maxpool", pad, node_id="pool_pad", kernel_size=1), node_id="add")
    a = [b.add("activation", s, node_id=f"act_{k}", kind=k) for k in ("elu", "gelu", "silu", "tanh", "sigmoid",
                                                                     "identity", "relu")]
    m = b.add("multiply", a[0], a[1], a[2], node_id="multiply")
    d = b.add("subtract", a[3], a[4], node_id="subtract")
    cat = b.add("concat", m, d, a[5], a[6], node_id="cat")
    sl = b.add("channel_slice", cat, node_id="slice", start=2, stop=20)
    sl = b.add("scale", sl, node_id="lambda", init=0.3)
    sl = b.add("avgpool", b.add("maxpool", sl, node_id="max", kernel_size=3, stride=1, padding=1), node_id="avg",
               kernel_size=2)
    v = b.add("flatten", sl, node_id="flat")
    v = b.add("linear", v, node_id="hidden", out_features=6, bias=False)
    v = b.bn(v, node_id="bn_vec", zero_init=True)
    return b.add("dropout", v, node_id="drop", p=0.2)


CASES = {
    "basic_projection_se": _block("basic", 2, channels=8, stride=2, shortcut="projection", se_reduction=2),
    "basic_zero_pad": _block("basic", 2, channels=8, stride=2, shortcut="zero_pad"),
    "basic_none": _block("basic", channels=4, shortcut="none"),
    "bottleneck_grouped": _block("bottleneck", 2, width=4, out_channels=16, stride=2, groups=2, se_reduction=4),
    "bottleneck_zero_pad": _block("bottleneck", width=4, out_channels=16, stride=2, shortcut="zero_pad"),
    "resnext": _block("resnext", 2, cardinality=2, group_width=2, out_channels=8),
    "preact_basic": _block("preact", 2, out_channels=8, stride=2, dropout=0.2, shortcut="projection"),
    "preact_bottleneck": _block("preact", 2, out_channels=16, stride=2, variant="bottleneck", shortcut="zero_pad",
                                se_reduction=2),
    "preact_bottleneck_width": _block("preact", out_channels=4, variant="bottleneck", width=3),
    "wide": _block("wide", 2, channels=4, widen_factor=2, stride=2),
    "plain": _block("plain", 2, channels=6, stride=2),
    "weighted": _block("weighted", 2, channels=8, stride=2, init_weight=0.3, shortcut="projection"),
    "weighted_zero_pad": _block("weighted", channels=8, stride=2),
    "highway_zero_pad": _block("highway", 2, channels=8, stride=2, gate_bias=-2.0, shortcut="zero_pad"),
    "highway_projection": _block("highway", channels=8, stride=2),
    "highway_none": _block("highway", channels=4, shortcut="none"),
    "dense_plain": _block("dense", growth_rate=3, layers=2, bottleneck=False, dropout=0.1),
    "dense_bottleneck": _block("dense", growth_rate=3, layers=3, bn_size=2),
    "transition": lambda b, x: b.add("transition", x, node_id="t", compression=0.6),
    "dual_path": _block("dual_path", 3, residual_channels=8, increment=4, width=8, groups=2, stride=2),
    "dual_path_entry": _block("dual_path", residual_channels=2, increment=2, width=4, groups=2, entry="projection"),
    "primitives": _primitives,
}


@register
class _CodelessBlock(CompositeBlock):
    """A block type with no code(): the exporter writes it from its expansion."""

    name = "test_codeless"
    title = "Codeless"
    params = ParamSet((Int("channels", 6, 1, 64, "output channels"),))

    def expand(self, p, b, x):
        y = b.act(b.bn(b.conv(x, p["channels"], 3, node_id="conv"), node_id="bn"), node_id="relu")
        return b.add("concat", x, y, node_id="cat")


CASES["codeless_fallback"] = _block("test_codeless", 2, channels=3)
unregister("test_codeless")


def _graphs():
    """(name, graph, compare outputs?) for the cases, the presets whose output is compared, and the rest."""
    for name, add in CASES.items():
        yield name, _tiny(name, add), True
    for info in list_presets():
        compare = ALL or info.name in REPRESENTATIVE
        if not compare and info.name in GIANTS:
            continue
        small = (3, 32, 32) if info.input_shape[1] > 100 else (3, 8, 8)
        yield info.name, build_preset(info.name, num_classes=7, input_shape=small) if compare else build_preset(
            info.name), compare


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """Export every case, keep the compiled network's output under deterministic weights, then check every
    file in one subprocess that cannot import the project."""
    folder = tmp_path_factory.mktemp("standalone")
    register(_CodelessBlock)
    try:
        cases, expected = {}, {}
        for name, graph, compare in _graphs():
            analysis = analyze(graph)
            module = python_module(graph, analysis)
            (folder / f"{name}.py").write_text(module.source)
            expected[name] = analysis.total.params
            case = cases[name] = {"file": str(folder / f"{name}.py")}
            if not compare:
                continue
            model = compile_graph(graph, analysis)
            state = {module.module_key(k): v for k, v in model.state_dict().items()}
            fill(state)  # the compiled tensors themselves, under the exported names
            x = torch.randn(2, *analysis.input_shape, generator=torch.Generator().manual_seed(1))
            with torch.no_grad():
                case.update(keys={k: list(v.shape) for k, v in state.items()}, input=x,
                            output=batch_statistics(model)(x), head=name in CASES or name in REPRESENTATIVE)
    finally:
        unregister("test_codeless")
    torch.save(cases, folder / "cases.pt")
    script = CHECK.replace("FILL", inspect.getsource(fill) + "\n\n" + inspect.getsource(batch_statistics))
    (folder / "check.py").write_text(script)
    proc = subprocess.run([sys.executable, "-I", str(folder / "check.py"), str(folder), str(PROJECT)], cwd=folder,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return report, expected, folder


def test_the_exported_files_import_nothing_of_the_project(standalone):
    report, _, folder = standalone
    assert not report["project_imported"]
    text = (folder / "resnet20.py").read_text()
    imports = {line for line in text.splitlines() if line.startswith(("import ", "from "))}
    assert imports == {"import torch", "from torch import nn", "from torch.nn import functional as F"}


def test_every_preset_has_the_same_parameter_count(standalone):
    report, expected, _ = standalone
    presets = {p.name for p in list_presets()} - (set() if ALL else set(GIANTS))
    assert {n: report["results"][n]["params"] for n in presets} == {n: expected[n] for n in presets}


@pytest.mark.parametrize("name", [*CASES, *REPRESENTATIVE])
def test_same_weights_give_the_same_output(standalone, name):
    r = standalone[0]["results"][name]
    assert (r["missing"], r["extra"], r["shapes"]) == ([], [], True)  # compiled weights load strictly
    assert r["diff"] <= 1e-5 * max(1.0, r["scale"]), r
    assert r["classes3"] == [2, 3]


def test_all_presets_outputs_when_asked(standalone):
    if not ALL:
        pytest.skip("set RESIDUAL_EXPLORER_EXPORT_ALL=1 to compare the output of every preset (minutes)")
    for info in list_presets():
        r = standalone[0]["results"][info.name]
        assert (r["missing"], r["extra"], r["shapes"]) == ([], [], True), info.name
        assert r["diff"] <= 1e-5 * max(1.0, r["scale"]), (info.name, r)


def test_the_module_reads_like_a_person_wrote_it(standalone):
    text = (standalone[2] / "resnet20.py").read_text()
    assert text.count("class BasicBlock(Residual):") == 1
    assert "nn.Sequential(*(BasicBlock(16, 16) for _ in range(3)))" in text  # a stage is one loop
    assert "def build(num_classes=7):" in text  # the preset was exported for 7 classes
    assert "x = self.stem_conv(x)" in text and "return self.classifier(x)" in text
    fallback = (standalone[2] / "codeless_fallback.py").read_text()
    assert "written out from its expansion" in fallback
    primitives = (standalone[2] / "primitives.py").read_text()
    assert "RENAMED = {'class': 'class_', 'def': 'def_', 'lambda': 'lambda_'}" in primitives


# -- trained runs, TorchScript, ONNX ---------------------------------------------------------------
@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A run folder as `train --out` leaves it: resnet20 fitted to 1×8×8 digits, with its (random) weights."""
    from explorer.network.adapt import adapt_to_data
    from explorer.train.checkpoint import Checkpoint, save_checkpoint
    from explorer.train.config import TrainConfig

    graph, _ = adapt_to_data(build_preset("resnet20"), (1, 8, 8), 10)
    model = compile_graph(graph)
    fill(model.state_dict())
    folder = tmp_path_factory.mktemp("run")
    save_checkpoint(Checkpoint(graph=graph, config=TrainConfig(), model_state=model.state_dict()), folder / "last.pt")
    x = torch.randn(3, 1, 8, 8, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        return folder, x, model.eval()(x)


def test_a_run_folder_exports_with_its_weights_beside_the_module(run_folder, tmp_path, capsys):
    folder, x, expected = run_folder
    assert main(["export", str(folder), "--format", "py", "-o", str(tmp_path / "net.py")]) == 0
    assert "the trained weights of" in capsys.readouterr().out
    mod = types.ModuleType("net")
    exec(compile((tmp_path / "net.py").read_text(), "net.py", "exec"), mod.__dict__)
    model = mod.build()
    model.load_state_dict(torch.load(tmp_path / "net.pt", weights_only=True))  # strict
    with torch.no_grad():
        assert torch.equal(model.eval()(x), expected)
    assert mod.build(num_classes=4)(x).shape == (3, 4)


def test_torchscript_loads_and_gives_the_same_output_for_any_batch(run_folder, tmp_path):
    folder, x, expected = run_folder
    assert main(["export", str(folder / "last.pt"), "--format", "torchscript", "-o", str(tmp_path / "net.ts")]) == 0
    scripted = torch.jit.load(str(tmp_path / "net.ts"))
    with torch.no_grad():
        assert torch.allclose(scripted(x), expected, atol=1e-5)
        assert scripted(x[:1]).shape == (1, 10)


def _onnxruntime():
    for name in ("onnx", "onnxscript", "onnxruntime"):
        if importlib.util.find_spec(name) is None:
            pytest.skip(f"{name} is not installed (pip install -e '.[test]' installs it)")
    import onnxruntime
    return onnxruntime


def _imagenet_layout(name: str):
    """ResNet-50's kinds of layer at a few channels (7×7 stride-2 stem, max pool, bottlenecks with projection
    shortcuts, a strided stage): the exporter's work grows with the layers, not with their width or count."""
    from explorer.presets.parts import head, imagenet_stem, stage

    b = Builder(name=name)
    x = imagenet_stem(b, b.input([3, 64, 64]), channels=8)
    x = stage(b, x, "bottleneck", 2, "stage1", width=8, out_channels=32, stride=1)
    x = stage(b, x, "bottleneck", 1, "stage2", width=16, out_channels=64, stride=2)
    b.output(head(b, x, 10))
    return b.finish().graph


@pytest.mark.parametrize("preset, shape", [("resnet20", (3, 32, 32)), ("resnet50_layout", (3, 64, 64))])
def test_onnx_matches_torch_with_a_free_batch_dimension(preset, shape, tmp_path):
    ort = _onnxruntime()
    graph = build_preset(preset, input_shape=shape) if preset == "resnet20" else _imagenet_layout(preset)
    model = compile_graph(graph)
    fill(model.state_dict())
    export(ExportSource(graph, model.state_dict(), preset), "onnx", tmp_path / "net.onnx")
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["weights"] == f"the trained weights of {preset}"
    for batch in (1, 3):
        x = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            expected = model.eval()(x).numpy()
        got = session.run(None, {"input": x.numpy()})[0]
        assert got.shape == expected.shape
        assert abs(got - expected).max() <= 1e-4 * max(1.0, abs(expected).max())


# -- refusals: one error line, nothing written -------------------------------------------------------
def _error(capsys, *argv) -> str:
    assert main(["export", *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_refusals_are_one_error_line(tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "net.py")
    assert "unknown preset 'resnet21'" in _error(capsys, "resnet21", "--format", "py", "-o", out)
    assert "does not exist" in _error(capsys, "resnet20", "--format", "py", "-o", str(tmp_path / "no" / "net.py"))
    assert "is a folder" in _error(capsys, "resnet20", "--format", "py", "-o", str(tmp_path))
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    assert "not a readable checkpoint" in _error(capsys, str(tmp_path / "broken.pt"), "--format", "py", "-o", out)
    assert "invalid choice" in _error(capsys, "resnet20", "--format", "keras", "-o", out)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "onnxscript" else real(name, *a))
    assert "residual-explorer[onnx]" in _error(capsys, "resnet20", "--format", "onnx", "-o", str(tmp_path / "n.onnx"))
    assert not list(tmp_path.glob("n*"))


@register
class _NoCodePrimitive(BlockType):
    name = "test_no_code"
    title = "No code"

    def infer(self, p, in_shapes):
        return tuple(in_shapes[0])


unregister("test_no_code")


def test_a_primitive_without_code_is_refused_naming_the_node():
    register(_NoCodePrimitive)
    try:
        graph = _tiny("nocode", lambda b, x: b.add("test_no_code", x, node_id="mystery"))
        with pytest.raises(ExportError, match="node 'mystery': block type 'test_no_code' declares no code"):
            python_module(graph)
    finally:
        unregister("test_no_code")
