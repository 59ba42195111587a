"""Set-up of a fine-tuning run: its starting weights (``init_from``), its frozen parts and learning-rate
multipliers, and the record of where its weights came from (``provenance.json`` in the run folder, shown
by ``info RUN_DIR``). Problems end the set-up with a SetupFailure naming the setting and the fix."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from explorer.train.config import TrainConfig
from explorer.train.failures import SetupFailure
from explorer.train.freezing import FreezeError, Freezing, node_multipliers, resolve_nodes
from explorer.train.init_from import InitError, initialise
from explorer.train.provenance import PROVENANCE, read_provenance  # noqa: F401 (read_provenance: its old home)
from explorer.train.reports import FailedReport
from explorer.util.atomic import write_atomic



@dataclass
class FineTuning:
    freezing: Freezing
    multipliers: dict[str, float]
    provenance: dict | None          # None for a run from scratch with every layer training at one rate


def prepare(model, cfg: TrainConfig, resuming: bool, notices: list[str], graph_nodes=()) -> FineTuning:
    """Load the starting weights (not when resuming: the checkpoint has them), resolve the node names, and
    freeze; notices get one line for the weights and one for the frozen part. ``graph_nodes``: every node id
    of the graph (for the messages about names)."""
    init = None
    if cfg.init_from and not resuming:
        try:
            init = initialise(model, cfg.init_from)
        except InitError as e:
            raise SetupFailure(FailedReport("checkpoint", str(e))) from None
        notices.append(init.notice())
    try:
        frozen = resolve_nodes(model, cfg.freeze, "freeze", graph_nodes)
        multipliers = node_multipliers(model, cfg.lr_mult, graph_nodes)
    except FreezeError as e:
        raise SetupFailure(FailedReport("config", str(e), "name node or stage ids, or until:NODE")) from None
    freezing = Freezing(model, frozen, cfg.unfreeze_at, cfg.freeze_bn, cfg.weight_decay, multipliers)
    freezing.freeze()
    if frozen and not any(p.requires_grad for p in model.parameters()):
        raise SetupFailure(FailedReport("config", f"freeze {','.join(cfg.freeze)} covers every node with weights: "
                                                  "nothing is left to train",
                                        "leave at least the classifier out of the frozen part, e.g. "
                                        "until:NODE with a node before it"))
    if frozen:
        until = f" until epoch {cfg.unfreeze_at}" if cfg.unfreeze_at else ""
        bn = "" if cfg.freeze_bn else " (their BatchNorm statistics still follow the data)"
        notices.append(f"frozen{until}: {', '.join(frozen)} ({freezing.frozen_params:,} parameters){bn}")
    provenance = None
    if init is not None or frozen or multipliers or cfg.train_samples:
        provenance = {"init_from": init.to_dict() if init else None, "frozen": frozen,
                      "unfreeze_at": cfg.unfreeze_at or None, "freeze_bn": cfg.freeze_bn,
                      "lr_mult": multipliers, "train_samples": cfg.train_samples}
    return FineTuning(freezing, multipliers, provenance)


def write_provenance(out_dir: str | None, provenance: dict | None) -> None:
    """``provenance.json`` in the run folder (raises OSError); nothing without a folder or a provenance."""
    if out_dir and provenance is not None:
        write_atomic(Path(out_dir) / PROVENANCE, json.dumps(provenance, indent=1) + "\n")
