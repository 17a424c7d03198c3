"""Client of the Prometheus HTTP API."""

from __future__ import annotations

from typing import Any

import httpx

from harness.core.errors import TopologyError


class PrometheusClient:
    """Queries one Prometheus server."""

    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()

    def ready(self) -> bool:
        """True when Prometheus reports ready."""
        try:
            return self._http.get("/-/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; returns `data.result`."""
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        response = self._http.get("/api/v1/query", params=params)
        body = response.json() if response.content else {}
        if response.status_code != 200 or body.get("status") != "success":
            raise TopologyError(f"Prometheus query {promql!r} failed ({response.status_code}): {response.text[:300]}")
        return list(body["data"]["result"])

    def samples(self, selector: str, window_s: float) -> list[tuple[float, float]]:
        """Raw samples (timestamp seconds, value) of `selector` over the last `window_s`, one series."""
        result = self.query(f"{selector}[{max(1, int(window_s))}s]")
        if not result:
            return []
        return [(float(ts), float(value)) for ts, value in result[0]["values"]]

    def alertmanagers_active(self) -> int:
        """How many Alertmanagers Prometheus currently sends alerts to."""
        response = self._http.get("/api/v1/alertmanagers")
        return len(response.json()["data"]["activeAlertmanagers"])

    def series_samples(self, selector: str, window_s: float) -> list[dict[str, Any]]:
        """Every series matching `selector` over the last `window_s`, with raw (ts, value) samples."""
        return [
            {"metric": r["metric"], "values": [(float(t), float(v)) for t, v in r["values"]]}
            for r in self.query(f"{selector}[{max(1, int(window_s))}s]")
        ]

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets."""
        response = self._http.get("/api/v1/targets", params={"state": "active"})
        return list(response.json()["data"]["activeTargets"])
