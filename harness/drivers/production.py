"""Reads production's own reports (version and health), end to end as its users reach it.

In the Docker topology the base URL is prod-lb's `/api/`, so `/version` and `/health` are
`/api/version` and `/api/health` through the load balancer (either backend may answer). Per
component readings are `harness.drivers.components`'s job.
"""

from __future__ import annotations

import httpx

from harness.core.journal import Journal
from harness.drivers.recording import HttpDriver, describe_error


class ProductionClient(HttpDriver):
    """Production's API at `base_url` (prod-lb's `/api/`, or one backend's root).

    With a `journal`, every probe is journalled as `production.sample` (probe = version,
    health or answers), including the error when production did not answer.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 5.0,
        *,
        journal: Journal | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, timeout, journal, transport)

    def version(self) -> str | None:
        """The version production reports, or None if it does not answer."""
        version: str | None = None
        error: str | None = None
        try:
            version = self._http.get("/version").json().get("version")
        except (httpx.HTTPError, ValueError) as exc:
            error = describe_error(exc)
        self._recorder.record("production.sample", probe="version", version=version, error=error)
        return version

    def answers(self, timeout: float = 1.0) -> bool:
        """True when the app answers at all within `timeout`."""
        error: str | None = None
        try:
            self._http.get("/version", timeout=timeout)
        except httpx.HTTPError as exc:
            error = describe_error(exc)
        answers = error is None
        self._recorder.record("production.sample", probe="answers", answers=answers, error=error)
        return answers

    def healthy(self) -> bool:
        """True when the health endpoint answers 200."""
        status: int | None = None
        error: str | None = None
        try:
            status = self._http.get("/health").status_code
        except httpx.HTTPError as exc:
            error = describe_error(exc)
        healthy = status == 200
        self._recorder.record("production.sample", probe="health", status=status, healthy=healthy, error=error)
        return healthy
