"""HTTP client of the runner protocol (urllib only)."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from typing import Any


class TransportError(OSError):
    """The server could not be reached (connection refused, timeout, reset, ...)."""


class HttpError(Exception):
    """The server answered with an error status."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


class RunnerClient:
    """Calls /_runner/* on the simulated GitHub. `disable()` makes every call fail (crash simulation)."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self._disabled = threading.Event()
        # The simulated GitHub is always reached directly: ignore http_proxy & co.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def disable(self) -> None:
        self._disabled.set()

    def request(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None, raw: bool = False
    ) -> Any:
        """JSON request; returns the decoded body (None for 204) or bytes when raw."""
        if self._disabled.is_set():
            raise TransportError("client disabled")
        url = path if path.startswith("http") else f"{self.base_url}{path}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(req, timeout=timeout_s or self.timeout_s) as resp:
                payload = resp.read()
                if resp.status == 204:
                    return None
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", errors="replace")
            raise HttpError(exc.code, text) from exc
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise TransportError(f"{method} {url}: {exc}") from exc
        if self._disabled.is_set():
            raise TransportError("client disabled")
        if raw:
            return payload
        return json.loads(payload) if payload.strip() else None

    # -- protocol

    def register(self, name: str, labels: list[str]) -> dict[str, Any]:
        return self.request("POST", "/_runner/register", {"name": name, "labels": labels})

    def heartbeat(self, runner_id: int, session: str) -> dict[str, Any]:
        return self.request("POST", f"/_runner/{runner_id}/heartbeat", {"session": session})

    def acquire(self, runner_id: int, session: str, wait_s: float) -> dict[str, Any] | None:
        return self.request(
            "POST",
            f"/_runner/{runner_id}/acquire",
            {"session": session, "wait_s": wait_s},
            timeout_s=wait_s + self.timeout_s,
        )

    def renew(self, job_id: int, token: str) -> dict[str, Any]:
        return self.request("POST", f"/_runner/jobs/{job_id}/renew", {"token": token})

    def step_start(self, job_id: int, token: str, number: int, name: str) -> dict[str, Any]:
        return self.request("POST", f"/_runner/jobs/{job_id}/steps/{number}/start", {"token": token, "name": name})

    def step_complete(
        self, job_id: int, token: str, number: int, name: str, outcome: str, conclusion: str
    ) -> dict[str, Any]:
        return self.request(
            "POST",
            f"/_runner/jobs/{job_id}/steps/{number}/complete",
            {"token": token, "name": name, "outcome": outcome, "conclusion": conclusion},
        )

    def logs(self, job_id: int, token: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        return self.request("POST", f"/_runner/jobs/{job_id}/logs", {"token": token, "lines": lines})

    def complete(
        self,
        job_id: int,
        token: str,
        conclusion: str,
        outputs: dict[str, str],
        annotations: list[dict[str, str]],
        summary: str,
    ) -> dict[str, Any]:
        return self.request(
            "POST",
            f"/_runner/jobs/{job_id}/complete",
            {
                "token": token,
                "conclusion": conclusion,
                "outputs": outputs,
                "annotations": annotations,
                "summary": summary,
            },
        )

    def download(self, url: str, timeout_s: float = 120.0) -> bytes:
        return self.request("GET", url, timeout_s=timeout_s, raw=True)
