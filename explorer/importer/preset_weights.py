"""``import-weights``: a torchvision or timm state_dict on disk into the preset of the same structure, written
as a run folder (graph.json, config.json, last.pt) that every tool opens like a trained run. A file laid out
by another known codebase (akamaster's CIFAR ResNets) is recognised and the preset built with its conventions
(``explorer.importer.layouts``)."""
from __future__ import annotations

import json
import os
from pathlib import Path

from explorer.graph.fileio import save_graph
from explorer.graph.model import Graph
from explorer.importer.errors import ImporterError
from explorer.importer.layouts import recognise
from explorer.importer.weights import fits, pair_by_structure, read_state_dict


def weights_for_preset(preset: str, path: str | os.PathLike, num_classes: int | None = None,
                       input_shape: tuple[int, ...] | None = None, notes: list[str] | None = None) -> tuple[Graph, dict]:
    """(the preset's graph, its state_dict filled from the file); raises ImporterError naming the first
    tensor that does not fit. A recognised layout's note is appended to ``notes``."""
    from explorer.arch import ArchError, load_arch
    from explorer.compile import CompileError, compile_graph

    theirs = read_state_dict(path, preset_budget(preset, num_classes, input_shape))  # before a preset is built
    layout = recognise(theirs)
    theirs = layout.state(theirs)
    if layout.note and notes is not None:
        notes.append(layout.note)
    try:
        graph = layout.graph(load_arch(preset, num_classes=num_classes, input_shape=input_shape))
        module = compile_graph(graph)
    except (ArchError, CompileError) as e:
        raise ImporterError(str(e)) from None
    ours = module.state_dict()
    state = pair_by_structure(theirs, ours, hint=lambda name: _hint(name, ours, theirs))
    module.load_state_dict(state, strict=True)
    return graph, state


def _hint(our_name: str, ours: dict, theirs: dict) -> str:
    """Advice for the commonest mismatches: another number of classes, another number of input channels."""
    names = [k for k in ours if k.endswith((".weight", ".bias"))]
    if names and our_name in names[-2:]:
        last = [v for k, v in theirs.items() if k.endswith(".bias") or k.endswith(".weight")]
        if last and last[-1].shape[0] != ours[names[-1]].shape[0]:
            return f"; the file's classifier has {last[-1].shape[0]} outputs: add --num-classes {last[-1].shape[0]}"
        if last:
            theirs_w = [v for k, v in theirs.items() if k.endswith(".weight")][-1]
            if not fits(ours[names[-2]].shape, theirs_w.shape):
                return (f"; the classifiers have the same {last[-1].shape[0]} outputs but differ in form: the "
                        f"file's weight is {'×'.join(map(str, theirs_w.shape))}, the preset's Linear "
                        f"{'×'.join(map(str, ours[names[-2]].shape))} (its inputs: another number of features)")
    if names and our_name == names[0]:
        first = next(iter(theirs.values()))
        if first.dim() == 4:
            return f"; the file's first convolution takes {first.shape[1]} channel{'' if first.shape[1] == 1 else 's'}: add --input-shape {first.shape[1]},H,W"
    return "; the file is another network: pick the preset it was trained as (`python main.py presets`)"


def import_weights(preset: str, path: str | os.PathLike, out_dir: str | os.PathLike,
                   num_classes: int | None = None, input_shape: tuple[int, ...] | None = None,
                   force: bool = False, notes: list[str] | None = None) -> Path:
    """Write ``out_dir`` as a run of ``preset`` holding the file's weights; returns the folder. A folder that
    already holds a run is refused, unless ``force``: then it is replaced whole (``explorer.train.run_dir``).
    What was recognised about the file's layout is appended to ``notes``."""
    from explorer.network.inference import analyze
    from explorer.train.checkpoint import Checkpoint, CheckpointWriteError, save_checkpoint
    from explorer.train.config import TrainConfig
    from explorer.train.run_dir import RunDirError, check_target, write_run

    out = Path(out_dir)
    try:
        check_target(out, force)  # before the file is read: a refusal costs nothing
    except RunDirError as e:
        raise ImporterError(str(e)) from None
    graph, state = weights_for_preset(preset, path, num_classes, input_shape, notes)
    a = analyze(graph)
    cfg = TrainConfig(epochs=1, out_dir=str(out))
    data = {"name": "", "input_shape": list(a.input_shape), "num_classes": int(a.output_shape[0]),
            "classes": [], "imported_from": str(path)}

    def write(folder: Path) -> None:
        save_graph(graph, folder / "graph.json")
        (folder / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1) + "\n")
        save_checkpoint(Checkpoint(graph=graph, config=cfg, model_state=state, data=data), folder / "last.pt")

    try:
        write_run(out, write, replace=force)
    except (RunDirError, CheckpointWriteError) as e:
        raise ImporterError(str(e)) from None
    except OSError as e:  # RunFolderInUse included
        raise ImporterError(str(e) if not e.strerror else f"cannot write the run folder {out} ({e.strerror})") from None
    return out


def preset_budget(preset: str, num_classes: int | None, input_shape: tuple[int, ...] | None):
    """What a file of the preset's weights may declare (``explorer.train.torch_archive``), from the costs its
    blocks declare, so a bomb is refused before the file is inflated or the preset built: a float64 copy of
    its parameters (10% on top for BatchNorm's running statistics), no record above its largest node's."""
    from explorer.arch import ArchError, load_arch
    from explorer.network.inference import analyze
    from explorer.train.torch_archive import TensorBudget

    try:
        a = analyze(load_arch(preset, num_classes=num_classes, input_shape=input_shape))
    except ArchError as e:
        raise ImporterError(str(e)) from None
    largest = max((info.cost.params for info in a.nodes.values()), default=0)
    return TensorBudget.of(int(4.4 * a.total.params), int(4.4 * largest), 2, preset)
