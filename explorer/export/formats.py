"""Write an export: the standalone ``.py`` (with a ``.pt`` of weights beside it for a trained run),
TorchScript, ONNX or a torch.export program (pt2). Every file is written atomically, so a failure leaves what
was there before."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import logging
import warnings
from pathlib import Path

from explorer.export import torchvision_names
from explorer.export.python_code import ExportError, Naming, python_module
from explorer.export.source import ExportSource
from explorer.export.targets import check_outputs
from explorer.util.atomic import write_atomic, write_atomic_with

FORMATS = ("py", "torchscript", "onnx", "pt2")
SUFFIX = {"py": ".py", "torchscript": ".pt", "onnx": ".onnx", "pt2": ".pt2"}
NOTE_FILE = "weights.txt"  # in a TorchScript or pt2 archive: which weights it holds
NOTE_KEY = "weights"       # the same in an ONNX file's metadata_props
EXAMPLE_BATCH = 2  # traced and exported with a batch of 2; the batch dimension stays free
ONNX_MISSING = ("ONNX export needs the onnx and onnxscript packages: pip install 'residual-explorer[onnx]' "
                "(or pip install onnx onnxscript)")


NAMES = ("ours", "torchvision")  # --names: the node ids, or torchvision's (torchvision_names.py; py only)


def export(source: ExportSource, fmt: str, path: str | Path, force: bool = False, names: str = "ours") -> list[Path]:
    """Write ``source`` as ``fmt`` to ``path``; returns the files written. Raises ExportError, before anything
    is written, for an output that must not be replaced (see targets.check_outputs; ``force``: existing files)."""
    source = with_default_seed(source, fmt)
    path = plan(source, fmt, path, force, names)
    try:
        if fmt == "py":
            return _python(source, path, names)
        return {"torchscript": _torchscript, "onnx": _onnx, "pt2": _pt2}[fmt](source, path)
    except OSError as e:
        raise ExportError(f"cannot write {path} ({e.strerror or e})") from None


def check_target(fmt: str, path: str | Path) -> Path:
    """Refuse a format or output path that cannot work, before any slow step."""
    if fmt not in FORMATS:
        raise ExportError(f"unknown format '{fmt}'; choose one of {', '.join(FORMATS)}")
    path = Path(path)
    if path.is_dir():
        raise ExportError(f"{path} is a folder; name the file to write, e.g. {path / ('model' + SUFFIX[fmt])}")
    if not path.parent.is_dir():
        raise ExportError(f"folder {path.parent} does not exist; create it or choose another output path")
    theirs = [f for f, suffix in SUFFIX.items() if suffix == path.suffix and suffix != ".pt"]
    if theirs and theirs[0] != fmt:  # e.g. a TorchScript archive named .py would pass for source code
        raise ExportError(f"{path}: {path.suffix} is the name of --format {theirs[0]}, not {fmt}; name it "
                          f"{path.stem}{SUFFIX[fmt]}")
    if fmt == "onnx" and (importlib.util.find_spec("onnx") is None or importlib.util.find_spec("onnxscript") is None):
        raise ExportError(ONNX_MISSING)
    return path


def plan(source: ExportSource, fmt: str, path: str | Path, force: bool = False, names: str = "ours") -> Path:
    """The checked output path; refuses (ExportError) a format, folder, naming or output file that must not
    be used."""
    path = check_target(fmt, path)
    if names != "ours":
        if fmt != "py":
            raise ExportError(f"--names {names} renames the layers of the .py module; use it with --format py")
        torchvision_names.check(source.graph)
    check_outputs(outputs(with_default_seed(source, fmt), fmt, path), force, source.files)
    return path


def with_default_seed(source: ExportSource, fmt: str) -> ExportSource:
    """A format that holds weights always holds known ones: without a run's, the initial weights of seed 0."""
    if fmt != "py" and source.weights is None and source.seed is None:
        return dataclasses.replace(source, seed=0)
    return source


def outputs(source: ExportSource, fmt: str, path: Path) -> list[Path]:
    """Every file that exporting ``source`` as ``fmt`` to ``path`` writes."""
    return [path, weights_path(path)] if fmt == "py" and holds_weights(source) else [path]


def holds_weights(source: ExportSource) -> bool:
    """A run's weights, or initial weights of a seed."""
    return source.weights is not None or source.seed is not None


def weights_path(path: Path) -> Path:
    """Where the weights of a trained run go beside its ``.py``."""
    return path.with_suffix(".pt")


def _python(source: ExportSource, path: Path, names: str = "ours") -> list[Path]:
    torchvision = names == "torchvision"
    naming = (Naming(torchvision_names.NETWORK, (torchvision_names.HOOK_INIT,), torchvision_names.hook_source())
              if torchvision else Naming())
    module = python_module(source.graph, weights=source.weights_note(), naming=naming)
    written = [path]
    if holds_weights(source):
        import torch

        model = _compiled(source)  # refuses weights that do not fit the graph before anything is written
        key = (lambda k: torchvision_names.torchvision_key(module.module_key(k))) if torchvision else module.module_key
        state = {key(k): v for k, v in model.state_dict().items()}
        write_atomic_with(weights_path(path), lambda f: torch.save(state, f))
        written.append(weights_path(path))
    write_atomic(path, module.source)
    return written


def _compiled(source: ExportSource):
    """The compiled network in eval mode, with the run's weights when there are any."""
    from explorer.compile import CompileError, compile_graph

    try:
        with _initial_weights(None if source.weights is not None else source.seed):
            model = compile_graph(source.graph)
    except CompileError as e:
        raise ExportError(f"the graph is not valid: {e}") from None
    if source.weights is not None:
        try:
            model.load_state_dict(source.weights)
        except RuntimeError as e:
            raise ExportError(f"{source.origin}: the weights do not fit the stored graph "
                              f"({str(e).splitlines()[0]})") from None
    return model.eval()


def _initial_weights(seed: int | None):
    """Initialise as `train --seed` does (the run's own random stream, the caller's left as it was)."""
    if seed is None:
        return contextlib.nullcontext()
    import torch

    from explorer.train.isolation import RunIsolation
    return RunIsolation(torch.device("cpu"), seed).active()


def _example(model):
    import torch

    # seeded: pt2 keeps the example in its archive, so two exports of one network differ in nothing else
    return torch.randn(EXAMPLE_BATCH, *model.input_shape, generator=torch.Generator().manual_seed(0))


def _torchscript(source: ExportSource, path: Path) -> list[Path]:
    import torch

    model = _compiled(source)
    with torch.no_grad(), _quiet():
        traced = torch.jit.trace(model, _example(model))
    write_atomic_with(path, lambda f: torch.jit.save(traced, f, _extra_files={NOTE_FILE: source.weights_note()}))
    return [path]


def _onnx(source: ExportSource, path: Path) -> list[Path]:
    import torch

    model = _compiled(source)
    batch = torch.export.Dim("batch", min=1)
    with torch.no_grad(), _quiet():
        program = torch.onnx.export(model, (_example(model),), dynamo=True, input_names=["input"],
                                    output_names=["logits"], dynamic_shapes=({0: batch},), verbose=False)
    program.model.metadata_props[NOTE_KEY] = source.weights_note()
    # ONNXProgram.save wants a path; a temporary one beside the target keeps the write atomic.
    tmp = path.with_name(f".{path.name}.export.tmp")
    try:
        program.save(str(tmp))
        write_atomic_with(path, lambda f: f.write(tmp.read_bytes()))
    finally:
        tmp.unlink(missing_ok=True)
    return [path]


def _pt2(source: ExportSource, path: Path) -> list[Path]:
    """torch.export's ExportedProgram (TorchScript's successor), with a free batch dimension; load it with
    torch.export.load(path).module()."""
    import torch

    model = _compiled(source)
    batch = torch.export.Dim("batch", min=1)
    with torch.no_grad(), _quiet():
        program = torch.export.export(model, (_example(model),), dynamic_shapes=({0: batch},))
    note = {NOTE_FILE: source.weights_note()}
    write_atomic_with(path, lambda f: torch.export.save(program, f, extra_files=note))
    return [path]


@contextlib.contextmanager
def _quiet():
    """torch's tracer and exporter warn about things that do not concern a user (torchvision missing,
    deprecations); the result is checked by the tests instead."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)
