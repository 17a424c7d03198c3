"""Timeouts: runner heartbeats, job leases, queued jobs with no runner. Runs in a thread."""

from __future__ import annotations

import threading
import time

from harness.github.engine import Engine
from harness.github.matching import RunnerView, eligible_runners
from harness.github.state import Job

LOST_COMMUNICATION = "The runner has lost communication with the server"


class Monitor:
    """Checks the configured timers every `monitor_interval_s` in a daemon thread."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sim-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.tick()
            self._stop.wait(self.store.config.monitor_interval_s)

    def tick(self, now: float | None = None) -> None:
        """One check of every timer (monotonic `now`)."""
        now = time.monotonic() if now is None else now
        with self.store.lock:
            self._check_heartbeats(now)
            self._check_leases(now)
            self._check_queue(now)
            self.engine.settle()

    def _check_heartbeats(self, now: float) -> None:
        timeout = self.store.config.heartbeat_timeout_s
        for runner in self.store.runners.values():
            if runner.online and now - runner.last_seen > timeout:
                runner.online = False
                self.store.emit(
                    "runner.offline",
                    runner_id=runner.id,
                    runner_name=runner.name,
                    reason="heartbeat_timeout",
                    current_job=runner.current_job,
                    silent_s=round(now - runner.last_seen, 3),
                )

    def _check_leases(self, now: float) -> None:
        timeout = self.store.config.lease_timeout_s
        for job in list(self.store.jobs.values()):
            if job.status == "in_progress" and now - job.lease_renewed > timeout:
                self._expire(job, now)

    def _expire(self, job: Job, now: float) -> None:
        message = (
            f"{LOST_COMMUNICATION}. The self-hosted runner: {job.runner_name} lost communication "
            "with the server. Verify the machine is running and has a healthy network connection."
        )
        self.store.emit(
            "job.lease_expired",
            **self.store.job_event_fields(job),
            runner_id=job.runner_id,
            runner_name=job.runner_name,
            silent_s=round(now - job.lease_renewed, 3),
        )
        job.log.append((time.time(), f"##[error]{message}"))
        self.engine.finish_job(job, "failure", message)

    def _check_queue(self, now: float) -> None:
        timeout = self.store.config.queue_timeout_s
        runners = [RunnerView(r.id, r.name, r.labels, r.online, r.busy) for r in self.store.runners.values()]
        for job in list(self.store.jobs.values()):
            if job.status != "queued":
                continue
            if eligible_runners(job.labels, runners):
                job.unmatched_since = None
            elif job.unmatched_since is None:
                job.unmatched_since = now
            elif now - job.unmatched_since >= timeout:
                labels = ", ".join(job.labels)
                message = (
                    f"The job was not started because no online, idle runner with all of the labels "
                    f"[{labels}] was available within {timeout:g} s (queue timeout)."
                )
                self.store.emit(
                    "job.queue_timeout",
                    **self.store.job_event_fields(job),
                    labels=list(job.labels),
                    waited_s=round(now - job.unmatched_since, 3),
                )
                self.engine.finish_job(job, "failure", message)
