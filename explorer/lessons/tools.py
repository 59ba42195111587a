"""The tools a lesson runs, through the same core functions the command line and the window use:
train (each network, then measurements on it), compare (a network and its plain twin), study (a depth
study of a family with plain twins, explorer.studies), depth-sweep (gradient flow at initialisation over
depths, with and without normalisation) and degeneracy (effective rank by depth at initialisation,
network and twin).

Each tool returns a ``ToolResult``: flat ``measured`` numbers the lesson's check names
(``plain56.final_train_err``, ``bn.deepest.plain_spread_orders``), ``details`` for the result views, and
the trained networks (their records and run folders). A failed training leaves its numbers out, so the
check calls them unmeasured instead of guessing.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from explorer.lessons.control import LessonControl
from explorer.lessons.spec import LessonError
from explorer.lessons.training import TrainedNetwork, train_config, train_network


@dataclass
class ToolResult:
    measured: dict = field(default_factory=dict)
    details: dict = field(default_factory=dict)
    trained: list[TrainedNetwork] = field(default_factory=list)

    def add(self, prefix: str, values: dict) -> None:
        for k, v in values.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
                self.measured[f"{prefix}.{k}"] = v


# -- shared helpers -------------------------------------------------------------------------------------
def dataset_for(settings: dict):
    from explorer.data import DatasetError
    from explorer.data.cache import cached_dataset

    spec = settings.get("dataset", "digits")
    try:
        return cached_dataset(spec, seed=settings.get("seed", 0))
    except DatasetError as e:
        raise LessonError(f"data set '{spec}': {e}") from None


def fitted(name: str, graph, ds):
    """``graph`` fitted to the data set's images and classes, validated (one error naming the node)."""
    from explorer.network.adapt import adapt_to_data
    from explorer.network.inference import analyze

    g, _ = adapt_to_data(graph, ds.input_shape, ds.num_classes)
    a = analyze(g)
    if not a.valid:
        raise LessonError(f"network '{name}' does not fit {ds.name}: {a.errors[0].text}")
    g.name = name
    return g


def cost(graph) -> dict:
    from explorer.network.inference import analyze

    t = analyze(graph).total
    return {"params": t.params, "macs": t.macs, "weight_layers": t.weight_layers, "graph_nodes": len(graph.nodes)}


def folder_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "network"


def _device_batch(module, x, y=None):
    import torch

    p = next(module.parameters(), None)
    dev = p.device if p is not None else torch.device("cpu")
    return (x.to(dev), None if y is None else y.to(dev))


# -- measurements on a trained network ------------------------------------------------------------------
def measure(t: TrainedNetwork, ds, settings: dict, control: LessonControl) -> tuple[dict, dict]:
    """(numbers, details) of each analysis the settings ask for, on the trained network."""
    numbers, details = {}, {}
    if t.module is None:
        return numbers, details
    n = settings.get("measure_batch", 256)
    for name in settings.get("analyses", []):
        control.progress(f"{name} of {t.name}", 0, 1)
        values, detail = ANALYSES[name](t, ds, settings, n, control)
        numbers.update(values)
        details[name] = detail
    return numbers, details


def _lesion(t, ds, settings, n, control):
    from explorer.analysis.lesion import lesion_study

    x, y = _device_batch(t.module, ds.x_val, ds.y_val)
    s = lesion_study(t.module, t.graph, x, y, random_k=False, label=t.name, control=control.analysis)
    drops = s.drops
    values = {"baseline_acc": s.baseline_acc, "lesion_blocks": len(s.blocks)}
    if len(drops):
        values.update(lesion_mean_drop=float(drops.mean()), lesion_max_drop=float(drops.max()))
    return values, s.to_json()


def _paths(t, ds, settings, n, control):
    import numpy as np

    from explorer.analysis.paths import path_gradients, paths_verdict

    x, y = _device_batch(t.module, ds.x_train[:n], ds.y_train[:n])
    p = path_gradients(t.module, t.graph, x, y, samples=settings.get("samples", 16), seed=settings.get("seed", 0),
                       control=control.analysis)
    values = {"paths_blocks": p.blocks}
    total = p.grad_total
    if p.blocks and total.sum() > 0:
        lengths = np.arange(p.blocks + 1)
        values.update(paths_mean_length=float((lengths * total).sum() / total.sum()),
                      paths_half_length=p.blocks / 2,
                      paths_long_over_short=float(p.grad_per_path[-1] / p.grad_per_path[0])
                      if p.grad_per_path[0] > 0 else float("nan"))
    return values, p.to_json() | {"verdict": paths_verdict(p, t.name)}


def _landscape(t, ds, settings, n, control):
    from explorer.analysis.landscape import loss_landscape, sharpness

    x, y = _device_batch(t.module, ds.x_train[:n], ds.y_train[:n])
    land = loss_landscape(t.module, x, y, steps=settings.get("grid", 11), span=settings.get("span", 1.0),
                          seed=settings.get("seed", 0), control=control.analysis)
    return {"sharpness": sharpness(land), "centre_loss": land.centre_loss}, land.to_json()


def _gates(t, ds, settings, n, control):
    from explorer.analysis.gates import gate_values

    x, _ = _device_batch(t.module, ds.x_val[:n])
    rows = gate_values(t.module, x, control.analysis)
    values = {"gated_units": len(rows)}
    if rows:
        means = [r.mean for r in rows]
        values.update(gate_mean=sum(means) / len(means), gate_min=min(means), gate_max=max(means))
    return values, {"units": [r.to_json() for r in rows]}


ANALYSES: dict[str, Callable] = {"lesion": _lesion, "paths": _paths, "landscape": _landscape, "gates": _gates}


# -- the tools ------------------------------------------------------------------------------------------
def train_tool(networks: list[tuple[str, object]], settings: dict, out: Path, control: LessonControl) -> ToolResult:
    """Train each network with the same settings; its numbers, cost and measurements under its name."""
    ds = dataset_for(settings)
    result = ToolResult(details={"networks": []})
    graphs = [(name, fitted(name, g, ds)) for name, g in networks]  # every network checked before any trains
    for i, (name, g) in enumerate(graphs):
        control.progress("networks trained", i, len(graphs))
        t = train_network(name, g, ds, train_config(settings, out / "runs" / folder_name(name)), control)
        _keep(result, name, t, cost(g), ds, settings, control)
    control.progress("networks trained", len(graphs), len(graphs))
    return result


def _keep(result: ToolResult, name: str, t: TrainedNetwork, costs: dict, ds, settings, control) -> None:
    values, details = measure(t, ds, settings, control)
    result.trained.append(t)
    result.add(name, t.measured() | costs | values)
    result.details["networks"].append({"name": name, "run_dir": t.run_dir, "failure": t.failure, **costs,
                                       **t.measured(), "analyses": details})


def compare_tool(networks: list[tuple[str, object]], settings: dict, out: Path, control: LessonControl) -> ToolResult:
    """The first network and its plain twin (explorer.train.compare's plan), trained alike, as
    ``residual.*`` and ``plain.*``; the per-layer gradient of both at the last step both reached."""
    from explorer.runs.verdict import common_step, first_to_last, gradient_at, verdict
    from explorer.train.compare import plan_comparison

    name, graph = networks[0]
    ds = dataset_for(settings)
    plan = plan_comparison(fitted(name, graph, ds), train_config(settings, out / "compare"), name)
    if plan.identical:
        raise LessonError(f"network '{name}': {plan.describe()}")
    result = ToolResult(details={"networks": [], "comparison": plan.describe()})
    runs = {}
    for i, r in enumerate(plan.runs):
        control.progress("networks trained", i, len(plan.runs))
        t = train_network(r.arch, r.graph, ds, r.config, control)
        runs[r.role] = t
        _keep(result, r.role, t, cost(r.graph), ds, settings, control)
    plain, res = (runs["plain"].feed.layers.get("output_grad_norm"), runs["residual"].feed.layers.get("output_grad_norm"))
    step = common_step(plain, res)
    p, r = gradient_at(plain, step), gradient_at(res, step)
    if p and r:
        result.measured["grad_step"] = p[0]
        for role, at in (("plain", p), ("residual", r)):
            ratio = first_to_last(at[1])
            if ratio is not None and math.isfinite(ratio):
                result.measured[f"{role}.grad_first_over_last"] = ratio
        result.details["gradient"] = {"step": p[0], "keys": list(plain.keys), "plain": p[1].tolist(),
                                      "residual": r[1].tolist()}
    result.details["verdict"] = verdict(runs["plain"].record, runs["residual"].record, plain, res)
    return result


def depth_sweep_tool(networks, settings: dict, out: Path, control: LessonControl) -> ToolResult:
    """Gradient flow at initialisation of ``family`` at each depth and of its plain twin, with and/or
    without normalisation (``normalisation``), as ``bn.<depth>.*`` and ``nobn.<depth>.*`` (also
    ``shallowest`` and ``deepest``)."""
    from explorer.analysis.depth_sweep import DepthError, depth_sweep, family_graph, sweep_verdict

    ds = dataset_for(settings)
    family, depths = settings["family"], settings.get("depths", [8, 20, 56])
    try:
        graphs = {d: fitted(f"{family}{d}", family_graph(family, d), ds) for d in depths}
    except DepthError as e:
        raise LessonError(str(e)) from None
    n = settings.get("measure_batch", 128)
    x, y = ds.x_train[:n], ds.y_train[:n]
    result = ToolResult()
    for norm in settings.get("normalisation", [True, False]):
        tag = "bn" if norm else "nobn"
        points = depth_sweep(graphs, x, y, settings.get("seed", 0), norm, control.analysis)
        for p in points:
            result.add(f"{tag}.{p.depth}", p.row())
        result.add(f"{tag}.shallowest", points[0].row())
        result.add(f"{tag}.deepest", points[-1].row())
        result.details[tag] = {"depths": [p.row() for p in points], "verdict": sweep_verdict(points)}
    return result


def degeneracy_tool(networks, settings: dict, out: Path, control: LessonControl) -> ToolResult:
    """Effective rank, dead and duplicated units of the first network and its plain twin at
    initialisation, on one validation batch; the deeper half's means as ``residual.deep_*`` and ``plain.deep_*``."""
    from explorer.analysis.degeneracy import graph_plan, study
    from explorer.network.twins import plain_twin

    name, graph = networks[0]
    ds = dataset_for(settings)
    g = fitted(name, graph, ds)
    twin = plain_twin(g)[0]
    seed = settings.get("seed", 0)
    x = ds.x_val[:settings.get("measure_batch", 256)]
    s = study(name, graph_plan(g, seed), graph_plan(twin, seed), x, control.analysis)
    result = ToolResult(details=s.to_json())
    for role, net in (("residual", s.net), ("plain", s.plain)):
        deep = net.latest.deep_half()
        corrs = [la.max_corr for la in deep if la.max_corr is not None]
        result.add(role, {"deep_rank": sum(la.effective_rank for la in deep) / len(deep),
                          "deep_dead": sum(la.dead_fraction for la in deep) / len(deep),
                          "deep_max_corr": sum(corrs) / len(corrs) if corrs else float("nan"),
                          "last_rank": net.latest.layers[-1].effective_rank})
    return result


def study_tool(networks, settings: dict, out: Path, control: LessonControl) -> ToolResult:
    """A depth study (explorer.studies) of ``family`` at ``depths``, each depth with its plain twin, ``seeds``
    seeds each, on the local pool: the mean errors over seeds as ``residual.<depth>.train_err`` and
    ``plain.<depth>.train_err`` (also ``shallowest`` and ``deepest``), and the study's own verdict."""
    from explorer.analysis.control import Cancelled
    from explorer.lessons.training import CONFIG_KEYS
    from explorer.studies import (ExecutorError, LocalExecutor, SpecError, StudyControl, StudyError, StudySpec,
                                  result_object, run_study, summary_rows)

    first = settings.get("seed", 0)
    spec = StudySpec("depth", family=settings["family"], depths=tuple(settings.get("depths", [20, 56])),
                     seeds=tuple(range(first, first + settings.get("seeds", 1))),
                     dataset=settings.get("dataset", "digits"),
                     config={k: settings[k] for k in CONFIG_KEYS if k in settings and k != "seed"})
    stop = StudyControl()

    def progress(update) -> None:
        if control.cancelled:
            stop.cancel()   # running trials end within a step; the study folder can be resumed
        total = len(update.study.trials)
        left = update.counts.get("pending", 0) + update.counts.get("running", 0)
        control.report("study trials done", total - left, total)

    try:
        study = run_study(spec, out / "study", LocalExecutor(), progress, stop)
    except (SpecError, StudyError, ExecutorError) as e:
        raise LessonError(f"the depth study: {e}") from None
    if control.cancelled:
        raise Cancelled("lesson cancelled")
    result = ToolResult(details=result_object(study) | {"folder": str(out / "study")})
    rows = [r for r in summary_rows(study) if r["train_err_mean"] is not None]
    ends = {"shallowest": min(spec.depths), "deepest": max(spec.depths)}   # a failed end stays unmeasured
    for role, plain in (("residual", False), ("plain", True)):
        for r in (r for r in rows if r["plain"] == plain):
            values = {"train_err": r["train_err_mean"], "val_err": r["val_err_mean"], "depth": r["depth"]}
            result.add(f"{role}.{r['depth']}", values)
            for alias, depth in ends.items():
                if r["depth"] == depth:
                    result.add(f"{role}.{alias}", values)
    return result


TOOLS: dict[str, Callable[..., ToolResult]] = {"train": train_tool, "compare": compare_tool,
                                               "depth-sweep": depth_sweep_tool, "degeneracy": degeneracy_tool,
                                               "study": study_tool}
