"""What an analysis runs on: the document's graph, one of the window's runs, or a run folder.

A ``Target`` names what the panel shows; ``snapshot()``, taken when Run is pressed, is what the worker gets
(the document's graph copied, the rest are paths), so the worker never reads the document. Only the
snapshot copies the graph: the panel asks for the current target each time it shows something, and a
200k-node graph copied for each ask made opening such a file in the window 10 s slower. Trained weights live in run folders: each run trained in the window keeps
one (its ``out_dir``), as do ``train --out DIR`` and ``compare --out DIR``. A run of a Plain vs residual
pair carries its plain twin's run folder in ``twin``; a target without weights says why in ``no_weights``
(what to do in the window) for the tools that need them.

Each target has its results file (see ``results_file``): a run folder keeps ``analysis.json``, a listed
run ``<id>.analysis.json`` beside its record, the document's graph ``graph.analysis.json`` in the
document's runs folder (None while the document has no file).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from explorer.graph.model import Graph
from explorer.runs.project import runs_folder_for

GRAPH_KEY = "graph"
NO_WEIGHTS = ("the current graph has no trained weights. Train it first (Train in the Training panel), or pick a "
              "trained run above")
GRAPH_RESULTS = "graph.analysis.json"
FOLDER_RESULTS = "analysis.json"


@dataclass(eq=False)
class Target:
    key: str                      # "graph", "run:<id>" or "folder:<path>": how the panel names it
    label: str                    # what the person reads ("resnet20 (current graph)")
    dataset: str                  # the data set's spec for graph-only tools
    results_path: Path | None     # where results are saved (None: in memory only)
    graph: Graph | None = None    # the network, when known without reading a file (the document's, until
                                  # ``snapshot`` copies it)
    folder: Path | None = None    # trained weights: a run folder, checkpoint or comparison folder
    no_weights: str = ""          # why there are none, for the tools that need them
    twin: Path | None = None      # the plain twin's run folder of a Plain vs residual pair trained in the window

    def snapshot(self) -> "Target":
        """This target for the worker: the graph copied now, in the GUI thread."""
        return replace(self, graph=self.graph.copy()) if self.graph is not None else self

    def load_graph(self) -> Graph:
        """The network (in the worker: a run folder's graph is read from its checkpoint)."""
        if self.graph is not None:
            return self.graph.copy()
        if self.folder is None:
            raise ValueError(f"{self.label}: its graph could not be read and it has no run folder")
        from explorer.analysis.trained import comparison_paths, load_run

        return load_run(comparison_paths(self.folder)[0]).graph

    def twin_folder(self) -> Path | None:
        """The plain twin's run: the pair's, or beside this one when ``compare --out`` wrote both."""
        if self.twin is not None:
            return self.twin
        if self.folder is None:
            return None
        from explorer.analysis.trained import comparison_paths

        return comparison_paths(self.folder)[1]


def graph_label(graph: Graph, doc_path: Path | None) -> str:
    return f"{graph.name or (doc_path.stem if doc_path else 'network')} (current graph)"


def graph_target(graph: Graph, dataset: str, doc_path: Path | None) -> Target:
    results = runs_folder_for(doc_path) / GRAPH_RESULTS if doc_path else None
    return Target(GRAPH_KEY, graph_label(graph, doc_path), dataset, results, graph=graph, no_weights=NO_WEIGHTS)


def folder_target(folder: str | Path, dataset: str) -> Target:
    from explorer.analysis.trained import comparison_paths

    folder = Path(folder)
    own = comparison_paths(folder)[0]
    own = own if own.is_dir() else own.parent
    shown = f"{folder.parent.name}/{folder.name}" if folder.parent.name else folder.name
    return Target(f"folder:{folder}", f"{shown} (run folder)", dataset, own / FOLDER_RESULTS, folder=folder)


def listed_run_target(record, checkpoint: str | None, store_folder: Path | None, twin=None,
                      twin_checkpoint: str | None = None) -> Target:
    """A run of the run list; its weights are its settings' ``out_dir`` (or its last checkpoint). ``twin``:
    the record of its plain twin's run when the two are a Plain vs residual pair."""
    from explorer.graph.fileio import FileFormatError, loads_graph

    try:
        graph = loads_graph(record.graph_json, source=f"run '{record.name}'")
    except FileFormatError:
        graph = None
    folder = _weights_of(record.config.get("out_dir"), checkpoint)
    results = store_folder / f"{record.id}.analysis.json" if store_folder else None
    why = "" if folder else (f"run '{record.name}' has no weights yet ({record.status}); let it finish, or pick "
                             "a trained run")
    twin_folder = _weights_of(twin.config.get("out_dir"), twin_checkpoint) if twin is not None else None
    shown = f"{record.name} and {twin.name}" if twin_folder is not None else record.name
    return Target(f"run:{record.id}", shown, record.dataset, results, graph=graph, folder=folder, no_weights=why,
                  twin=twin_folder)


def _weights_of(out_dir, checkpoint: str | None) -> Path | None:
    from explorer.analysis.trained import WEIGHTS

    if isinstance(out_dir, str) and out_dir and any((Path(out_dir) / w).is_file() for w in WEIGHTS):
        return Path(out_dir)
    if checkpoint and Path(checkpoint).is_file():
        return Path(checkpoint)
    return None
