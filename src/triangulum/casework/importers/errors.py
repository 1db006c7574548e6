"""The error every importer raises for a file it cannot read."""


class SourceFileError(ValueError):
    """A file that cannot become a source; the message names the file (and line, if known)."""

    def __init__(self, file_name: str, problem: str, *, line: int | None = None):
        where = f"{file_name}, line {line}" if line is not None else file_name
        super().__init__(f"{where}: {problem}")
        self.file_name = file_name
        self.line = line
        self.problem = problem
