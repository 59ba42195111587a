"""What an analysis runs on: the document's graph, the run selected in the run list, or a run folder.

A ``Target`` is a snapshot taken when Run is pressed (the graph is a copy, the rest are paths), so the
worker never reads the document. Trained weights live in run folders (``train --out DIR``, ``compare
--out DIR``); a run trained in the window keeps its weights only when its settings named a folder, and
a target without weights says so in ``no_weights`` for the tools that need them.

Each target has its results file (see ``results_file``): a run folder keeps ``analysis.json``, a listed
run ``<id>.analysis.json`` beside its record, the document's graph ``graph.analysis.json`` in the
document's runs folder (None while the document has no file).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from explorer.graph.model import Graph
from explorer.runs.project import runs_folder_for

GRAPH_KEY = "graph"
GRAPH_RESULTS = "graph.analysis.json"
FOLDER_RESULTS = "analysis.json"


@dataclass(eq=False)
class Target:
    key: str                      # "graph", "run:<id>" or "folder:<path>": how the panel names it
    label: str                    # what the person reads ("resnet20 (current graph)")
    dataset: str                  # the data set's spec for graph-only tools
    results_path: Path | None     # where results are saved (None: in memory only)
    graph: Graph | None = None    # the network, when known without reading a file (a copy)
    folder: Path | None = None    # trained weights: a run folder, checkpoint or comparison folder
    no_weights: str = ""          # why there are none, for the tools that need them

    def load_graph(self) -> Graph:
        """The network (in the worker: a run folder's graph is read from its checkpoint)."""
        if self.graph is not None:
            return self.graph.copy()
        if self.folder is None:
            raise ValueError(f"{self.label}: its graph could not be read and it has no run folder")
        from explorer.analysis.trained import comparison_paths, load_run

        return load_run(comparison_paths(self.folder)[0]).graph

    def twin_folder(self) -> Path | None:
        """The plain twin's run beside this one, when ``compare --out`` wrote both."""
        if self.folder is None:
            return None
        from explorer.analysis.trained import comparison_paths

        return comparison_paths(self.folder)[1]


def graph_target(graph: Graph, dataset: str, doc_path: Path | None) -> Target:
    name = graph.name or (doc_path.stem if doc_path else "network")
    results = runs_folder_for(doc_path) / GRAPH_RESULTS if doc_path else None
    return Target(GRAPH_KEY, f"{name} (current graph)", dataset, results, graph=graph.copy(),
                  no_weights="the current graph has no trained weights; choose a run folder written by "
                             "`python main.py train ARCH --out DIR` or `compare ARCH --out DIR` (Run folder…)")


def folder_target(folder: str | Path, dataset: str) -> Target:
    from explorer.analysis.trained import comparison_paths

    folder = Path(folder)
    own = comparison_paths(folder)[0]
    own = own if own.is_dir() else own.parent
    shown = f"{folder.parent.name}/{folder.name}" if folder.parent.name else folder.name
    return Target(f"folder:{folder}", f"{shown} (run folder)", dataset, own / FOLDER_RESULTS, folder=folder)


def listed_run_target(record, checkpoint: str | None, store_folder: Path | None) -> Target:
    """A run of the run list; its weights are its settings' ``out_dir`` (or its last checkpoint)."""
    from explorer.graph.fileio import FileFormatError, loads_graph

    try:
        graph = loads_graph(record.graph_json, source=f"run '{record.name}'")
    except FileFormatError:
        graph = None
    folder = _weights_of(record.config.get("out_dir"), checkpoint)
    results = store_folder / f"{record.id}.analysis.json" if store_folder else None
    why = "" if folder else (f"run '{record.name}' kept no weights (runs trained in the window keep their curves "
                             "unless their settings name an output folder); choose a run folder written by "
                             "`python main.py train ARCH --out DIR` (Run folder…)")
    return Target(f"run:{record.id}", f"{record.name} (selected run)", record.dataset, results, graph=graph,
                  folder=folder, no_weights=why)


def _weights_of(out_dir, checkpoint: str | None) -> Path | None:
    from explorer.analysis.trained import WEIGHTS

    if isinstance(out_dir, str) and out_dir and any((Path(out_dir) / w).is_file() for w in WEIGHTS):
        return Path(out_dir)
    if checkpoint and Path(checkpoint).is_file():
        return Path(checkpoint)
    return None
