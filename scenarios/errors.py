"""Errors for bad input: one line that says what, where and how to fix it.

Every reader, the scenario loader and each engine's ``check_*`` layer raise
:class:`InputError` for problems the user can fix.  The CLI turns it into one
line on stderr and exit code 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(eq=False)
class InputError(ValueError):
    """A problem with user input that the user can fix.

    Parameters
    ----------
    message
        What is wrong, in the user's words.
    file
        The file the problem is in, if any.
    row
        1-based data row (the header is row 0), if the problem is on one row.
    column
        The column or scenario path concerned, if any.
    fix
        What to do about it.
    """

    message: str
    file: str | None = None
    row: int | None = None
    column: str | None = None
    fix: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """Return the error as one line: ``file:row: column: message (fix: ...)``."""
        where = []
        if self.file:
            where.append(str(self.file))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        head = ", ".join(where)
        text = f"{head}: {self.message}" if head else self.message
        if self.fix:
            text += f" (fix: {self.fix})"
        return text.replace("\n", " ")

    def __str__(self) -> str:
        return self.one_line()


class ScenarioError(InputError):
    """An invalid scenario file; ``column`` holds the dotted path, e.g. ``catalog.h100.on_demand_usd_per_gpu_hour``."""

    def one_line(self) -> str:
        where = f"{self.file}: " if self.file else ""
        path = f"{self.column}: " if self.column else ""
        text = f"{where}{path}{self.message}"
        if self.fix:
            text += f" ({self.fix})"
        return text.replace("\n", " ")


class InfeasibleError(InputError):
    """An optimisation model has no solution; ``message`` says which input makes it so."""
