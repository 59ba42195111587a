"""export --format train-script: a standalone training script (torch only) that trains on one device or
under torchrun with DistributedDataParallel; two Gloo processes on this CPU end with identical weights,
the loss goes down, and rank 0's final.pt loads strictly into the exported module's build()."""
import ast
import csv
import gzip
import importlib.util
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from explorer.cli import main
from explorer.export import python_module
from explorer.export.train_script import train_script
from explorer.graph.fileio import save_graph
from explorer.train import TrainConfig
from explorer.train import optim
from explorer.train.testing import tiny_graph

CLASSES = 4
# What the script may import: the standard library, torch, and the optional readers of its data options.
OPTIONAL = {"torch", "sklearn", "PIL", "torchvision"}


pytestmark = pytest.mark.usefixtures("one_thread")   # conftest: torch on one thread for the module


def write_idx(path: Path, array: torch.Tensor) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.dim()) + struct.pack(f">{array.dim()}I", *array.shape)
    path.write_bytes(gzip.compress(header + array.to(torch.uint8).numpy().tobytes()))


@pytest.fixture(scope="module")
def mnist_like(tmp_path_factory):
    """A tiny MNIST-layout folder: 8×8 grey images, one bright quadrant per class plus noise."""
    root = tmp_path_factory.mktemp("idx")
    g = torch.Generator().manual_seed(0)
    for prefix, n in (("train", 128), ("t10k", 32)):
        y = torch.arange(n) % CLASSES
        x = torch.rand(n, 8, 8, generator=g) * 60
        for k in range(CLASSES):
            r, c = divmod(k, 2)
            x[y == k, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 180
        write_idx(root / f"{prefix}-images-idx3-ubyte.gz", x)
        write_idx(root / f"{prefix}-labels-idx1-ubyte.gz", y)
    return root


def load_module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def outside_env():
    """A subprocess environment that cannot import the project and uses one thread per process."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    return env


def losses(out: Path) -> list[float]:
    return [float(r["loss"]) for r in csv.DictReader(open(out / "steps.csv"))]


RANKS = '''
import importlib.abc, importlib.util, os, sys, torch

class NoProject(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "explorer" or name.startswith("explorer."):
            raise ImportError("the training script must not import the project")

sys.meta_path.insert(0, NoProject())
spec = importlib.util.spec_from_file_location("train", sys.argv[1])
train = importlib.util.module_from_spec(spec)
spec.loader.exec_module(train)
model = train.main(sys.argv[2:])
torch.save(model.state_dict(), os.path.join(os.environ["RANKS_OUT"], f"rank{os.environ['RANK']}.pt"))
'''


def test_two_gloo_processes_end_with_the_same_weights(tmp_path, mnist_like):
    graph = tiny_graph(channels=8, blocks=1, classes=CLASSES)
    cfg = TrainConfig(epochs=3, batch_size=16, lr=0.1, schedule="constant", warmup_epochs=0, log_every=1)
    script, ranks, out = tmp_path / "train.py", tmp_path / "ranks.py", tmp_path / "run"
    script.write_text(train_script(graph, cfg, data=f"mnist:{mnist_like}"))
    ranks.write_text(RANKS)
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        str(ranks), str(script), "--device", "cpu", "--out", str(out)],
                       cwd=tmp_path, env=dict(outside_env(), RANKS_OUT=str(tmp_path)), capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "with 2 × cpu: 3 epochs × 4 steps" in r.stdout  # 128 images, 64 per process, 16 per batch

    rank0, rank1 = (torch.load(tmp_path / f"rank{i}.pt", weights_only=True) for i in (0, 1))
    assert rank0.keys() == rank1.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0)  # parameters and BatchNorm statistics alike
    final = torch.load(out / "final.pt", weights_only=True)
    assert all(torch.equal(final[k], rank0[k]) for k in rank0)

    curve = losses(out)
    assert len(curve) == 12 and sum(curve[-3:]) < sum(curve[:3])
    assert [row["epoch"] for row in csv.DictReader(open(out / "metrics.csv"))] == ["1", "2", "3"]

    exported = tmp_path / "model.py"
    exported.write_text(python_module(graph).source)
    model = load_module(exported, "exported_model").build()
    model.load_state_dict(final, strict=True)


def test_the_data_is_adapted_never_the_network(tmp_path, mnist_like, capsys):
    graph = tiny_graph(channels=4, blocks=1, classes=10, input_shape=(3, 12, 12))
    script, out = tmp_path / "train.py", tmp_path / "run"
    script.write_text(train_script(graph, TrainConfig(batch_size=32)))
    mod = load_module(script, "adapting_train")
    with torch.random.fork_rng():  # in this process, so the script's seeding must not leak into other tests
        mod.main(["--data", f"mnist:{mnist_like}", "--max-steps", "2", "--out", str(out), "--device", "cpu"])
    printed = capsys.readouterr().out
    assert ("notice: the data's images are 1×8×8 and the network takes 3×12×12: channels repeated, resized "
            "8×8 -> 12×12 (the network is unchanged)") in printed
    assert "final.pt loads into build(num_classes=4)" in printed
    exported = tmp_path / "model.py"
    exported.write_text(python_module(graph).source)
    model = load_module(exported, "adapted_model").build(num_classes=4)
    model.load_state_dict(torch.load(out / "final.pt", weights_only=True), strict=True)
    assert model.classifier.out_features == 4 and tuple(model.stem_conv.weight.shape[1:]) == (3, 3, 3)


def test_export_command_writes_a_script_with_the_settings_as_defaults(tmp_path, capsys):
    arch = tmp_path / "tiny.json"
    save_graph(tiny_graph(classes=CLASSES), arch)
    script = tmp_path / "train.py"
    assert main(["export", str(arch), "--format", "train-script", "-o", str(script), "--epochs", "7",
                 "--lr", "0.2", "--optimizer", "adamw", "--dataset", "mnist:/data/mnist"]) == 0
    assert f"wrote {script}" in capsys.readouterr().out

    tree = ast.parse(script.read_text())
    roots = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    roots |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level == 0}
    assert roots - OPTIONAL <= set(sys.stdlib_module_names) | {"__future__"}

    mod = load_module(script, "exported_train")
    args = mod.parse_args([])
    assert (args.epochs, args.lr, args.optimizer, args.data) == (7, 0.2, "adamw", "mnist:/data/mnist")
    assert (args.batch_size, args.schedule, args.seed) == (64, "cosine", 0)  # the rest: the app's defaults
    assert mod.parse_args(["--epochs", "2", "--max-steps", "5"]).max_steps == 5


def test_the_schedule_is_the_apps(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(train_script(tiny_graph()))
    mod = load_module(script, "schedule_train")
    for schedule in ("constant", "step", "cosine", "onecycle", "linear", "warmup"):
        cfg = TrainConfig(schedule=schedule, warmup_epochs=0.5)
        args = mod.parse_args(["--schedule", schedule, "--warmup", "0.5"])
        assert [mod.lr_factor(s, 40, 10, args) for s in range(40)] == [optim.lr_factor(s, 40, 10, cfg)
                                                                      for s in range(40)]


def test_bad_data_is_one_error_line(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(train_script(tiny_graph()))
    mod = load_module(script, "bad_data_train")
    for spec, words in ((f"mnist:{tmp_path / 'nowhere'}", "train-labels-idx1-ubyte"),
                        ("imagenet:/x", "unknown data 'imagenet'"), ("digits:/x", "digits takes no path")):
        with pytest.raises(SystemExit) as e:
            mod.main(["--data", spec, "--out", str(tmp_path / "run"), "--device", "cpu"])
        assert str(e.value).startswith("error: ") and words in str(e.value)
