"""Exception types shared by the simulated GitHub Actions modules."""

from __future__ import annotations

from dataclasses import dataclass


class SimError(Exception):
    """Base class of every error raised by harness.github."""


class ExpressionError(SimError):
    """A `${{ }}` expression could not be parsed or evaluated."""


@dataclass(frozen=True)
class WorkflowIssue:
    """One problem found in a workflow file, with its 1-based line number."""

    path: str
    line: int
    message: str

    def to_dict(self) -> dict[str, object]:
        """JSON shape used in 422 responses."""
        return {"path": self.path, "line": self.line, "message": self.message}


class WorkflowError(SimError):
    """A workflow file is invalid or uses an unsupported construct."""

    def __init__(self, issues: list[WorkflowIssue]) -> None:
        self.issues = list(issues)
        summary = "; ".join(f"{i.path}:{i.line}: {i.message}" for i in self.issues[:5])
        super().__init__(summary or "invalid workflow")


class ApiError(SimError):
    """An HTTP-level error: carries the status code and a GitHub-style message."""

    def __init__(self, status: int, message: str, **extra: object) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, object]:
        """JSON body in GitHub's error shape."""
        return {"message": self.message, **self.extra}
