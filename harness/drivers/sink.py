"""Client of the webhook sink (the on-call's Slack/PagerDuty stand-in)."""

from __future__ import annotations

from typing import Any

import httpx

from harness.core.journal import Journal
from harness.drivers.recording import HttpDriver


class SinkClient(HttpDriver):
    """Reads what reached the on-call.

    `messages` is not journalled here: a feed elsewhere journals each message once. The
    `journal` is accepted for symmetry with the other drivers.
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

    def messages(self, after: int = -1) -> list[dict[str, Any]]:
        """Messages received after sequence number `after`, each with received_ms, path and body."""
        return list(self._http.get("/_sink/messages", params={"after": after}).json()["messages"])
