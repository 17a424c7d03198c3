"""A read-only view over journal entries: the only input of a checker.

Checkers never talk to GitHub, Prometheus or production: they ask a `History` for what was
recorded. When an observation a verdict needs was never recorded, the query raises
`MissingObservation`, which the enforcement point turns into an inconclusive verdict: a
journal that lacks the data can never yield a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from harness.core.errors import HarnessError


class MissingObservation(HarnessError):
    """The journal holds no record of an observation a verdict depends on."""


@dataclass(frozen=True)
class FaultWindow:
    """When a fault took effect and (if it did) when it was reverted."""

    fault_id: str
    fault: str
    onset_ms: int
    reverted_ms: int | None
    details: dict[str, Any]
    injected_ms: int | None = None


class History:
    """Journal entries of one window (a scenario), with the queries checkers need."""

    def __init__(self, entries: Sequence[dict[str, Any]]) -> None:
        self.entries = list(entries)

    def of(self, op: str, kind: str | None = None) -> list[dict[str, Any]]:
        """Entries of operation `op` (and type `kind`), in order."""
        return [e for e in self.entries if e["op"] == op and (kind is None or e["type"] == kind)]

    def last(self, op: str, what: str, **match: Any) -> dict[str, Any]:
        """The newest entry of `op` whose fields equal `match`; MissingObservation naming `what` if none."""
        found = [e for e in self.of(op) if all(e.get(k) == v for k, v in match.items())]
        if not found:
            raise MissingObservation(f"the journal has no record of {what}")
        return found[-1]

    # --- GitHub ---
    def github_events(self, run_id: int | None = None) -> list[dict[str, Any]]:
        """The simulated GitHub's events journalled in this window (of one run, if given)."""
        events = [e["event"] for e in self.of("github.event")]
        return [e for e in events if run_id is None or e.get("run_id") == run_id]

    def trigger_ms(self, run_id: int) -> int:
        """When the harness asked for run `run_id` (the deploy.trigger invoke entry)."""
        ok = self.last("deploy.trigger", f"the trigger of run {run_id}", run_id=run_id)
        invokes = [e for e in self.of("deploy.trigger", "invoke") if e["seq"] < ok["seq"]]
        return int(invokes[-1]["ts_ms"] if invokes else ok["ts_ms"])

    def run(self, run_id: int) -> dict[str, Any]:
        """The last recorded state of workflow run `run_id`."""
        return dict(self.last("github.run", f"workflow run {run_id}", run_id=run_id)["run"])

    def run_completed(self, run_id: int) -> dict[str, Any]:
        """The recorded state of run `run_id` once completed; MissingObservation if never seen completed."""
        done = [
            e["run"]
            for e in self.of("github.run")
            if e.get("run_id") == run_id and e["run"].get("status") == "completed"
        ]
        if not done:
            raise MissingObservation(f"the journal never saw workflow run {run_id} completed")
        return dict(done[-1])

    def jobs(self, run_id: int) -> list[dict[str, Any]]:
        """The last recorded job list of run `run_id`."""
        return list(self.last("github.jobs", f"the jobs of run {run_id}", run_id=run_id)["jobs"])

    def job_log(self, job_id: int) -> str:
        """The last recorded log of job `job_id`."""
        return str(self.last("github.job_log", f"the log of job {job_id}", job_id=job_id)["log"])

    def job_detail(self, job_id: int) -> dict[str, Any]:
        """The last recorded simulator view of job `job_id` (summary, annotations, outputs)."""
        return dict(self.last("github.job", f"the detail of job {job_id}", job_id=job_id)["job"])

    def run_evidence(self, run_id: int) -> dict[str, Any]:
        """What the journal holds of a run: its jobs with their conclusions and log tails (for findings)."""
        try:
            jobs = self.jobs(run_id)
        except MissingObservation:
            return {"run_id": run_id, "jobs": "not recorded"}
        out = []
        for job in jobs:
            keep = {k: job.get(k) for k in ("name", "status", "conclusion", "runner_name", "labels")}
            logs = [e["log"] for e in self.of("github.job_log") if e.get("job_id") == job.get("id")]
            out.append(keep | {"log_tail": logs[-1][-3000:] if logs else "not recorded"})
        return {"run_id": run_id, "jobs": out}

    def observed_until(self, source: str) -> int:
        """Up to when (wall ms) `source` was watched: the newest watch.end entry of it, else 0."""
        ends = [int(e["until_ms"]) for e in self.of("watch.end") if e.get("source") == source]
        return max(ends, default=0)

    # --- faults ---
    def faults(self) -> list[FaultWindow]:
        """Every fault that took effect in this window, in order of onset."""
        reverts = {e["fault_id"]: int(e["ts_ms"]) for e in self.of("fault.revert", "ok") if "fault_id" in e}
        injected = {e["fault_id"]: int(e["ts_ms"]) for e in self.of("fault.injected") if "fault_id" in e}
        windows = []
        for e in self.of("fault.inject", "ok"):
            details = {k: v for k, v in e.items() if k not in ("v", "seq", "type", "op", "ts_ms", "mono_ns")}
            windows.append(
                FaultWindow(
                    e["fault_id"],
                    e["fault"],
                    int(e["ts_ms"]),
                    reverts.get(e["fault_id"]),
                    details,
                    injected.get(e["fault_id"]),
                )
            )
        return windows

    def fault(self, fault_id: str) -> FaultWindow:
        """The window of fault `fault_id`."""
        for window in self.faults():
            if window.fault_id == fault_id:
                return window
        raise MissingObservation(f"the journal has no fault {fault_id} that took effect")

    def first_fault(self) -> FaultWindow:
        """The first fault of the window (its onset is the scenario's fault onset)."""
        faults = self.faults()
        if not faults:
            raise MissingObservation("the journal has no fault that took effect in this scenario")
        return faults[0]

    # --- Prometheus ---
    def series(self, selector: str) -> list[dict[str, Any]]:
        """Every series recorded for range queries of `selector`: metric labels and (ts, value) samples, merged."""
        merged: dict[str, dict[str, Any]] = {}
        polled = False
        for e in self.of("prometheus.range"):
            if e.get("selector") != selector:
                continue
            polled = True
            for s in e.get("series", []):
                key = repr(sorted(s["metric"].items()))
                merged.setdefault(key, {"metric": s["metric"], "values": {}})
                for ts, value in s["values"]:
                    merged[key]["values"][float(ts)] = float(value)
        if not polled:
            raise MissingObservation(f"the journal has no Prometheus samples of {selector}")
        return [{"metric": m["metric"], "values": sorted(m["values"].items())} for m in merged.values()]

    def samples(self, selector: str) -> list[tuple[float, float]]:
        """The samples (ts seconds, value) of the one series of `selector` (empty if it had none)."""
        series = self.series(selector)
        return list(series[0]["values"]) if series else []

    def prometheus_observed_until(self, selector: str) -> int:
        """Wall ms of the newest recorded poll of `selector`."""
        polls = [int(e["ts_ms"]) for e in self.of("prometheus.range") if e.get("selector") == selector]
        if not polls:
            raise MissingObservation(f"the journal has no Prometheus samples of {selector}")
        return max(polls)

    # --- production, on-call ---
    def production_samples(self, probe: str) -> list[dict[str, Any]]:
        """Production probes of kind `probe` (version, health, answers), in order."""
        return [e for e in self.of("production.sample") if e.get("probe") == probe]

    def last_production(self, probe: str) -> dict[str, Any]:
        """The newest production probe of kind `probe`."""
        samples = self.production_samples(probe)
        if not samples:
            raise MissingObservation(f"the journal has no production {probe} sample")
        return samples[-1]

    def baseline_version(self) -> str | None:
        """The version production served when the scenario's precondition was checked."""
        return self.last("scenario.baseline", "the production version before the scenario acted")["version"]

    def state_file(self) -> dict[str, Any]:
        """The newest recorded read of production's state file: {"state": ...} or {"error": ...}."""
        return self.last("production.state_file", "a read of the production state file")

    def oncall_messages(self) -> list[dict[str, Any]]:
        """Every message the webhook sink received, journalled in this window."""
        return [e["message"] for e in self.of("oncall.message")]
