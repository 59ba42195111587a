"""What an export starts from: a graph and, for a trained run, its weights.

``ARCH`` means what it means everywhere (a preset name or a graph ``.json``), plus a run folder written
by ``train --out`` (or one of its ``.pt`` checkpoints), whose graph and weights then go along.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from explorer.export.python_code import ExportError
from explorer.graph.model import Graph


@dataclass
class ExportSource:
    graph: Graph
    weights: dict | None = None   # the compiled network's state_dict, for a trained run
    origin: str = ""              # what the user named
    files: tuple[Path, ...] = field(default_factory=tuple)  # the files read: an export never writes over them
    trained: str = ""             # for a run: which of its states the weights are
    seed: int | None = None       # without a run: the seed of the initial weights (None: the export holds none)

    def weights_note(self) -> str:
        """Which weights the export holds, as its file says."""
        if self.weights is not None:
            return f"the trained weights of {self.origin}" + (f" ({self.trained})" if self.trained else "")
        if self.seed is not None:
            return (f"the initial weights of {self.graph.name or 'the network'} drawn with seed {self.seed} "
                    f"(those `train --seed {self.seed}` starts from on this graph); not trained")
        return "none (build() draws them at random; export with --seed N for the initial weights of seed N)"


def load_source(arch: str) -> ExportSource:
    """Raises ExportError with the reason (unknown preset, unreadable file, weights that do not fit)."""
    path = Path(arch)
    if path.is_dir() or path.suffix == ".pt":
        from explorer.train.checkpoint import CheckpointError, load_checkpoint

        try:
            ckpt = load_checkpoint(path)
        except CheckpointError as e:
            raise ExportError(str(e)) from None
        return ExportSource(ckpt.graph, dict(ckpt.model_state), arch, (Path(ckpt.path),),
                            trained=f"{Path(ckpt.path).name}: epoch {ckpt.epoch}, step {ckpt.step}")
    from explorer.arch import ArchError, load_arch

    try:
        return ExportSource(load_arch(arch), None, arch, (path,) if path.is_file() else ())
    except ArchError as e:
        raise ExportError(str(e)) from None
