"""Client of the Prometheus HTTP API."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from harness.core.errors import TopologyError
from harness.core.journal import Journal
from harness.drivers.recording import HttpDriver

SeriesKey = tuple[str, tuple[tuple[str, str], ...]]


def _labels_key(metric: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v)) for k, v in metric.items()))


class PrometheusClient(HttpDriver):
    """Queries one Prometheus server.

    With a `journal`, every answer is journalled: `prometheus.query` (instant queries),
    `prometheus.range` (the samples behind `samples`/`series_samples`, each sample once per
    selector) and `prometheus.ready`.
    """

    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        *,
        journal: Journal | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(base_url, timeout, journal, transport)
        # (selector, metric labels) -> timestamp of the newest sample journalled for it
        self._newest: dict[SeriesKey, float] = {}

    def ready(self) -> bool:
        """True when Prometheus reports ready."""
        try:
            ready = self._http.get("/-/ready", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            ready = False
        self._recorder.record("prometheus.ready", ready=ready)
        return ready

    def _query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"query": promql}
        if at is not None:
            params["time"] = at
        response = self._http.get("/api/v1/query", params=params)
        body = response.json() if response.content else {}
        if response.status_code != 200 or body.get("status") != "success":
            raise TopologyError(f"Prometheus query {promql!r} failed ({response.status_code}): {response.text[:300]}")
        return list(body["data"]["result"])

    def query(self, promql: str, at: float | None = None) -> list[dict[str, Any]]:
        """An instant query; returns `data.result`."""
        result = self._query(promql, at)
        self._recorder.record("prometheus.query", query=promql, at=None if at is None else float(at), result=result)
        return result

    def _range(self, selector: str, window_s: float) -> list[dict[str, Any]]:
        """Every series of `selector[window]` with float (ts, value) samples; journals the new samples."""
        series = [
            {"metric": dict(r["metric"]), "values": [(float(t), float(v)) for t, v in r["values"]]}
            for r in self._query(f"{selector}[{max(1, int(window_s))}s]")
        ]
        self._record_range(selector, window_s, series)
        return series

    def _record_range(self, selector: str, window_s: float, series: list[dict[str, Any]]) -> None:
        """Journal `prometheus.range` with only the samples newer than those already journalled."""
        recorder = self._recorder
        if recorder.journal is None:
            return
        with recorder.lock:
            fresh: list[dict[str, Any]] = []
            for one in series:
                key: SeriesKey = (selector, _labels_key(one["metric"]))
                newest = self._newest.get(key)
                values = [[ts, value] for ts, value in one["values"] if newest is None or ts > newest]
                if values:
                    self._newest[key] = max(ts for ts, _ in values)
                fresh.append({"metric": copy.deepcopy(one["metric"]), "values": values})
            recorder.journal.info("prometheus.range", selector=selector, window_s=window_s, series=fresh)

    def samples(self, selector: str, window_s: float) -> list[tuple[float, float]]:
        """Raw samples (timestamp seconds, value) of `selector` over the last `window_s`, one series."""
        result = self._range(selector, window_s)
        if not result:
            return []
        return list(result[0]["values"])

    def alertmanagers_active(self) -> int:
        """How many Alertmanagers Prometheus currently sends alerts to."""
        response = self._http.get("/api/v1/alertmanagers")
        return len(response.json()["data"]["activeAlertmanagers"])

    def series_samples(self, selector: str, window_s: float) -> list[dict[str, Any]]:
        """Every series matching `selector` over the last `window_s`, with raw (ts, value) samples."""
        return self._range(selector, window_s)

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets."""
        response = self._http.get("/api/v1/targets", params={"state": "active"})
        return list(response.json()["data"]["activeTargets"])
