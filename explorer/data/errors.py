"""The single exception type raised by every data loader.

Callers (CLI, GUI) show the message to the user as is, so messages are one
line and name both the offending path and the layout that was expected.
"""


class DatasetError(Exception):
    """A data set could not be found, parsed or validated."""

    def __init__(self, message: str) -> None:
        # Embedded newlines (e.g. from wrapped library errors) would break the
        # one-line status bar and CLI output, so they are flattened here once.
        super().__init__(" ".join(str(message).split()))
