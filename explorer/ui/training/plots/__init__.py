"""Live training plots (pyqtgraph). Each view reads runs from the RunController when its Throttle fires
and updates plot items it created once (``setData``/``setImage``); none creates items per frame."""
