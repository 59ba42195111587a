"""Reading a run's ``provenance.json`` (where its weights came from), without torch: ``info RUN_DIR`` shows it
and stays a fraction of a second. fine_tuning.py writes the file.

The file is untrusted like any other: every field is checked before it is shown, and a file that cannot be
read or holds a wrong value is *damaged* (ProvenanceError naming the field), never taken for "no provenance",
which would claim the weights were random and every layer trained.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from explorer.util.untrusted import UntrustedInputError, finite_number, read_regular_file, whole_number

PROVENANCE = "provenance.json"


class ProvenanceError(ValueError):
    """provenance.json exists but is damaged; the message names the field (or why the file is unreadable)."""


def read_provenance(run_dir: str | Path) -> dict | None:
    """The run's provenance, checked, or None when it has none (a run from scratch, an older run); raises
    ProvenanceError when the file is there but damaged."""
    path = Path(run_dir) / PROVENANCE
    if not path.exists():
        return None
    try:
        data = json.loads(read_regular_file(path, 1 << 20, "provenance"))
    except UntrustedInputError as e:
        raise ProvenanceError(str(e)) from None
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ProvenanceError("not valid JSON") from None
    if not isinstance(data, dict):
        raise ProvenanceError("not a JSON object")
    try:
        return _checked(data)
    except UntrustedInputError as e:
        raise ProvenanceError(str(e)) from None


def _checked(p: dict) -> dict:
    init = p.get("init_from")
    if init is not None:
        if not isinstance(init, dict):
            raise UntrustedInputError("'init_from' must be an object")
        for key in ("source", "file", "matched_by"):  # what fine_tuning always writes
            _text(init.get(key), f"'init_from.{key}'")
        _names(init.get("loaded"), "'init_from.loaded'", required=True)
        _names(init.get("unused"), "'init_from.unused'")
        again = init.get("reinitialised")
        if again is not None and not (isinstance(again, dict) and all(isinstance(k, str) and isinstance(v, str)
                                                                      for k, v in again.items())):
            raise UntrustedInputError("'init_from.reinitialised' must map node ids to reasons")
    _names(p.get("frozen"), "'frozen'")
    if p.get("unfreeze_at") is not None:
        whole_number(p["unfreeze_at"], "'unfreeze_at'", 0)
    if not isinstance(p.get("freeze_bn", True), bool):
        raise UntrustedInputError("'freeze_bn' must be true or false")
    mult = p.get("lr_mult")
    if mult is not None:
        if not isinstance(mult, dict) or not all(isinstance(k, str) for k in mult):
            raise UntrustedInputError(f"'lr_mult' must map node ids to numbers, got {_kind(mult)}")
        for node, factor in mult.items():
            finite_number(factor, f"'lr_mult' of {node!r}", 0)
    if p.get("train_samples") is not None:
        whole_number(p["train_samples"], "'train_samples'", 0)
    return p


def _text(value: Any, what: str) -> None:
    if not isinstance(value, str):
        raise UntrustedInputError(f"{what} must be text, got {_kind(value)}")


def _names(value: Any, what: str, required: bool = False) -> None:
    if (value is not None or required) and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise UntrustedInputError(f"{what} must be a list of node ids, got {_kind(value)}")


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "nothing"}.get(
        type(value), type(value).__name__)
