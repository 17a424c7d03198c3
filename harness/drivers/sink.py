"""Client of the webhook sink (the on-call's Slack/PagerDuty stand-in)."""

from __future__ import annotations

from typing import Any

import httpx


class SinkClient:
    """Reads what reached the on-call."""

    def __init__(self, base_url: str, timeout: float = 5.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def messages(self, after: int = -1) -> list[dict[str, Any]]:
        """Messages received after sequence number `after`, each with received_ms, path and body."""
        return list(self._http.get("/_sink/messages", params={"after": after}).json()["messages"])
