"""The analysis tools, in the order the panel and the Analyze menu list them. Adding a tool is one module
with a ``Tool`` subclass and one line here."""
from __future__ import annotations

from explorer.ui.analysis.anatomy import AnatomyTool
from explorer.ui.analysis.degeneracy import DegeneracyTool
from explorer.ui.analysis.depth_sweep import DepthSweepTool
from explorer.ui.analysis.gradflow import GradFlowTool
from explorer.ui.analysis.landscape import LandscapeTool
from explorer.ui.analysis.lesion import LesionTool
from explorer.ui.analysis.paths import PathsTool

TOOLS = [
    GradFlowTool,
    DepthSweepTool,
    LesionTool,
    PathsTool,
    LandscapeTool,
    AnatomyTool,
    DegeneracyTool,
]
