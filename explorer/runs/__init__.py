"""Runs: what one training produced (settings, graph, metric series, status), bounded in memory and
saved with the project so they can be reopened and overlaid after a restart. No Qt."""
from explorer.runs.series import LayerSeries, Series
from explorer.runs.store import RunRecord, RunStore

__all__ = ["LayerSeries", "RunRecord", "RunStore", "Series"]
