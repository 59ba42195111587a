"""A trained run as the lesion, landscape and path tools need it: the module with the run's own weights,
its graph, and the data set and split it was trained on.

A run is a folder written by ``train --out`` (graph.json, config.json, last.pt, best.pt, ...) or one of
its checkpoints (.pt). Everything read from disk is checked: a folder without weights, a checkpoint whose
weights do not fit its graph, or a graph.json that is not the checkpoint's graph is refused with one
``RunError`` naming the file and what to do.

The plain twin's run is found where ``compare --out DIR`` puts it: DIR/plain next to DIR/residual.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import explorer.blocks  # noqa: F401  the block types a checkpoint's graph names (`analyze landscape` loaded none)
from explorer.graph.fileio import FileFormatError, load_graph
from explorer.graph.model import Graph
from explorer.train.checkpoint import CheckpointError, load_checkpoint

WEIGHTS = ("last.pt", "best.pt")  # a run folder's weights, preferred first


class RunError(ValueError):
    """Not a trained run these tools can use; the message says why and what to do."""


@dataclass
class TrainedRun:
    path: str              # the checkpoint file read
    module: nn.Module      # the run's weights, in eval mode, on the device asked for
    graph: Graph
    dataset: str           # the data set's name as the run recorded it
    seed: int              # the run's seed, which also chose its validation split
    label: str             # how results name it ("resnet20", "resnet20 (plain twin)")


def checkpoint_path(run: str | Path) -> Path:
    """The weights of ``run``: the .pt itself, or a run folder's last.pt (else best.pt)."""
    path = Path(run)
    if path.is_dir():
        for name in WEIGHTS:
            if (path / name).is_file():
                return path / name
        has_graph = (path / "graph.json").is_file()
        what = "has a graph.json but no weights" if has_graph else "holds no run"
        raise RunError(f"{path}: the folder {what} (no {' or '.join(WEIGHTS)}); train it with "
                       f"`python main.py train ARCH --out {path}` or name a checkpoint .pt")
    if not path.exists():
        raise RunError(f"{path}: no such run folder or checkpoint; this tool measures a trained run: train one "
                       "with `python main.py train ARCH --out DIR` and name DIR")
    if path.suffix != ".pt":
        raise RunError(f"{path}: not a run; name a folder written by `train --out` or one of its .pt checkpoints")
    return path


def load_run(run: str | Path, device: torch.device | str = "cpu", label: str | None = None) -> TrainedRun:
    path = checkpoint_path(run)
    try:
        ckpt = load_checkpoint(path)
    except CheckpointError as e:
        raise RunError(str(e)) from None
    _check_folder_graph(path, ckpt.graph)
    from explorer.compile import CompileError, compile_graph

    try:
        module = compile_graph(ckpt.graph)
        module.load_state_dict(ckpt.model_state)
    except CompileError as e:
        raise RunError(f"{path}: the stored graph does not compile ({e})") from None
    except RuntimeError as e:
        first = str(e).splitlines()[1].strip() if len(str(e).splitlines()) > 1 else str(e)
        raise RunError(f"{path}: the checkpoint's weights do not match its graph ({first}); "
                       "it was written for another network") from None
    dataset = str(ckpt.data.get("name") or "digits")
    name = label or ckpt.graph.name or path.parent.name
    return TrainedRun(str(path), module.to(device).eval(), ckpt.graph, dataset, ckpt.config.seed, name)


def twin_run_path(run: str | Path) -> Path | None:
    """The plain twin's run beside ``run`` when ``compare --out`` wrote both (DIR/residual, DIR/plain)."""
    path = Path(run)
    folder = path if path.is_dir() else path.parent
    if folder.name == "residual" and (folder.parent / "plain").is_dir():
        return folder.parent / "plain"
    return None


def comparison_paths(run: str | Path) -> tuple[Path, Path | None]:
    """(the network's run, its plain twin's run or None): ``run`` may also be the comparison folder itself."""
    path = Path(run)
    if path.is_dir() and (path / "residual").is_dir() and not any((path / w).exists() for w in WEIGHTS):
        plain = path / "plain"
        return path / "residual", plain if plain.is_dir() else None
    return path, twin_run_path(path)


def _check_folder_graph(ckpt_path: Path, graph: Graph) -> None:
    """A run folder's graph.json must be the checkpoint's graph (a copied-in checkpoint would mislead)."""
    graph_file = ckpt_path.parent / "graph.json"
    if not graph_file.is_file():
        return
    try:
        stored = load_graph(graph_file)
    except FileFormatError as e:
        raise RunError(str(e)) from None  # load_graph's message already starts with the file
    if _structure(stored) != _structure(graph):
        raise RunError(f"{ckpt_path}: the checkpoint's graph does not match {graph_file} (different nodes, "
                       "parameters or edges); the folder mixes two runs, so train again with a fresh --out")


def _structure(g: Graph):
    """What decides the weights: nodes, parameters, repeats and edges (not positions on the canvas)."""
    return ({n.id: (n.type, n.params, n.repeat) for n in g.nodes.values()}, set(g.edges))


def run_data(run: TrainedRun, dataset: str | None = None):
    """The data set the run was trained on (``dataset`` overrides it, e.g. to give a path the run's record
    lacks), split with the run's seed so its validation samples are the ones it never trained on."""
    from explorer.data import DatasetError
    from explorer.data.cache import cached_dataset

    spec = dataset or run.dataset
    try:
        return cached_dataset(spec, seed=run.seed)
    except DatasetError as e:
        raise RunError(f"{run.path}: cannot load its data set '{spec}' ({e}); name it with --dataset") from None
