"""Errors that stop a REFI-QDA file from being read at all."""


class RefiError(Exception):
    """A file that cannot be read; the message names the file and the place."""


class BrokenFileError(RefiError):
    """Not well-formed XML, or an archive that must not be opened."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


class ExportError(RefiError):
    """A project that cannot be written as a valid REFI-QDA file."""
