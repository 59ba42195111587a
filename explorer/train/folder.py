"""A run's folder on disk, when it has one (``out_dir``): graph.json and config.json at the start, the
metrics files row by row as reports arrive, and the checkpoints. Without a folder every call is a no-op.

The folder is locked (``run_lock``) from ``open`` to ``close``, so a second training into it is refused
instead of interleaving its metrics and checkpoints with this one's."""
from __future__ import annotations

import json
from pathlib import Path

from explorer.graph.fileio import save_graph
from explorer.graph.model import Graph
from explorer.train.checkpoint import Checkpoint, save_checkpoint
from explorer.train.config import TrainConfig
from explorer.train.metrics import MetricsWriter
from explorer.train.reports import EpochReport, LayerStatsReport, StepReport
from explorer.train.run_lock import RunLock


class RunFolder:
    def __init__(self, out_dir: str | None, graph: Graph, cfg: TrainConfig, dataset) -> None:
        self.dir = Path(out_dir) if out_dir else None
        self.graph = graph
        self.cfg = cfg
        self.data = {"name": dataset.name, "input_shape": list(dataset.input_shape),
                     "num_classes": dataset.num_classes, "classes": list(dataset.classes)}
        self._writer: MetricsWriter | None = None
        self._lock = RunLock(self.dir) if self.dir else None

    @property
    def enabled(self) -> bool:
        return self.dir is not None

    def open(self) -> None:
        """Lock the folder (creating it) and write the run's graph and settings; raises RunFolderInUse when
        another process trains into it, OSError when it cannot be written."""
        if self.dir is None:
            return
        self._lock.acquire()
        self._writer = MetricsWriter(self.dir)
        save_graph(self.graph, self.dir / "graph.json")
        (self.dir / "config.json").write_text(json.dumps(self.cfg.to_dict(), indent=1) + "\n")

    def close(self) -> None:
        """Release the folder (also done by the OS when the process ends)."""
        if self._lock is not None:
            self._lock.release()

    def step(self, r: StepReport) -> None:
        if self._writer:
            self._writer.step(r)

    def layers(self, r: LayerStatsReport) -> None:
        if self._writer:
            self._writer.layers(r)

    def epoch(self, r: EpochReport, step: int) -> None:
        if self._writer:
            self._writer.epoch(r, step)

    def save(self, kind: str, **state) -> str:
        """Write ``kind``.pt (last or best) from the run's state (Checkpoint fields); returns its path."""
        ckpt = Checkpoint(graph=self.graph, config=self.cfg, data=self.data, **state)
        return save_checkpoint(ckpt, self.dir / f"{kind}.pt")
