"""A study as data: its spec and its trials, in the form study.json holds (versioned; a reader refuses a file
of another format or version, or one whose fields do not check, naming what is wrong)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from explorer.studies.spec import SpecError, StudySpec
from explorer.studies.trial import DONE, FAILED, PENDING, RUNNING, Trial
from explorer.util.untrusted import UntrustedInputError, text

FORMAT = "residual-explorer-study"
VERSION = 1


class StudyError(ValueError):
    """A study folder or file that cannot be used as it is; the message says which and what to do."""


@dataclass
class Study:
    spec: StudySpec
    trials: list[Trial]
    notices: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)  # project and torch that ran it

    def trial(self, tid: str) -> Trial:
        return next(t for t in self.trials if t.id == tid)

    def count(self, state: str) -> int:
        return sum(t.state == state for t in self.trials)

    @property
    def finished(self) -> bool:
        """Nothing left to run: every trial done, or failed with its retry spent."""
        return all(t.state == DONE or (t.state == FAILED and not t.retry_left) for t in self.trials)

    def counts(self) -> dict[str, int]:
        return {s: self.count(s) for s in (PENDING, RUNNING, DONE, FAILED)}

    def to_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "version": VERSION, "spec": self.spec.to_dict(), "notices": list(self.notices),
                "versions": dict(self.versions), "trials": [t.to_dict() for t in self.trials]}

    @classmethod
    def from_dict(cls, data: Any, source: str = "study.json") -> "Study":
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise StudyError(f"{source} is not a study file (no \"format\": \"{FORMAT}\")")
        if data.get("version") != VERSION:
            raise StudyError(f"{source} is study format version {data.get('version')!r}; this program reads "
                             f"version {VERSION}")
        try:
            spec = StudySpec.from_dict(data.get("spec"))
            trials = data.get("trials")
            if not isinstance(trials, list) or not trials:
                raise UntrustedInputError("trials must be a non-empty list")
            trials = [Trial.from_dict(t) for t in trials]
            notices = data.get("notices", [])
            versions = data.get("versions", {})
            if not isinstance(notices, list) or not isinstance(versions, dict):
                raise UntrustedInputError("notices must be a list and versions an object")
            notices = [text(n, "notice") for n in notices]
            versions = {text(k, "version name", 100): text(v, "version", 100) for k, v in versions.items()}
        except (SpecError, UntrustedInputError) as e:
            raise StudyError(f"{source} is damaged: {e}") from None
        ids = [t.id for t in trials]
        if len(set(ids)) != len(ids):
            raise StudyError(f"{source} is damaged: two trials have the same id")
        return cls(spec, trials, notices, versions)


def versions() -> dict[str, str]:
    """The project's and torch's versions, for the report."""
    from importlib import metadata

    import torch
    try:
        project = metadata.version("residual-explorer")
    except metadata.PackageNotFoundError:
        project = "unknown"
    return {"residual-explorer": project, "torch": torch.__version__}


__all__ = ["DONE", "FAILED", "PENDING", "RUNNING", "Study", "StudyError", "versions"]
