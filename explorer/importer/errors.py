"""The one error the importer raises: a sentence naming what could not be imported and what to do."""
from __future__ import annotations


class ImporterError(ValueError):
    """The model or the weights cannot be imported; ``str`` is the whole message for an ``error:`` line."""
