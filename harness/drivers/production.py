"""Reads the production target's own reports (version and health endpoints)."""

from __future__ import annotations

import httpx


class ProductionClient:
    """The app on one production host, reached through its published port."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def version(self) -> str | None:
        """The version production reports, or None if it does not answer."""
        try:
            return self._http.get("/version").json().get("version")
        except (httpx.HTTPError, ValueError):
            return None

    def answers(self, timeout: float = 1.0) -> bool:
        """True when the app answers at all within `timeout`."""
        try:
            self._http.get("/version", timeout=timeout)
            return True
        except httpx.HTTPError:
            return False

    def healthy(self) -> bool:
        """True when the health endpoint answers 200."""
        try:
            return self._http.get("/health").status_code == 200
        except httpx.HTTPError:
            return False
